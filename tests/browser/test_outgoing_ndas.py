"""/investor/ndas and /production/ndas in a real browser: the NDA requests someone sent, by status
(kept in the URL), and the signed ones they hold. When the creator approves one in their inbox
(another browser context), the investor's open page flips the status and lists the NDA as signed,
without a reload. A failed load is said in words and can be retried; a page load makes no request
per NDA.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .page_helpers import LIVE, ApiLog, data, track_live, wait_user_room


def _mark(page: Any) -> None:
    page.evaluate("() => { window.__noReload = true; }")


def _not_reloaded(page: Any) -> None:
    assert page.evaluate("() => window.__noReload === true"), "the page was reloaded"


def test_investor_ndas_flip_live(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    base = live_server.url
    creator_ctx = new_context()
    api_register(creator_ctx, "creator", name="Sol Studio")
    approved_pitch = api_create_published_pitch(creator_ctx, requireNda=True)
    rejected_pitch = api_create_published_pitch(creator_ctx, requireNda=True)
    investor_ctx = new_context()
    api_register(investor_ctx, "investor", name="Vera Venture")

    page = investor_ctx.new_page()
    frames = track_live(page)
    page.goto("/investor/ndas")
    expect(page.get_by_role("heading", level=1, name="Your NDAs")).to_be_visible()
    expect(page.get_by_text("You have not asked for an NDA yet.")).to_be_visible()
    expect(page.get_by_text("No signed NDAs yet.")).to_be_visible()
    axe_check(page, "NDAs sent (empty)")

    nda_a = data(
        investor_ctx.request.post(
            f"{base}/api/ndas/request",
            data={"pitchId": approved_pitch["id"], "message": "Keen to read the deck."},
        ),
        201,
    )
    nda_b = data(
        investor_ctx.request.post(f"{base}/api/ndas/request", data={"pitchId": rejected_pitch["id"]}), 201
    )
    page.reload()
    wait_user_room(page, frames)
    sent = page.get_by_role("list", name="All NDA requests")
    card_a = sent.get_by_role("listitem").filter(has=page.get_by_role("link", name=approved_pitch["title"]))
    card_b = sent.get_by_role("listitem").filter(has=page.get_by_role("link", name=rejected_pitch["title"]))
    expect(card_a.get_by_test_id("nda-status")).to_have_text("Pending")
    expect(card_a).to_contain_text("Keen to read the deck.")
    expect(card_a).to_contain_text("by Sol Studio")
    expect(card_b.get_by_test_id("nda-status")).to_have_text("Pending")
    _mark(page)

    # The creator approves one in their inbox and rejects the other with a reason.
    creator = creator_ctx.new_page()
    creator.goto("/creator/ndas")
    approve = f"Approve Vera Venture's request for {approved_pitch['title']}"
    creator.get_by_role("button", name=approve).click()
    expect(creator.locator(f'[data-nda-id="{nda_a["id"]}"]')).to_contain_text("Approved")

    # The investor's open page flips, and the NDA is listed as signed, live.
    expect(card_a.get_by_test_id("nda-status")).to_have_text("Approved", timeout=LIVE)
    signed = page.get_by_role("list", name=re.compile("^Signed NDAs"))
    expect(signed.get_by_role("link", name=approved_pitch["title"])).to_be_visible(timeout=LIVE)
    expect(page.get_by_role("heading", name="Signed NDAs (1)")).to_be_visible()

    creator.get_by_role("button", name=f"Reject Vera Venture's request for {rejected_pitch['title']}").click()
    creator.get_by_label("Reason for Vera Venture (optional)").fill("We are not taking on investors yet.")
    creator.get_by_role("button", name="Reject request").click()
    expect(card_b.get_by_test_id("nda-status")).to_have_text("Rejected", timeout=LIVE)
    expect(card_b).to_contain_text("We are not taking on investors yet.")
    _not_reloaded(page)
    page.wait_for_load_state("networkidle")
    axe_check(page, "NDAs sent (decided)")
    shot(page, "ndas-sent-decided")
    shot_phone(page, "ndas-sent-decided")

    # The status filter, kept in the URL.
    tabs = page.get_by_role("navigation", name="Filter requests by status")
    tabs.get_by_role("link", name="Approved").click()
    expect(page).to_have_url(re.compile(r"/investor/ndas\?status=approved$"))
    approved = page.get_by_role("list", name="Approved NDA requests").get_by_role("listitem")
    expect(approved).to_have_count(1)
    expect(approved.first).to_contain_text(approved_pitch["title"])
    tabs.get_by_role("link", name="Pending").click()
    expect(page.get_by_text("No pending requests.")).to_be_visible()

    # Each NDA links to its pitch, which is open now.
    tabs.get_by_role("link", name="All").click()
    signed.get_by_role("link", name=approved_pitch["title"]).click()
    expect(page).to_have_url(re.compile(rf"/pitches/{approved_pitch['id']}$"))
    expect(page.get_by_test_id("synopsis")).to_be_visible()

    # A page load: one request per list, none per NDA.
    api = ApiLog(page)
    page.goto("/investor/ndas")
    expect(page.get_by_role("list", name="All NDA requests").get_by_role("listitem")).to_have_count(2)
    page.wait_for_load_state("networkidle")
    api.assert_no_repeats("NDAs page load")
    paths = api.paths()
    assert paths["GET /api/ndas/outgoing-requests"] == 1, api.calls
    assert paths["GET /api/ndas/incoming-signed"] == 1, api.calls
    assert not [c for c in api.calls if "/api/pitches" in c], api.calls
    assert nda_b["status"] == "pending"


def test_production_ndas_phone_and_failed_load(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot
):
    base = live_server.url
    creator_ctx = new_context()
    api_register(creator_ctx, "creator", name="Rae Rivers")
    pitch = api_create_published_pitch(creator_ctx, requireNda=True)
    ctx = new_context(phone=True)
    api_register(ctx, "production", companyName="Tidewater Productions")
    data(ctx.request.post(f"{base}/api/ndas/request", data={"pitchId": pitch["id"]}), 201)

    page = ctx.new_page()
    # The list cannot be loaded (the network drops): said in words, with a retry that works.
    page.route("**/api/ndas/outgoing-requests*", lambda route: route.abort())
    page.goto("/production/ndas")
    alert = page.get_by_role("alert").filter(has_text="Cannot reach Pitchey")
    expect(alert).to_be_visible()
    shot(page, "ndas-sent-failed-phone-view")
    page.unroute("**/api/ndas/outgoing-requests*")
    alert.get_by_role("button", name="Try again").click()
    card = page.get_by_role("list", name="All NDA requests").get_by_role("listitem")
    expect(card).to_have_count(1)
    expect(card.first.get_by_test_id("nda-status")).to_have_text("Pending")
    expect(card.first).to_contain_text("by Rae Rivers")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    axe_check(page, "NDAs sent (production, phone)")
    shot(page, "ndas-sent-production-phone-view")
