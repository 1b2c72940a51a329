"""Journey 6, sign out, in a real browser against a real `pitchey serve`.

One person, one browser session (one context, so one session cookie), two tabs, both signed in and
live. Signing out in one tab revokes the session; the server closes the live connection of the
other tab with 4001, and that tab shows the person signed out ("Sign in" in the header, the
portal's page replaced by its login) without a reload, and does not reconnect.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.viewports  # each journey also runs at 390x844

# Records the close code of every WebSocket the page opens (the page's own code is unchanged:
# the class only listens). Added as an init script, outside the page's CSP.
_RECORD_CLOSES = """
(() => {
  const Native = window.WebSocket;
  window.__wsCloses = [];
  window.__wsOpened = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__wsOpened += 1;
      this.addEventListener("close", (e) => window.__wsCloses.push(e.code));
    }
  };
})();
"""


def _open_live(ctx: Any, path: str) -> tuple[Any, Any]:
    """A new tab at `path`, returned once its live connection said `connected`."""
    page = ctx.new_page()
    seen: dict[str, Any] = {"ws": None, "connected": False}

    def on_socket(ws: Any) -> None:
        if "/ws" not in ws.url:
            return
        seen["ws"] = ws
        ws.on(
            "framereceived",
            lambda payload: seen.update(connected=True) if '"connected"' in str(payload) else None,
        )

    page.on("websocket", on_socket)
    page.goto(path)
    for _ in range(200):
        if seen["connected"]:
            return page, seen["ws"]
        page.wait_for_timeout(50)
    raise AssertionError(f"no live connection said 'connected' on {path}")


def test_sign_out_closes_the_other_tabs(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    ctx = new_context()
    ctx.add_init_script(_RECORD_CLOSES)
    user = api_register(ctx, "creator", name="Sam Signout")
    pitch = api_create_published_pitch(ctx)

    first, _ = _open_live(ctx, "/creator/pitches")
    second, second_ws = _open_live(ctx, "/creator/ndas")
    for page in (first, second):
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_text("Sam Signout · Creator")).to_be_visible()
    expect(first.get_by_role("link", name=pitch["title"], exact=True)).to_be_visible()
    expect(second.get_by_role("heading", level=1, name="NDA requests")).to_be_visible()
    second.evaluate("() => { window.__noReload = true; }")
    assert second.evaluate("() => window.__wsCloses") == []

    # Sign out in the first tab.
    first.get_by_role("button", name="Sign out").click()
    expect(first.get_by_role("link", name="Sign in")).to_be_visible()
    expect(first.get_by_role("button", name="Sign out")).to_have_count(0)

    # The second tab: its socket closed by the server with 4001, the page signed out, not reloaded.
    if not second_ws.is_closed():
        second_ws.wait_for_event("close", timeout=10_000)
    expect(second.get_by_role("link", name="Sign in")).to_be_visible()
    expect(second.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(second.get_by_text("Sam Signout")).to_have_count(0)
    expect(second).to_have_url(re.compile(r"/creator/login\?next=%2Fcreator%2Fndas$"))
    expect(second.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(second.get_by_role("radio", name="Creator")).to_be_checked()
    assert second.evaluate("() => window.__noReload === true"), "the second tab was reloaded"
    assert 4001 in second.evaluate("() => window.__wsCloses"), second.evaluate("() => window.__wsCloses")

    # It stays signed out and does not reconnect; the cookie is gone for the whole context.
    opened = second.evaluate("() => window.__wsOpened")
    second.wait_for_timeout(2_000)
    assert second.evaluate("() => window.__wsOpened") == opened, (
        "the signed-out tab opened a new live connection"
    )
    resp = ctx.request.get(f"{live_server.url}/api/auth/session")
    assert resp.status == 401, resp.text()
    assert user["email"]

    second.wait_for_load_state("networkidle")
    axe_check(second, "signed out by another tab")
    shot(second, "journey-signout-other-tab")
    shot_phone(second, "journey-signout-other-tab")
