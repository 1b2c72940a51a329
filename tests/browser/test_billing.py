"""/settings/billing in a real browser against a real `pitchey serve` and its test payment provider.

Buying credits: a declined card shows the provider's reason in words and buys nothing; a
double-click (and two submits in the same tick) charges once; a retry after the answer was lost
(the server charged, the browser saw a network error) reuses the page's Idempotency-Key and charges
once. Plans (at phone size): subscribe, switch, cancel; a provider failure and a card failing
the server's checks are shown in words. A creator sees the plans but no payment calls. The page's
API requests are counted, axe runs on every state, screenshots at desktop and phone sizes.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from playwright.sync_api import Route, expect

GOOD = "4242 4242 4242 4242"
NO_FUNDS = "4000 0000 0000 9995"
PROVIDER_FAILS = "4000 0000 0000 0119"
BAD_LUHN = "4242 4242 4242 4241"


def _api_counter(page: Any) -> Counter[str]:
    """Counts the page's API requests by "METHOD /path" (query string dropped)."""
    seen: Counter[str] = Counter()

    def on_request(req: Any) -> None:
        path = re.sub(r"^https?://[^/]+", "", req.url).split("?")[0]
        if path.startswith("/api/"):
            seen[f"{req.method} {path}"] += 1

    page.on("request", on_request)
    return seen


