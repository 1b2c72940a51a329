"""/ops in a real browser against a real `pitchey serve`: an operator (granted with the real
`pitchey operator add`) watches the numbers move when another person subscribes to a pitch and
acts in it, opens the room view, and loses the page live when `pitchey operator remove` runs;
anyone else gets the page's refusal in words, and 403 from its data endpoint."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.viewports  # desktop and 390x844

LIVE = 10_000  # ms
# A tile's number went above n (the tiles read "1,234").
GROWN = "([id, n]) => Number(document.querySelector(`[data-testid=${id}]`).textContent.replace(/,/g, '')) > n"


def operator_cli(live_server, action: str, email: str) -> str:
    """What an administrator runs on the server: the CLI, on the node's database."""
    proc = subprocess.run(
        [sys.executable, "-m", "pitchey.server.cli", "operator", action, email],
        env=live_server.node.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_an_operator_sees_the_numbers_move(
    new_context, api_register, api_create_published_pitch, live_server, axe_check, shot
):
    creator = new_context()
    api_register(creator, "creator", name="Cleo Creator")
    pitch = api_create_published_pitch(creator)
    room = f"pitch:{pitch['id']}"

    op_ctx = new_context()
    op = api_register(op_ctx, "investor", name="Olga Operator")
    assert "now an operator" in operator_cli(live_server, "add", op["email"])
    page = op_ctx.new_page()
    page.goto("/ops")
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
    expect(page.get_by_test_id("ops-updated")).to_contain_text("Live · updated", timeout=LIVE)
    connections = page.get_by_test_id("ops-connections")
    subscribers = page.get_by_test_id("ops-subscribers")
    before = number(connections.inner_text())
    subs_before = number(subscribers.inner_text())

    # Another person opens the pitch: a connection, and a subscription to its room.
    viewer_ctx = new_context()
    api_register(viewer_ctx, "production", name="Pavel Producer", companyName="Pavel Films")
    viewer = viewer_ctx.new_page()
    viewer.goto(f"/pitches/{pitch['id']}")
    expect(viewer.get_by_test_id("presence")).to_contain_text("viewing now", timeout=LIVE)
    page.wait_for_function(GROWN, arg=["ops-connections", before], timeout=LIVE)
    page.wait_for_function(GROWN, arg=["ops-subscribers", subs_before], timeout=LIVE)
    row = page.get_by_role("row", name=re.compile(re.escape(room)))
    expect(row).to_be_visible(timeout=LIVE)

    # It acts in the room (likes, unlikes): the operator sees events and deliveries per second
    # leave zero. A rate holds for one second, so act until one frame shows it.
    events = page.get_by_test_id("ops-events")
    like = f"{live_server.url}/api/pitches/{pitch['id']}/like"
    deadline = time.monotonic() + 20
    liked = False
    seen = False
    while time.monotonic() < deadline and not seen:
        resp = viewer_ctx.request.delete(like) if liked else viewer_ctx.request.post(like)
        assert resp.ok, resp.text()
        liked = not liked
        for _ in range(4):
            page.wait_for_timeout(250)
            if events.inner_text() != "0.0":
                seen = True
                break
    assert seen, f"events per second never left 0.0: {page.get_by_test_id('ops-events').inner_text()}"
    expect(page.get_by_role("img", name=re.compile("^Throughput over the last"))).to_be_visible()
    axe_check(page, "ops (operator)")
    shot(page, "ops-operator")

    # The room view: its live subscribers and who is present.
    row.get_by_role("button", name=f"Watch room {room}").click()
    expect(page).to_have_url(re.compile(rf"/ops\?room=pitch(%3A|:){pitch['id']}$"))
    view = page.get_by_test_id("ops-room-view")
    expect(view.get_by_test_id("ops-room-subscribers")).to_have_text("1", timeout=LIVE)
    presence = view.get_by_test_id("ops-room-presence")
    expect(presence).to_contain_text("(production), 1 connection", timeout=LIVE)
    axe_check(page, "ops room view")
    shot(page, "ops-room-view")

    # A room name that is not one is refused in words; what was typed stays.
    field = page.get_by_label("Room", exact=True)
    field.fill("pitch:abc")
    page.get_by_role("button", name="Watch room", exact=True).click()
    expect(page.get_by_text("Enter a room as pitch:42, user:7 or project:3.")).to_be_visible()
    expect(field).to_have_value("pitch:abc")

    # The role is revoked on the server: the open page loses the figures and says why, unreloaded.
    page.evaluate("() => { window.__sameDocument = true; }")
    assert "no longer an operator" in operator_cli(live_server, "remove", op["email"])
    expect(page.get_by_text("Operators only.")).to_be_visible(timeout=LIVE)
    expect(page.get_by_test_id("ops-connections")).to_have_count(0)
    assert page.evaluate("() => window.__sameDocument === true")


def test_anyone_else_is_told_operators_only(new_context, api_register, live_server, axe_check, shot):
    ctx = new_context()
    api_register(ctx, "creator", name="Nora Notop")
    page = ctx.new_page()
    page.goto("/ops")
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
    expect(page.get_by_text("Operators only.")).to_be_visible()
    expect(page.get_by_text("pitchey operator add EMAIL")).to_be_visible()
    expect(page.get_by_test_id("ops-connections")).to_have_count(0)
    resp = ctx.request.get(f"{live_server.url}/api/ops/overview")
    assert resp.status == 403
    assert "Operators only" in resp.json()["error"]["message"]
    axe_check(page, "ops (not an operator)")
    shot(page, "ops-refused")
