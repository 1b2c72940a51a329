"""Errors to Sentry (server/observability.py), against a real ingest endpoint on loopback.

The server under test gets `SENTRY_DSN=http://<key>@127.0.0.1:<port>/1` of `SentryCapture`
(tests/sentry_capture.py), so the SDK's own transport posts real envelopes over a real socket and
nothing leaves the machine. What is checked: a 500 arrives with its request id and without any
secret the request carried (Authorization, cookie, password, email, a token in the exception
text); a room actor crash arrives with its room and node; a WebSocket session error with its
request id and room (the client is closed with 1011); with SENTRY_DSN unset nothing is sent.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import sentry_sdk
from aiohttp import web
from conftest import register_user
from realtime_helpers import connect, make_pitch, realtime, user
from sentry_capture import SentryCapture, tags

from pitchey.rooms.room import PitchRoom
from pitchey.server import observability
from pitchey.server.observability import FILTERED, node_name, release, scrub
from pitchey.server.settings import SettingsError, load_settings
from pitchey.server.state import APP_STATE

SECRET_PASSWORD = "hunter2-Sentry-Must-Not-See"
SECRET_EMAIL = "private.person@example.com"
OTHER_EMAIL = "someone.else@example.org"


@pytest.fixture
def capture() -> Iterator[SentryCapture]:
    """First in every test's arguments: set up before the app, so torn down after it (a test
    that fails before stopping its app still flushes to a live endpoint)."""
    server = SentryCapture().start()
    try:
        yield server
    finally:
        server.stop()


def add_crashing_route(app: web.Application) -> None:
    """A throwaway route (this test's app only) whose handler breaks with secrets in its message."""

    async def boom(request: web.Request) -> web.Response:
        body = await request.json()
        token = request.headers.get("Authorization", "")
        raise RuntimeError(f"could not save {body['email']} password={body['password']} ({token})")

    app.router.add_post("/test/boom", boom)


async def stop_app(client: Any) -> None:
    """Close the client's server now: the app's cleanup flushes and closes the Sentry client."""
    await client.close()


def app_settings(client: Any) -> Any:
    return client.server.app[APP_STATE].settings


def secrets_in(raw: bytes, *secrets: str) -> list[str]:
    text = raw.decode("utf-8", "replace")
    return [s for s in secrets if s in text]


async def test_a_500_arrives_with_its_request_id_and_no_secret(capture, app_factory, make_client):
    app = app_factory(sentry_dsn=capture.dsn, sentry_environment="test-env")
    add_crashing_route(app)
    client = await make_client(app)
    account, token = await register_user(client, "creator", email=SECRET_EMAIL, password=SECRET_PASSWORD)
    assert account["email"] == SECRET_EMAIL  # the person the request below carries secrets of
    assert observability.enabled()

    resp = await client.post(
        "/test/boom",
        json={"email": SECRET_EMAIL, "password": SECRET_PASSWORD, "note": f"or write to {OTHER_EMAIL}"},
        headers={
            "Authorization": f"Bearer {token}",
            "Cookie": f"pitchey_session={token}; theme=dark",
            "X-Request-Id": "sentry-test-500-0001",
        },
    )
    assert resp.status == 500
    assert resp.headers["X-Request-Id"] == "sentry-test-500-0001"
    body = await resp.json()
    assert body["error"]["code"] == "INTERNAL"

    event = await capture.await_for(lambda e: tags(e).get("request_id") == "sentry-test-500-0001")
    assert tags(event)["node"] == node_name(app_settings(client))
    assert tags(event)["kind"] == "http"
    assert event["release"] == release() and event["environment"] == "test-env"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    # The aiohttp integration described the request; its secrets are gone, the rest is there.
    request = event["request"]
    assert request["method"] == "POST" and request["url"].endswith("/test/boom")
    headers = {k.lower(): v for k, v in dict(request["headers"]).items()}
    assert headers.get("authorization") in (None, FILTERED)
    assert headers.get("cookie") in (None, FILTERED)
    assert "[email]" in event["exception"]["values"][-1]["value"]

    await stop_app(client)  # flush everything still queued (sessions, client reports)
    raw = capture.raw()
    assert raw, "nothing was captured"
    jwt_parts = token.split(".")
    leaked = secrets_in(raw, token, *jwt_parts[1:], SECRET_PASSWORD, SECRET_EMAIL, OTHER_EMAIL, "@example.")
    assert leaked == [], f"secrets in the envelopes: {leaked}"
    # Not even encoded.
    assert base64.urlsafe_b64encode(SECRET_EMAIL.encode()).decode().rstrip("=") not in raw.decode()


async def test_a_room_actor_crash_arrives_with_its_room_and_node(capture, make_client, monkeypatch):
    client = await make_client(sentry_dsn=capture.dsn)
    _, owner_token = await user(client, "creator")
    _, investor_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    hub = realtime(client).hub
    assert hub.failure_hook is observability.report_room_crash

    calls = {"n": 0}
    original = PitchRoom.set_like

    async def flaky(self: PitchRoom, user_id: int, liked: bool) -> Any:
        # The crash is provoked the way tests/test_realtime_recovery.py does: in this test only.
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated room crash")
        return await original(self, user_id, liked)

    monkeypatch.setattr(PitchRoom, "set_like", flaky)
    resp = await client.post(
        f"/api/pitches/{pitch['id']}/like",
        json={},
        headers={"Authorization": f"Bearer {investor_token}", "X-Request-Id": "sentry-test-room-0001"},
    )
    await resp.read()
    assert resp.status == 500

    crash = await capture.await_for(lambda e: tags(e).get("kind") == "room")
    assert tags(crash)["room"] == room
    assert tags(crash)["node"] == node_name(app_settings(client))
    assert "request_id" not in tags(crash)  # the room's own context: no request leaks in
    assert crash["exception"]["values"][-1]["value"] == "simulated room crash"
    # The REST call that hit it is its own observation: a 500 with the call's request id.
    failed_call = await capture.await_for(lambda e: tags(e).get("request_id") == "sentry-test-room-0001")
    assert failed_call["exception"]["values"][-1]["value"] == "simulated room crash"
    await stop_app(client)
    assert secrets_in(capture.raw(), owner_token, investor_token, "@example.") == []


async def test_a_websocket_session_error_arrives_with_request_id_and_room(capture, make_client, monkeypatch):
    client = await make_client(sentry_dsn=capture.dsn)
    _, token = await user(client, "investor")
    _, owner_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"

    async def broken_authorize(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("session bug while subscribing")

    conn = await connect(client, token, headers={"X-Request-Id": "sentry-test-ws-0001"})
    monkeypatch.setattr("pitchey.server.ws.authorize", broken_authorize)
    await conn.send("subscribe", room)
    msg = await conn.ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert conn.ws.close_code == 1011

    event = await capture.await_for(lambda e: tags(e).get("kind") == "websocket")
    assert tags(event)["request_id"] == "sentry-test-ws-0001"
    assert tags(event)["room"] == room
    assert tags(event)["node"] == node_name(app_settings(client))
    assert event["exception"]["values"][-1]["value"] == "session bug while subscribing"
    await stop_app(client)
    assert secrets_in(capture.raw(), token, owner_token) == []


async def test_traced_requests_arrive_scrubbed_and_access_lines_are_no_breadcrumbs(capture, make_client):
    client = await make_client(sentry_dsn=capture.dsn, sentry_traces_sample_rate=1.0)
    _, token = await user(client, "creator")
    resp = await client.get(
        f"/api/pitches/browse?q={OTHER_EMAIL}", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 200
    resp = await client.get("/ws?ticket=t-secret-ticket")  # a one-time ticket in a URL, refused
    assert resp.status == 401
    await stop_app(client)  # flushes the transactions
    transactions = capture.events("transaction")
    assert any(t.get("transaction") == "GET /api/pitches/browse" for t in transactions), [
        t.get("transaction") for t in transactions
    ]
    raw = capture.raw()
    assert secrets_in(raw, token, "t-secret-ticket", OTHER_EMAIL, OTHER_EMAIL.replace("@", "%40")) == []
    assert b"pitchey.access" not in raw


async def test_off_when_sentry_dsn_is_unset(capture, app_factory, make_client):
    app = app_factory()
    add_crashing_route(app)
    client = await make_client(app)
    assert not observability.enabled()
    assert realtime(client).hub.failure_hook is None
    resp = await client.post(
        "/test/boom",
        json={"email": SECRET_EMAIL, "password": SECRET_PASSWORD},
        headers={"X-Request-Id": "off-1"},
    )
    assert resp.status == 500
    # The SDK has no client that could send: no transport, no worker thread.
    assert sentry_sdk.get_client().transport is None
    await stop_app(client)
    await asyncio.sleep(0.2)
    assert capture.requests == 0


async def test_a_stopped_app_leaves_no_sentry_client_behind(capture, make_client):
    client = await make_client(sentry_dsn=capture.dsn)
    assert observability.enabled()
    await stop_app(client)
    assert not observability.enabled()


def test_scrub_removes_secrets_anywhere() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXBhcnQ"
    event = {
        "request": {
            "headers": {"Authorization": f"Bearer {jwt}", "Cookie": "pitchey_session=abc", "Accept": "*/*"},
            "cookies": {"pitchey_session": "abc"},
            "data": '{"email": "a.b@example.com", "password": "pw-123", "title": "Rain"}',
            "query_string": "ticket=t-123&page=2",
        },
        "extra": {"user_email": "a.b@example.com", "nested": [{"token": "x"}, ("Set-Cookie", "s=1")]},
        "exception": {"values": [{"value": f"login failed for c.d@example.net with {jwt}"}]},
        "breadcrumbs": {"values": [{"message": "password=pw-123 sent", "data": {"url": "/x?q=e%40f.io"}}]},
        "tags": {"room": "pitch:7", "request_id": "r-1"},
    }
    clean = scrub(event)
    text = repr(clean)
    for secret in (jwt, "abc", "a.b@example.com", "pw-123", "t-123", "c.d@example.net", "e%40f.io", "s=1"):
        assert secret not in text, secret
    assert clean["request"]["headers"]["Accept"] == "*/*"
    assert clean["tags"] == {"room": "pitch:7", "request_id": "r-1"}
    assert '"title": "Rain"' in clean["request"]["data"]
    assert "page=2" in clean["request"]["query_string"]


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("SENTRY_DSN", "not a dsn"),
        ("SENTRY_DSN", "https://sentry.example.com/1"),  # no key
        ("SENTRY_DSN", "https://key@sentry.example.com/"),  # no project
        ("SENTRY_WEB_DSN", "ftp://key@sentry.example.com/1"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.5"),
        ("SENTRY_ENVIRONMENT", "has space"),
    ],
)
def test_bad_sentry_settings_stop_the_server_naming_the_variable(monkeypatch, env, value) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError, match=f"invalid {env}"):
        load_settings()


def test_sentry_settings_defaults(monkeypatch) -> None:
    for name in ("SENTRY_DSN", "SENTRY_WEB_DSN", "SENTRY_ENVIRONMENT", "SENTRY_TRACES_SAMPLE_RATE"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.sentry_dsn is None and s.sentry_web_dsn is None
    assert s.sentry_environment == "production" and s.sentry_traces_sample_rate == 0.0
