"""/people/following and /people/followers (issue 11 "People") and the investor dashboard's figures
against the previous range (issue 11 "Analytics"), in a real browser at desktop and phone sizes:
the main actions, one refusal shown in words, no request per row, axe-core and screenshots."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, nav
from .page_helpers import ApiLog, data

pytestmark = pytest.mark.viewports


def _follow(ctx: Any, base: str, user_id: int) -> None:
    data(ctx.request.post(f"{base}/api/follows", data={"userId": user_id}), 201)


def test_follow_from_a_profile_lists_and_a_refusal(
    new_context, live_server, api_register, axe_check, shot, viewport
):
    base = live_server.url
    cora_ctx = new_context()
    cora = api_register(cora_ctx, "creator", name="Cora Creator")
    ivo_ctx = new_context()
    ivo = api_register(ivo_ctx, "investor", name="Ivo Investor")
    page = ivo_ctx.new_page()

    # Nobody followed yet: the empty state says what to do.
    page.goto("/investor")
    # Signed in as far as the header knows (before that, a phone header has no Menu to open).
    expect(page.get_by_role("heading", level=1, name="Welcome, Ivo Investor")).to_be_visible()
    nav(page, "People")
    expect(page).to_have_url(re.compile(r"/people/following$"))
    expect(page.get_by_role("heading", level=1, name="People you follow")).to_be_visible()
    expect(page.get_by_text("You follow no one yet.")).to_be_visible()
    axe_check(page, "People you follow (empty)")
    shot(page, "people-following-empty")

    # Follow from the profile: Cora appears in the following list, linking to her profile.
    page.goto(f"/users/{cora['id']}")
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("button", name="Following")).to_have_attribute("aria-pressed", "true")
    nav(page, "People")
    people = page.get_by_role("list", name="People you follow")
    expect(people.get_by_role("listitem")).to_have_count(1)
    expect(people.get_by_role("link", name="Cora Creator", exact=True)).to_have_attribute(
        "href", f"/users/{cora['id']}"
    )
    expect(people.get_by_role("button", name="Unfollow Cora Creator")).to_be_visible()
    axe_check(page, "People you follow")
    shot(page, "people-following")

    # Two more followers for Cora, by API, so her list has rows to count requests over.
    for portal in ("investor", "production"):
        other = new_context()
        api_register(other, portal, name=f"Extra {portal.title()}")
        _follow(other, base, cora["id"])

    # Cora sees her followers from her own profile's count, with one request per list, not per row.
    mine = cora_ctx.new_page()
    mine.goto(f"/users/{cora['id']}")
    expect(mine.get_by_test_id("follower-count")).to_have_text("3")
    log = ApiLog(mine)
    mine.get_by_role("link", name=re.compile(r"3\s*followers")).click()
    expect(mine).to_have_url(re.compile(r"/people/followers$"))
    followers = mine.get_by_role("list", name="Your followers")
    expect(followers.get_by_role("listitem")).to_have_count(3)
    expect(mine.get_by_test_id("people-total")).to_have_text("3 people")
    ivo_row = followers.get_by_role("listitem").filter(has_text="Ivo Investor")
    expect(ivo_row.get_by_text(re.compile(r"Followed you on"))).to_be_visible()
    expect(ivo_row.get_by_role("link", name="Ivo Investor", exact=True)).to_have_attribute(
        "href", f"/users/{ivo['id']}"
    )
    log.assert_no_repeats("followers page")
    assert not any(re.search(r"/api/users/\d+", c) for c in log.calls), log.calls
    # She follows nobody, which the page knows: every row offers "Follow back".
    expect(followers.get_by_role("button", name=re.compile(r"^Follow back "))).to_have_count(3)
    ivo_row.get_by_role("button", name="Follow back Ivo Investor").click()
    expect(ivo_row.get_by_role("button", name="Unfollow Ivo Investor")).to_be_visible()
    axe_check(mine, "Your followers")
    shot(mine, "people-followers")
    # Her following tab now lists Ivo.
    mine.get_by_role("navigation", name="People").get_by_role("link", name="Following").click()
    expect(
        mine.get_by_role("list", name="People you follow").get_by_role(
            "link", name="Ivo Investor", exact=True
        )
    ).to_be_visible()

    # Ivo unfollows from his list: the row stays, offering to follow again; a reload drops it.
    row = people.get_by_role("listitem").filter(has_text="Cora Creator")
    row.get_by_role("button", name="Unfollow Cora Creator").click()
    expect(row.get_by_role("button", name="Follow Cora Creator")).to_be_visible()
    page.reload()
    expect(page.get_by_text("You follow no one yet.")).to_be_visible()
    # Ivo's own followers list shows Cora (she followed him back).
    page.goto("/people/followers")
    expect(
        page.get_by_role("list", name="Your followers").get_by_role("link", name="Cora Creator", exact=True)
    ).to_be_visible()

    # Refusal in words: signed in as Cora elsewhere (the cookie changed under this page), the
    # stale "Follow" on her own profile is refused by the API and the page says why.
    page.goto(f"/users/{cora['id']}")
    follow = page.get_by_role("button", name="Follow", exact=True)
    expect(follow).to_be_visible()
    resp = ivo_ctx.request.post(
        f"{base}/api/auth/creator/login", data={"email": cora["email"], "password": PASSWORD}
    )
    assert resp.status == 200, resp.text()
    follow.click()
    expect(page.get_by_text("You cannot follow yourself")).to_be_visible()
    shot(page, "people-refusal")


def test_investor_dashboard_figures_against_the_previous_range(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot
):
    base = live_server.url
    creator = new_context()
    api_register(creator, "creator")
    pitch = api_create_published_pitch(creator)
    ctx = new_context()
    api_register(ctx, "investor", name="Vera Venture")
    resp = ctx.request.post(
        f"{base}/api/investments/create", data={"pitchId": pitch["id"], "amount": "2500.00"}
    )
    assert resp.status == 201, resp.text()
    page = ctx.new_page()

    page.goto("/investor")
    figures = page.get_by_test_id("investor-figures")
    expect(page.get_by_role("heading", level=2, name="Your activity, last 30 days")).to_be_visible()
    invested = figures.locator("section").filter(has_text="Amount invested")
    expect(invested).to_contain_text("$2,500.00")
    expect(invested).to_contain_text("up from $0.00 the 30 days before")
    expect(figures.locator("section").filter(has_text="Investments made")).to_contain_text(
        "up from 0 the 30 days before"
    )
    expect(figures.locator("section").filter(has_text="NDAs signed")).to_contain_text(
        "same as the 30 days before"
    )

    # Another range: kept in the URL, the figures and their comparison follow it.
    page.get_by_label("Range").select_option("7d")
    expect(page).to_have_url(re.compile(r"[?&]range=7d"))
    expect(page.get_by_role("heading", level=2, name="Your activity, last 7 days")).to_be_visible()
    expect(invested).to_contain_text("up from $0.00 the 7 days before")
    axe_check(page, "Investor dashboard (7 days)")
    shot(page, "investor-dashboard-range")
    page.reload()
    expect(page.get_by_label("Range")).to_have_value("7d")

    # A range the API refuses is never sent: an unknown one in the URL falls back to 30 days.
    page.goto("/investor?range=1y")
    expect(page.get_by_role("heading", level=2, name="Your activity, last 30 days")).to_be_visible()
