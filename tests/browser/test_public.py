"""The public side in a real browser against a real `pitchey serve`: the landing page, browse with
every filter kept in the URL (a reload or a pasted link reproduces the view), the pitch detail with
its NDA-protected fields locked for anonymous visitors, deep links, and axe on each page.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.viewports  # each journey also runs at 390x844


def _token() -> str:
    # A word no other test's pitch contains, so searches and counts here are exact.
    return "zq" + uuid.uuid4().hex[:8]


def test_landing_shows_real_pitches_and_portal_calls_to_action(
    new_context, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator", name="Lena Landing")
    pitch = api_create_published_pitch(
        creator, title=f"Landing {_token()}", genre="Thriller", format="Limited Series"
    )

    page = new_context().new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("film and TV")
    for portal, name in [
        ("creator", "creators"),
        ("investor", "investors"),
        ("production", "production companies"),
    ]:
        link = page.get_by_role("link", name=re.compile(f"as {name}$"))
        expect(link).to_have_attribute("href", f"/{portal}/register")

    newest = page.get_by_role("list", name="Newest pitches")
    card = newest.locator(f'[data-pitch-id="{pitch["id"]}"]')
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name=pitch["title"])).to_be_visible()
    expect(card).to_contain_text("by Lena Landing")
    expect(card).to_contain_text("Thriller")
    expect(card).to_contain_text("Limited Series")
    expect(card.get_by_test_id("card-views")).to_have_text("0 views")
    expect(card.get_by_test_id("card-likes")).to_have_text("0 likes")
    # The trending list is there too (every visible pitch, score 0 included).
    expect(page.get_by_role("list", name="Trending now").get_by_test_id("pitch-card").first).to_be_visible()

    page.wait_for_load_state("networkidle")
    axe_check(page, "landing")
    shot(page, "public-landing")
    shot_phone(page, "public-landing")

    # The whole card opens the pitch (the title link is stretched over it).
    card.get_by_role("link", name=pitch["title"]).click()
    expect(page).to_have_url(re.compile(f"/pitches/{pitch['id']}$"))
    expect(page.get_by_role("heading", level=1, name=pitch["title"])).to_be_visible()


def test_browse_keeps_search_filters_sort_and_page_in_the_url(
    new_context, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator", name="Bea Browse")
    tok = _token()
    made: dict[str, Any] = {}
    # 13 pitches share the token: 12 fit on a page, so there is a second page.
    for i in range(10):
        api_create_published_pitch(creator, title=f"Filler {tok} {i:02d}", genre="Drama", budget="100.00")
    made["a"] = api_create_published_pitch(creator, title=f"Alpha {tok}", genre="Thriller", budget="1000.00")
    made["b"] = api_create_published_pitch(creator, title=f"Bravo {tok}", genre="Thriller", budget="9000.00")
    made["c"] = api_create_published_pitch(creator, title=f"Charlie {tok}", genre="Comedy", budget="5000.00")

    ctx = new_context()
    page = ctx.new_page()
    page.goto("/browse")
    count = page.get_by_test_id("result-count")
    cards = page.get_by_role("list", name="Pitches").get_by_test_id("pitch-card")

    # Typing is debounced into the URL (q), and the results follow.
    page.get_by_label("Search").fill(tok)
    expect(page).to_have_url(re.compile(f"[?&]q={tok}"))
    expect(count).to_have_text("13 pitches found")
    expect(cards).to_have_count(12)

    # Pagination: page 2 has the 13th pitch, and the URL says so.
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(cards).to_have_count(1)
    page.reload()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(cards).to_have_count(1)
    expect(page.get_by_label("Search")).to_have_value(tok)

    # A filter sends you back to page 1 (on a phone the filters fold behind "More filters").
    more = page.get_by_role("button", name=re.compile(r"^More filters"))
    if more.is_visible():
        more.click()
    page.get_by_label("Genre").fill("Thriller")
    expect(page).to_have_url(re.compile(r"[?&]genre=Thriller"))
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect(count).to_have_text("2 pitches found")

    # A budget that is not money shows a field error and stays out of the URL.
    page.get_by_label("Min budget ($)").fill("12.345")
    expect(page.get_by_text("at most 2 decimals")).to_be_visible()
    page.wait_for_timeout(600)
    assert "budgetMin" not in page.url
    page.get_by_label("Min budget ($)").fill("2000")
    expect(page).to_have_url(re.compile(r"[?&]budgetMin=2000"))
    expect(count).to_have_text("1 pitch found")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(made["b"]["title"])

    # Sort and order apply at once; clear the budget first to see the order of two.
    page.get_by_label("Min budget ($)").fill("")
    expect(page).not_to_have_url(re.compile("budgetMin"))
    expect(count).to_have_text("2 pitches found")
    page.get_by_label("Sort by").select_option("budget")
    page.get_by_label("Order").select_option("asc")
    expect(page).to_have_url(re.compile(r"[?&]sort=budget"))
    expect(page).to_have_url(re.compile(r"[?&]order=asc"))
    expect(cards.nth(0)).to_contain_text(made["a"]["title"])
    expect(cards.nth(1)).to_contain_text(made["b"]["title"])

    axe_check(page, "browse")
    shot(page, "public-browse")
    url = page.url

    # The reload reproduces the view: inputs, selects and results.
    page.reload()
    expect(page.get_by_label("Search")).to_have_value(tok)
    expect(page.get_by_label("Genre")).to_have_value("Thriller")
    expect(page.get_by_label("Sort by")).to_have_value("budget")
    expect(page.get_by_label("Order")).to_have_value("asc")
    expect(count).to_have_text("2 pitches found")
    expect(cards.nth(0)).to_contain_text(made["a"]["title"])

    # So does the link, pasted into another person's browser (a phone).
    other = new_context(phone=True).new_page()
    other.goto(url)
    expect(other.get_by_test_id("result-count")).to_have_text("2 pitches found")
    other_cards = other.get_by_role("list", name="Pitches").get_by_test_id("pitch-card")
    expect(other_cards.nth(0)).to_contain_text(made["a"]["title"])
    expect(other_cards.nth(1)).to_contain_text(made["b"]["title"])
    # On a phone the filters fold away behind a button that says how many are on.
    expect(other.get_by_role("button", name="More filters (3 on)")).to_be_visible()
    expect(other.get_by_label("Genre")).to_be_hidden()
    other.get_by_role("button", name="More filters (3 on)").click()
    expect(other.get_by_label("Genre")).to_have_value("Thriller")
    axe_check(other, "browse (phone)")
    shot(other, "public-browse-phone")

    # Back goes back through the views; clearing the filters empties the URL.
    page.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/browse\??$"))
    expect(page.get_by_label("Search")).to_have_value("")
    page.go_back()
    expect(page.get_by_label("Search")).to_have_value(tok)
    expect(count).to_have_text("2 pitches found")


def test_detail_locks_protected_fields_for_anonymous_visitors(
    new_context, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator", name="Nina Nda")
    secret = f"The twist is {_token()}"
    locked = api_create_published_pitch(
        creator,
        title=f"Locked {_token()}",
        requireNda=True,
        synopsis=secret,
        budget="2500000.00",
        targetAudience="Adults who like puzzles",
    )
    open_synopsis = f"Open synopsis {_token()}"
    opened = api_create_published_pitch(
        creator, title=f"Open {_token()}", synopsis=open_synopsis, budget="1234.50"
    )

    page = new_context().new_page()
    page.goto(f"/pitches/{locked['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(locked["title"])
    expect(page.get_by_text("by Nina Nda")).to_be_visible()
    expect(page.get_by_text("Adults who like puzzles")).to_be_visible()
    expect(page.get_by_test_id("locked").first).to_contain_text("shared only with people whose NDA")
    expect(page.get_by_test_id("budget")).to_contain_text("Locked until your NDA is approved")
    assert secret not in page.content()
    assert "2,500,000" not in page.content()
    nda = page.get_by_role("link", name="Sign in to request an NDA")
    expect(nda).to_have_attribute("href", f"/investor/login?next=%2Fpitches%2F{locked['id']}")
    expect(page.get_by_role("link", name="Sign in to like")).to_be_visible()
    # Anonymous visitors have no live connection: counts, but no presence line.
    expect(page.get_by_test_id("view-count")).to_have_text("0")
    expect(page.get_by_test_id("presence")).to_have_count(0)
    expect(page.get_by_role("heading", name="Invest")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    axe_check(page, "pitch detail (anonymous, locked)")
    shot(page, "public-detail-locked")
    shot_phone(page, "public-detail-locked")

    page.goto(f"/pitches/{opened['id']}")
    expect(page.get_by_test_id("synopsis")).to_have_text(open_synopsis)
    expect(page.get_by_test_id("budget")).to_have_text("$1,234.50")
    expect(page.get_by_test_id("locked")).to_have_count(0)

    # The owner sees everything and an Edit link.
    own = creator.new_page()
    own.goto(f"/pitches/{locked['id']}")
    expect(own.get_by_test_id("synopsis")).to_have_text(secret)
    expect(own.get_by_test_id("budget")).to_have_text("$2,500,000.00")
    expect(own.get_by_role("link", name="Edit pitch")).to_have_attribute(
        "href", f"/creator/pitches/{locked['id']}/edit"
    )
    expect(own.get_by_role("button", name="Request NDA")).to_have_count(0)


def test_deep_links_and_unknown_pitches(new_context, api_register, api_create_published_pitch, axe_check):
    creator = new_context()
    api_register(creator, "creator")
    draft = api_create_published_pitch(creator, status="draft")

    page = new_context().new_page()
    for path in ["/pitches/99999999", "/pitches/not-a-number", f"/pitches/{draft['id']}"]:
        resp = page.goto(path)
        assert resp is not None and resp.status == 200  # the app's index.html, then the app says so
        expect(page.get_by_role("heading", level=1)).to_have_text("Pitch not found")
        expect(page.get_by_role("link", name="Browse pitches")).to_be_visible()
        # Anonymous: it may be an investors-only pitch, so signing in is offered, coming back here.
        sign_in = page.get_by_role("main").get_by_role("link", name="Sign in")
        expect(sign_in).to_have_attribute("href", "/login?next=" + path.replace("/", "%2F"))
    axe_check(page, "pitch not found")

    # A deep link into browse with filters works from a cold start.
    page.goto("/browse?q=nothingmatchesthisword&sort=title")
    expect(page.get_by_text("No pitches match these filters")).to_be_visible()
    expect(page.get_by_label("Sort by")).to_have_value("title")
