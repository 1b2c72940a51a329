"""The web app's errors to Sentry, in a real Chromium against a `pitchey serve` whose SENTRY_DSN
points at a local ingest endpoint (tests/sentry_capture.py): nothing leaves the machine.

A page that fails to render (the browse API's answer is made malformed for this page only, with
Playwright's routing: a fault injected on the wire, not a switch in the app) shows the route's error
page, and the SDK, loaded only then, posts an event with the server's release and environment and
without the signed-in person's email, which is in the page's URL. A page that does not fail loads
neither the configuration nor the SDK.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fault_helpers import Node, node_env
from playwright.sync_api import expect
from sentry_capture import SentryCapture, tags

from pitchey.server.observability import release

from .conftest import _run_sync


@dataclass
class SentryNode:
    node: Node
    capture: SentryCapture

    @property
    def url(self) -> str:
        return self.node.base


@pytest.fixture(scope="module")
def sentry_node(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentryNode]:
    """A second node on the live server's database and web build, reporting to a capture server."""
    capture = SentryCapture().start()
    base: Path = tmp_path_factory.mktemp("sentry-node")
    (base / "data").mkdir()
    (base / "logs").mkdir()
    env = node_env(
        live_server.dsn,
        base / "data",
        PITCHEY_WEB_DIR=live_server.node.env["PITCHEY_WEB_DIR"],
        PITCHEY_DB_TIMEOUT="10",
        SENTRY_DSN=capture.dsn,
        SENTRY_ENVIRONMENT="browser-test",
    )
    node = Node("sentry", env, base / "logs").start()
    try:
        _run_sync(node.wait_healthy(60))
        yield SentryNode(node, capture)
    finally:
        node.terminate()
        try:
            _run_sync(node.wait_exit(15))
        except AssertionError:
            node.kill()
        capture.stop()


def malformed_browse(route: Any) -> None:
    """The browse answer with its list missing: the page's render throws a TypeError."""
    body = {"success": True, "data": {"items": None}, "meta": {"requestId": "web-browse-0001"}}
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def test_a_render_error_posts_an_event_with_the_release_and_no_email(
    new_context, sentry_node, api_register, shot
):
    email = f"web-sentry-{uuid.uuid4().hex[:8]}@example.com"
    ctx = new_context(base_url=sentry_node.url)
    api_register(ctx, "investor", email=email)
    page = ctx.new_page()
    page.route("**/api/pitches/browse**", malformed_browse)

    page.goto(f"/browse?q={quote(email)}")
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    shot(page, "sentry-route-error")

    event = sentry_node.capture.wait_for(lambda e: tags(e).get("kind") == "render")
    assert event["release"] == release()
    assert event["environment"] == "browser-test"
    assert event["exception"]["values"][-1]["type"] == "TypeError"
    assert event["request"]["url"].endswith("/browse?q=[email]")
    raw = sentry_node.capture.raw().decode("utf-8", "replace")
    for leak in (email, quote(email), quote(email, safe=""), email.split("@")[0]):
        assert leak not in raw, f"{leak!r} reached Sentry"


def test_a_page_that_does_not_fail_loads_no_sentry(new_context, sentry_node):
    ctx = new_context(base_url=sentry_node.url)
    page = ctx.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/browse")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert not [u for u in requested if "/api/config" in u or "sentrySdk" in u], requested


def test_with_reporting_off_a_render_error_loads_no_sdk(new_context, live_server):
    """The shared live server has no SENTRY_DSN: the first error asks /api/config, which says
    reporting is off, and the SDK's chunk is never fetched."""
    page = new_context().new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.route("**/api/pitches/browse**", malformed_browse)
    with page.expect_response("**/api/config") as config:
        page.goto("/browse")
        expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    assert config.value.json()["data"]["sentry"] is None
    page.wait_for_load_state("networkidle")
    assert not [u for u in requested if "sentrySdk" in u], requested