def _fill_card(page: Any, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2031")
    page.get_by_label("Security code").fill("123")


def _server(ctx: Any, base: str, path: str) -> Any:
    resp = ctx.request.get(f"{base}{path}")
    assert resp.ok, resp.text()
    return resp.json()


def _succeeded(ctx: Any, base: str) -> list[dict[str, Any]]:
    payments = _server(ctx, base, "/api/payments/history?limit=100")["data"]
    return [p for p in payments if p["status"] == "succeeded"]


def test_buy_credits_decline_double_click_and_retry_charge_once(
    new_context, live_server, api_register, axe_check, shot, shot_phone
):
    ctx = new_context()
    api_register(ctx, "investor", name="Bea Buyer")
    page = ctx.new_page()
    calls = _api_counter(page)
    page.goto("/settings/billing")
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
    expect(page.get_by_test_id("credit-balance")).to_have_text("0")
    expect(page.get_by_test_id("current-plan")).to_have_text("Free")
    expect(page.get_by_text("No credits yet.")).to_be_visible()
    expect(page.get_by_text("No payments yet.")).to_be_visible()
    page.wait_for_load_state("networkidle")
    for path in (
        "/api/payments/plans",
        "/api/payments/subscription-status",
        "/api/payments/credits/balance",
        "/api/payments/credits/history",
        "/api/payments/history",
    ):
        assert calls[f"GET {path}"] == 1, calls
    axe_check(page, "billing (empty)")
    shot(page, "billing-empty")

    # Something a person can fix before anything is sent: said on the field, nothing requested.
    page.get_by_label("Number of credits").fill("25")
    expect(page.get_by_test_id("pay-total")).to_have_text("$25.00")
    buy = page.get_by_role("button", name="Buy 25 credits for $25.00")
    buy.click()
    expect(page.get_by_text("Enter the card number.")).to_be_visible()
    expect(page.get_by_label("Card number")).to_be_focused()
    assert calls["POST /api/payments/credits/purchase"] == 0

    # 1. Declined: the provider's reason in words; nothing bought, the attempt is listed.
    _fill_card(page, NO_FUNDS)
    buy.click()
    expect(page.get_by_test_id("pay-error")).to_have_text(
        "Payment declined: the card has insufficient funds. Nothing was charged."
    )
    expect(page.get_by_label("Card number")).to_have_value(NO_FUNDS)  # nothing typed is lost
    rows = page.get_by_test_id("payment-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Declined")
    expect(rows.first).to_contain_text("Visa ending 9995")
    expect(page.get_by_test_id("credit-balance")).to_have_text("0")
    axe_check(page, "billing (declined)")

    # 2. A double-click on Buy, and two submits in the same tick: one charge.
    page.get_by_label("Card number").fill(GOOD)
    keys: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key", ""))
            if r.method == "POST" and r.url.endswith("/credits/purchase")
            else None
        ),
    )
    buy.dblclick()
    expect(page.get_by_test_id("pay-done")).to_contain_text("25 credits added, your balance is 25 credits")
    expect(page.get_by_test_id("credit-balance")).to_have_text("25")
    expect(page.get_by_label("Card number")).to_have_value("")  # the card's number is not kept
    assert len(_succeeded(ctx, live_server.url)) == 1
    assert all(k and k == keys[0] for k in keys), keys

    page.get_by_label("Number of credits").fill("5")
    _fill_card(page, GOOD)
    page.evaluate(
        """() => {
            const form = document.getElementById('pay-number').form;
            form.requestSubmit();
            form.requestSubmit();
        }"""
    )
    expect(page.get_by_test_id("pay-done")).to_contain_text("5 credits added, your balance is 30 credits")
    expect(page.get_by_test_id("credit-balance")).to_have_text("30")
    assert len(_succeeded(ctx, live_server.url)) == 2
    assert _server(ctx, live_server.url, "/api/payments/credits/balance")["data"]["balance"] == 30

    # 3. The answer is lost after the server charged: the page says so; pressing again replays.
    earlier = list(keys)
    lost: list[str] = []

    def lose_answer(route: Route) -> None:
        if not lost:
            response = route.fetch()  # the server receives it and charges
            lost.append(route.request.headers.get("idempotency-key", ""))
            assert response.status == 201, response.text()
            route.abort("connectionreset")
        else:
            lost.append(route.request.headers.get("idempotency-key", ""))
            route.continue_()

    page.route("**/api/payments/credits/purchase", lose_answer)
    page.get_by_label("Number of credits").fill("10")
    _fill_card(page, GOOD)
    page.get_by_role("button", name="Buy 10 credits for $10.00").click()
    expect(page.get_by_test_id("pay-error")).to_contain_text("may or may not have gone through")
    assert _server(ctx, live_server.url, "/api/payments/credits/balance")["data"]["balance"] == 40
    page.get_by_role("button", name="Buy 10 credits for $10.00").click()
    expect(page.get_by_test_id("pay-done")).to_contain_text("had already gone through: you were charged once")
    expect(page.get_by_test_id("credit-balance")).to_have_text("40")
    page.unroute("**/api/payments/credits/purchase")
    assert len(lost) == 2 and lost[0] and lost[0] == lost[1], lost
    assert lost[0] not in earlier, "a new purchase must get a new key"
    assert len(_succeeded(ctx, live_server.url)) == 3
    ledger = _server(ctx, live_server.url, "/api/payments/credits/history?limit=100")["data"]
    assert [e["delta"] for e in ledger] == [10, 5, 25]

    # The page shows the ledger and every attempt, newest first.
    expect(page.get_by_test_id("ledger").locator("tbody tr")).to_have_count(3)
    expect(page.get_by_test_id("ledger").locator("tbody tr").first).to_contain_text("+10")
    expect(page.get_by_test_id("ledger").locator("tbody tr").first).to_contain_text("40")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("$10.00")
    expect(rows.first).to_contain_text("Paid")
    page.wait_for_load_state("networkidle")
    axe_check(page, "billing (after buying)")
    shot(page, "billing-credits")
    shot_phone(page, "billing-credits")


