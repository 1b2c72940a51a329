"""Journey 2, the investor, in a real browser against a real `pitchey serve`:

register through the UI → browse and search → open the pitch → like it → request the NDA → the
creator, in a second browser context, approves it on their NDA page → the investor's open pitch
page unlocks the protected fields live, without a reload → invest (an invalid amount first: the
field says why) → the portfolio shows the position. axe on every page; screenshots of the end.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from conftest import unique_email
from playwright.sync_api import expect

from .conftest import nav

pytestmark = pytest.mark.viewports  # each journey also runs at 390x844

LIVE = 10_000  # ms: how long a live update may take to show


def _approve(creator_page: Any, pitch: dict[str, Any]) -> None:
    """The creator approves on their NDA inbox, /creator/ndas (journey 3's page)."""
    creator_page.goto("/creator/ndas")
    approve = creator_page.get_by_role(
        "button", name=re.compile(f"^Approve .* request for {re.escape(pitch['title'])}$")
    )
    approve.click()
    expect(approve).to_have_count(0, timeout=LIVE)


def test_investor_journey(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    # The creator and a pitch whose synopsis and budget need an NDA.
    creator_ctx = new_context()
    api_register(creator_ctx, "creator", name="Carla Creator")
    tok = "zq" + uuid.uuid4().hex[:8]
    secret = f"In act three the lighthouse is the ship {tok}."
    pitch = api_create_published_pitch(
        creator_ctx,
        title=f"Lighthouse {tok}",
        genre="Mystery",
        requireNda=True,
        synopsis=secret,
        budget="750000.00",
    )
    sibling = api_create_published_pitch(
        creator_ctx,
        title=f"Foghorn {tok}",
        genre="Mystery",
        logline="Two sisters inherit a foghorn and a feud.",
    )
    creator_page = creator_ctx.new_page()

    # 1. The investor registers through the UI.
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/")
    page.get_by_role("link", name="Join Pitchey").first.click()
    expect(page).to_have_url(re.compile("/register$"))
    page.get_by_role("radio", name="Investor").check()
    page.get_by_label("Full name").fill("Ivan Investor")
    page.get_by_label("Company", exact=True).fill("Lantern Capital")
    page.get_by_label("Email", exact=True).fill(unique_email("investor"))
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    axe_check(page, "register")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile("/investor$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ivan Investor")
    expect(page.get_by_role("heading", name="Recommended for you")).to_be_visible()
    expect(page.get_by_text("Invested", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    axe_check(page, "investor dashboard")

    # 2. Browse and search.
    nav(page, "Browse")
    page.get_by_label("Search").fill(tok)
    expect(page).to_have_url(re.compile(f"q={tok}"))
    card = page.get_by_role("list", name="Pitches").get_by_test_id("pitch-card")
    expect(page.get_by_test_id("result-count")).to_have_text("2 pitches found")
    page.get_by_label("Search").fill(f"lighthouse {tok}")
    expect(page.get_by_test_id("result-count")).to_have_text("1 pitch found")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("NDA")
    axe_check(page, "browse (investor)")

    # 3. Open the pitch: locked for now; the investor's first view counts.
    card.get_by_role("link", name=pitch["title"]).click()
    expect(page).to_have_url(re.compile(f"/pitches/{pitch['id']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(pitch["title"])
    expect(page.get_by_test_id("view-count")).to_have_text("1")
    expect(page.get_by_test_id("locked").first).to_be_visible()
    assert secret not in page.content()
    expect(page.get_by_text("You can invest once your NDA for this pitch is approved.")).to_be_visible()

    # 4. Like it: the button says so and the count is the stored one.
    like = page.get_by_role("button", name="Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    with page.expect_response(lambda r: r.url.endswith(f"/api/pitches/{pitch['id']}/like")) as answer:
        like.click()
    assert answer.value.status == 200
    liked = page.get_by_role("button", name="Liked")
    expect(liked).to_have_attribute("aria-pressed", "true")
    expect(liked).to_be_enabled()
    expect(page.get_by_test_id("like-count")).to_have_text("1")
    stored = creator_ctx.request.get(f"{live_server.url}/api/pitches/{pitch['id']}").json()["data"]
    assert stored["likeCount"] == 1

    # 5. Request the NDA: the page shows it pending.
    page.get_by_label("Message to the creator (optional)").fill("We fund mysteries. May we read it?")
    page.get_by_role("button", name="Request NDA").click()
    status = page.get_by_test_id("nda-status")
    expect(status).to_contain_text("Pending")
    expect(page.get_by_role("button", name="Request NDA")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    axe_check(page, "pitch detail (NDA pending)")

    # 6. The creator approves in another browser; the open page must not reload.
    page.evaluate("() => { window.__sameDocument = true; }")
    _approve(creator_page, pitch)

    # 7. The protected fields appear live.
    expect(page.get_by_test_id("synopsis")).to_have_text(secret, timeout=LIVE)
    expect(page.get_by_test_id("budget")).to_have_text("$750,000.00")
    expect(page.get_by_test_id("locked")).to_have_count(0)
    expect(page.get_by_text("Your NDA is approved")).to_be_visible()
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    axe_check(page, "pitch detail (NDA approved)")

    # 8. Invest: invalid amounts are refused with words, on the field; a good one succeeds.
    amount = page.get_by_label("Amount (USD)")
    invest = page.get_by_role("button", name="Invest", exact=True)
    amount.fill("12.345")
    invest.click()
    expect(page.get_by_text("Use a positive amount with at most 2 decimals")).to_be_visible()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("12.345")  # nothing typed is lost
    amount.fill("0")
    invest.click()
    expect(page.get_by_text("The amount must be more than zero.")).to_be_visible()
    # Over the API's cap: the server's VALIDATION_ERROR lands on the field, in its words.
    amount.fill("1000000001")
    invest.click()
    expect(page.get_by_text("must be at most 1000000000.00")).to_be_visible()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("1000000001")
    amount.fill("2500.5")
    invest.click()
    expect(page.get_by_text("You invested $2,500.50 in")).to_be_visible()
    expect(amount).not_to_have_attribute("aria-invalid", "true")
    shot(page, "journey-investor-detail")
    shot_phone(page, "journey-investor-detail")

    # 9. The portfolio shows the position.
    page.get_by_role("link", name="See your portfolio").click()
    expect(page).to_have_url(re.compile("/investor/portfolio$"))
    expect(page.get_by_test_id("total-invested")).to_have_text("$2,500.50")
    row = page.get_by_test_id("position")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(pitch["title"])
    expect(row).to_contain_text("$2,500.50")
    expect(row.get_by_role("link", name=pitch["title"])).to_have_attribute("href", f"/pitches/{pitch['id']}")
    page.wait_for_load_state("networkidle")
    axe_check(page, "portfolio")
    shot(page, "journey-investor-portfolio")
    shot_phone(page, "journey-investor-portfolio")

    # The dashboard now counts the investment; the pitch held is no longer recommended.
    nav(page, "Dashboard")
    expect(page).to_have_url(re.compile("/investor$"))
    glance = page.get_by_role("region", name="Portfolio at a glance")
    expect(glance).to_contain_text("$2,500.50")
    recs = page.get_by_role("region", name="Recommended for you")
    # The other Mystery pitch is recommended, with the reason in words.
    rec = recs.locator(f'[data-pitch-id="{sibling["id"]}"]')
    expect(rec).to_contain_text("Because you invested in Mystery")
    expect(recs.locator(f'[data-pitch-id="{pitch["id"]}"]')).to_have_count(0)
    page.wait_for_load_state("networkidle")
    axe_check(page, "investor dashboard (after investing)")
    shot(page, "journey-investor-dashboard")
    shot_phone(page, "journey-investor-dashboard")
