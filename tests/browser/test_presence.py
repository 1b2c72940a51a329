"""Journey 5, presence, in a real browser against a real `pitchey serve`: two signed-in people on
the same pitch page see each other arrive and leave ("N people viewing now" changes live), and the
view and like counters follow the other person's actions without a reload.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import nav

pytestmark = pytest.mark.viewports  # each journey also runs at 390x844

LIVE = 10_000  # ms


def test_two_people_see_each_other_arrive_and_leave(
    new_context, api_register, api_create_published_pitch, axe_check, shot
):
    creator = new_context()
    api_register(creator, "creator", name="Pia Presence")
    pitch = api_create_published_pitch(creator)

    a_ctx = new_context()
    api_register(a_ctx, "investor", name="Ada Investor")
    b_ctx = new_context(phone=True)
    api_register(b_ctx, "production", name="Bo Producer", companyName="Bo Films")

    a = a_ctx.new_page()
    a.goto(f"/pitches/{pitch['id']}")
    presence_a = a.get_by_test_id("presence")
    expect(presence_a).to_have_text("1 person viewing now (you)", timeout=LIVE)
    expect(a.get_by_test_id("view-count")).to_have_text("1")
    a.evaluate("() => { window.__sameDocument = true; }")

    # B arrives: both see two people; A's view counter takes B's view live.
    b = b_ctx.new_page()
    b.goto(f"/pitches/{pitch['id']}")
    expect(b.get_by_test_id("presence")).to_have_text("2 people viewing now", timeout=LIVE)
    expect(presence_a).to_have_text("2 people viewing now", timeout=LIVE)
    expect(a.get_by_test_id("view-count")).to_have_text("2", timeout=LIVE)
    expect(b.get_by_test_id("view-count")).to_have_text("2")

    # B likes it: A's like counter follows.
    with b.expect_response(lambda r: r.url.endswith(f"/api/pitches/{pitch['id']}/like")):
        b.get_by_role("button", name="Like").click()
    expect(b.get_by_test_id("like-count")).to_have_text("1")
    expect(a.get_by_test_id("like-count")).to_have_text("1", timeout=LIVE)
    # A's own like button did not change: it was B's like.
    expect(a.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "false")
    axe_check(a, "pitch detail (two viewers)")
    shot(a, "presence-two-viewers")
    shot(b, "presence-two-viewers-phone")

    # B leaves for another page of the app (the room is left, the connection stays).
    nav(b, "Browse")
    expect(b).to_have_url(re.compile("/browse$"))
    expect(presence_a).to_have_text("1 person viewing now (you)", timeout=LIVE)

    # B comes back, then closes the tab (the connection goes): A sees both.
    b.go_back()
    expect(presence_a).to_have_text("2 people viewing now", timeout=LIVE)
    b.close()
    expect(presence_a).to_have_text("1 person viewing now (you)", timeout=LIVE)
    # Counts do not move on presence alone, and A's page was never reloaded.
    expect(a.get_by_test_id("view-count")).to_have_text("2")
    expect(a.get_by_test_id("like-count")).to_have_text("1")
    assert a.evaluate("() => window.__sameDocument === true")