def test_subscribe_switch_cancel_and_refusals(
    new_context, live_server, api_register, axe_check, shot, shot_phone
):
    ctx = new_context(phone=True)  # the phone-size pass: every step at 390x844
    api_register(ctx, "production", name="Paz Producer", companyName="Paz Films")
    page = ctx.new_page()
    page.goto("/settings/billing")
    expect(page.get_by_test_id("plan-status")).to_have_text(
        "You are on the Free plan. Choose a plan to get credits every month."
    )

    # Choose Pro: the checkout switches to it, with its price.
    page.get_by_test_id("plan-pro").get_by_role("button", name="Choose Pro").click()
    expect(page.get_by_label("What to buy")).to_have_value("pro")
    expect(page).to_have_url(re.compile(r"plan=pro"))
    expect(page.get_by_label("Card number")).to_be_focused()
    expect(page.get_by_test_id("pay-total")).to_have_text("$49.00")

    # Refusals first. The provider fails: nothing charged, said so.
    _fill_card(page, PROVIDER_FAILS)
    page.get_by_role("button", name="Subscribe to Pro for $49.00").click()
    expect(page.get_by_test_id("pay-error")).to_have_text(
        "The payment provider did not complete the payment, and nothing was charged. Try again in a moment."
    )
    # A number failing the card check (Luhn).
    page.get_by_label("Card number").fill(BAD_LUHN)
    page.get_by_role("button", name="Subscribe to Pro for $49.00").click()
    # A number failing the card check is a decline before any charge, as processors answer.
    expect(page.get_by_test_id("pay-error")).to_have_text(
        "Payment declined: the card number is not valid. Nothing was charged."
    )
    expect(page.get_by_test_id("current-plan")).to_have_text("Free")

    # Subscribe.
    page.get_by_label("Card number").fill(GOOD)
    page.get_by_role("button", name="Subscribe to Pro for $49.00").click()
    expect(page.get_by_test_id("pay-done")).to_contain_text("Paid $49.00: Pro until")
    expect(page.get_by_test_id("current-plan")).to_have_text("Pro")
    expect(page.get_by_test_id("credit-balance")).to_have_text("50")
    expect(page.get_by_test_id("plan-status")).to_contain_text(
        "Pro, $49.00 a month, with 50 credits each month."
    )
    expect(page.get_by_test_id("plan-pro")).to_contain_text("Your plan")

    # Switch to Enterprise.
    page.get_by_test_id("plan-enterprise").get_by_role("button", name="Switch to Enterprise").click()
    _fill_card(page, "5555 5555 5555 4444")
    page.get_by_role("button", name="Switch to Enterprise for $199.00").click()
    expect(page.get_by_test_id("current-plan")).to_have_text("Enterprise")
    expect(page.get_by_test_id("credit-balance")).to_have_text("300")
    status = _server(ctx, live_server.url, "/api/payments/subscription-status")["data"]
    assert status["plan"] == "enterprise" and status["status"] == "active"
    page.wait_for_load_state("networkidle")
    axe_check(page, "billing (subscribed)")

    # Cancel: asked first, then kept until the period ends.
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("button", name="Keep my plan").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("Enterprise, $199.00 a month")
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("button", name="Yes, cancel Enterprise").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("Enterprise is cancelled: you keep it until")
    expect(page.get_by_role("button", name="Cancel subscription")).to_have_count(0)
    assert _server(ctx, live_server.url, "/api/payments/subscription-status")["data"]["status"] == "cancelled"
    rows = page.get_by_test_id("payment-row")
    # The provider's failure, Pro, Enterprise (the card refused by the server's check never got this far).
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Enterprise plan")
    expect(rows.first).to_contain_text("Mastercard ending 4444")
    expect(rows.nth(2)).to_contain_text("Failed")
    page.wait_for_load_state("networkidle")
    axe_check(page, "billing (cancelled)")
    shot_phone(page, "billing-plans")
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(page, "billing-plans")


def test_a_creator_sees_the_plans_and_no_payment_calls(new_context, api_register, axe_check):
    ctx = new_context()
    api_register(ctx, "creator", name="Cleo Creator")
    page = ctx.new_page()
    calls = _api_counter(page)
    page.goto("/settings/billing")
    expect(
        page.get_by_text("Plans and credits are for investor and production company accounts.")
    ).to_be_visible()
    expect(page.get_by_role("list", name="Plans").get_by_role("listitem")).to_have_count(4)
    expect(page.get_by_test_id("plan-enterprise")).to_contain_text("$199.00 a month")
    expect(page.get_by_role("button", name=re.compile("^(Choose|Buy)"))).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert [c for c in calls if "/api/payments/" in c] == ["GET /api/payments/plans"], calls
    axe_check(page, "billing (creator)")


def test_a_failed_call_shows_its_request_id(new_context, api_register, axe_check):
    """The real server refuses a page past its limit; the page shows the words and the request id."""
    ctx = new_context()
    api_register(ctx, "investor")
    page = ctx.new_page()
    with page.expect_response(lambda r: "/api/payments/credits/history" in r.url) as answer:
        page.goto("/settings/billing?ledger=100001")
    response = answer.value
    assert response.status == 422
    rid = response.headers["x-request-id"]
    ledger = page.get_by_role("region", name="Credit ledger")
    expect(ledger.get_by_role("alert")).to_contain_text("page")
    expect(ledger.get_by_test_id("request-id")).to_have_text(
        f"If this keeps happening, quote request id {rid} to support."
    )
    axe_check(page, "billing (failed call)")
