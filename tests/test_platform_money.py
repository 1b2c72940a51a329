"""Money: investments (NDA gate, idempotency, portfolio), recommendations, card payments through
the test provider (declines, provider errors, racing retries), the append-only credit ledger and
subscriptions. Sums are checked with Decimal, never float."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest
from realtime_helpers import app_state, bearer, connect, decide_nda, make_pitch, request_nda, user

from pitchey.server.payments import (
    ChargeResult,
    TestPaymentProvider,
    luhn_ok,
    parse_money,
)
from pitchey.server.routes import payments as payment_routes
from pitchey.storage.database import Database
from pitchey.storage.payments import CreditStore, InsufficientCredits

VISA = "4242 4242 4242 4242"
VISA_DIGITS = "4242424242424242"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"
PROCESSING_ERROR = "4000000000000119"
NEXT_YEAR = datetime.now(UTC).year + 1


def card(number: str = VISA, **extra):
    return {"number": number, "expMonth": 12, "expYear": NEXT_YEAR, "cvc": "123", **extra}


def provider(client) -> TestPaymentProvider:
    return app_state(client).payments


async def invest(client, token, pitch_id, amount, *, key=None, status=201, code=None, expect):
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    resp = await client.post(
        "/api/investments/create", json={"pitchId": pitch_id, "amount": amount}, headers=headers
    )
    return resp, await expect(resp, status, code)


async def get_data(client, path, token, expect, status=200, code=None):
    resp = await client.get(path, headers=bearer(token))
    return await expect(resp, status, code)


async def count(db_conn, table: str) -> int:
    return await db_conn.fetchval(f"SELECT count(*) FROM {table}")


# -- investments ------------------------------------------------------------------------------


async def test_investor_journey_nda_invest_portfolio_and_owner_notified(make_client, db_conn, expect):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    inv_id, inv_token = await user(client, "investor", name="Ada Investor")
    pitch = await make_pitch(
        client,
        owner_token,
        title="Storm",
        genre="Drama",
        synopsis="secret",
        budget="500000.00",
        requireNda=True,
    )
    other = await make_pitch(client, owner_token, title="Calm", genre="Comedy")

    # No NDA yet: refused, nothing written.
    await invest(client, inv_token, pitch["id"], "100.00", status=403, code="NDA_REQUIRED", expect=expect)
    assert await count(db_conn, "investments") == 0

    nda = (await request_nda(client, pitch["id"], inv_token))["data"]
    await decide_nda(client, nda["id"], owner_token, approve=True)

    owner_ws = await connect(client, owner_token)
    _, body = await invest(client, inv_token, pitch["id"], "1250.50", expect=expect)
    first = body["data"]
    assert first["amount"] == "1250.50" and first["currency"] == "USD"
    assert first["status"] == "pending" and first["pitchTitle"] == "Storm"
    assert first["pitchId"] == pitch["id"]
    # A JSON number is accepted and read exactly (749.5 -> "749.50").
    _, body = await invest(client, inv_token, pitch["id"], 749.5, expect=expect)
    second = body["data"]
    assert second["amount"] == "749.50"
    _, body = await invest(client, inv_token, other["id"], "0.01", expect=expect)

    # The owner hears of each investment live, and it is stored as a notification.
    frame = await owner_ws.expect("notification", f"user:{owner_id}")
    assert frame["data"]["kind"] == "new_investment"
    assert frame["data"]["data"]["amount"] == "1250.50"
    assert frame["data"]["data"]["investorId"] == inv_id
    assert "Ada Investor" in frame["data"]["body"]
    rows = await db_conn.fetch(
        "SELECT data FROM notifications WHERE user_id = $1 AND kind = 'new_investment' ORDER BY id", owner_id
    )
    assert len(rows) == 3
    await owner_ws.close()

    data = (await get_data(client, "/api/investments/portfolio", inv_token, expect))["data"]
    expected_total = Decimal("1250.50") + Decimal("749.50") + Decimal("0.01")
    assert Decimal(data["totalInvested"]) == expected_total
    assert data["totalInvested"] == "2000.01"
    assert data["investmentCount"] == 3 and data["positionCount"] == 2
    assert data["byStatus"] == [{"status": "pending", "count": 3, "amount": "2000.01"}]
    top = data["positions"][0]
    assert (top["pitchId"], top["pitchTitle"], top["amount"], top["count"]) == (
        pitch["id"],
        "Storm",
        "2000.00",
        2,
    )
    assert top["genre"] == "Drama"
    assert top["firstInvestmentAt"] <= top["lastInvestmentAt"]
    assert data["positions"][1]["amount"] == "0.01"

    body = await get_data(client, "/api/investments/history?limit=2", inv_token, expect)
    assert [i["amount"] for i in body["data"]] == ["0.01", "749.50"]  # newest first
    assert body["meta"]["pagination"] == {"page": 1, "limit": 2, "total": 3, "hasMore": True}
    body = await get_data(client, "/api/investments/history?limit=2&page=2", inv_token, expect)
    assert [i["id"] for i in body["data"]] == [first["id"]]
    assert body["meta"]["pagination"]["hasMore"] is False
    # The database holds exact NUMERIC amounts.
    total = await db_conn.fetchval("SELECT sum(amount) FROM investments WHERE investor_id = $1", inv_id)
    assert total == expected_total


async def test_portfolio_counts_only_standing_investments(make_client, db_conn, expect):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    _, inv_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token, genre="Horror")
    ids = []
    for amount in ("10.00", "20.00", "30.00"):
        _, body = await invest(client, inv_token, pitch["id"], amount, expect=expect)
        ids.append(body["data"]["id"])
    await db_conn.execute("UPDATE investments SET status = 'cancelled' WHERE id = $1", ids[0])
    await db_conn.execute("UPDATE investments SET status = 'completed' WHERE id = $1", ids[1])
    data = (await get_data(client, "/api/investments/portfolio", inv_token, expect))["data"]
    assert data["totalInvested"] == "50.00"
    assert data["investmentCount"] == 3 and data["positionCount"] == 1
    assert data["positions"][0]["count"] == 2
    assert {s["status"]: (s["count"], s["amount"]) for s in data["byStatus"]} == {
        "cancelled": (1, "10.00"),
        "completed": (1, "20.00"),
        "pending": (1, "30.00"),
    }
    # Nobody else's portfolio leaks: a fresh investor sees zeros, not an error.
    _, fresh = await user(client, "investor")
    data = (await get_data(client, "/api/investments/portfolio", fresh, expect))["data"]
    assert data == {
        "currency": "USD",
        "totalInvested": "0.00",
        "investmentCount": 0,
        "positionCount": 0,
        "byStatus": [],
        "positions": [],
    }
    body = await get_data(client, "/api/investments/history", fresh, expect)
    assert body["data"] == [] and body["meta"]["pagination"]["total"] == 0


async def test_investment_refusals_write_nothing(make_client, db_conn, expect):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    _, prod_token = await user(client, "production")
    _, inv_token = await user(client, "investor")
    public = await make_pitch(client, owner_token)
    draft = await make_pitch(client, owner_token, status="draft")
    private = await make_pitch(client, owner_token, visibility="private")

    async def refused(token, pitch_id, amount, status, code):
        resp = await client.post(
            "/api/investments/create",
            json={"pitchId": pitch_id, "amount": amount},
            headers=bearer(token) if token else {},
        )
        await expect(resp, status, code)

    await refused(None, public["id"], "10", 401, "UNAUTHORIZED")
    await refused(owner_token, public["id"], "10", 403, "FORBIDDEN")
    await refused(prod_token, public["id"], "10", 403, "FORBIDDEN")
    await refused(inv_token, 999999, "10", 404, "NOT_FOUND")
    await refused(inv_token, draft["id"], "10", 404, "NOT_FOUND")
    await refused(inv_token, private["id"], "10", 403, "FORBIDDEN")
    for bad in (
        0,
        -1,
        "0",
        "-1",
        "0.00",
        1.001,
        "1.001",
        "abc",
        1e20,
        "1e3",
        "NaN",
        "Infinity",
        True,
        None,
        [],
        {},
        "1000000000.01",
        10**30,
        "",
        " ",
    ):
        await refused(inv_token, public["id"], bad, 422, "VALIDATION_ERROR")
    await refused(inv_token, "1", "10", 422, "VALIDATION_ERROR")  # ids are integers
    # Literal NaN is not JSON at all.
    resp = await client.post(
        "/api/investments/create",
        data=b'{"pitchId": %d, "amount": NaN}' % public["id"],
        headers={**bearer(inv_token), "Content-Type": "application/json"},
    )
    await expect(resp, 400, "INVALID_JSON")
    assert await count(db_conn, "investments") == 0
    assert await count(db_conn, "notifications") == 0
    # The largest amount allowed, exactly.
    _, body = await invest(client, inv_token, public["id"], "1000000000.00", expect=expect)
    assert body["data"]["amount"] == "1000000000.00"
    _, body = await invest(client, inv_token, public["id"], 1.1, expect=expect)
    assert body["data"]["amount"] == "1.10"


def test_parse_money_is_exact():
    assert parse_money("1250") == Decimal("1250.00")
    assert parse_money(0.1) == Decimal("0.10")
    assert parse_money("1.100") == Decimal("1.10")  # value has two places
    assert str(parse_money(5)) == "5.00"
    for bad in (0.1 + 0.2, float("nan"), float("inf"), "1e2", "1_000", "0x10", " 1 2"):
        with pytest.raises(ValueError):
            parse_money(bad)


async def test_investment_idempotency_key(make_client, db_conn, expect):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    _, inv_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token)

    resp, body = await invest(client, inv_token, pitch["id"], "500", key="inv-1", expect=expect)
    first = body["data"]
    resp, body = await invest(
        client, inv_token, pitch["id"], "500.00", key="inv-1", status=200, expect=expect
    )
    assert body["data"] == first
    assert resp.headers["Idempotent-Replayed"] == "true"
    # Same key, another request: refused, nothing new.
    await invest(
        client,
        inv_token,
        pitch["id"],
        "501",
        key="inv-1",
        status=409,
        code="IDEMPOTENCY_CONFLICT",
        expect=expect,
    )
    assert await count(db_conn, "investments") == 1
    assert await db_conn.fetchval("SELECT count(*) FROM notifications WHERE user_id = $1", owner_id) == 1
    # Keys are per investor: another investor's same key is a different investment.
    _, other_token = await user(client, "investor")
    _, body = await invest(client, other_token, pitch["id"], "500", key="inv-1", expect=expect)
    assert body["data"]["id"] != first["id"]

    # Two identical retries racing: one row, one 201 and one 200 with the same investment.
    async def attempt():
        return await client.post(
            "/api/investments/create",
            json={"pitchId": pitch["id"], "amount": "75.25"},
            headers={**bearer(inv_token), "Idempotency-Key": "race"},
        )

    a, b = await asyncio.gather(attempt(), attempt())
    assert sorted([a.status, b.status]) == [200, 201]
    assert (await a.json())["data"]["id"] == (await b.json())["data"]["id"]
    assert await db_conn.fetchval("SELECT count(*) FROM investments WHERE idempotency_key = 'race'") == 1
    # A malformed key is refused before anything happens.
    await invest(
        client, inv_token, pitch["id"], "1", key="x" * 256, status=422, code="VALIDATION_ERROR", expect=expect
    )
    await invest(
        client,
        inv_token,
        pitch["id"],
        "1",
        key="has space",
        status=422,
        code="VALIDATION_ERROR",
        expect=expect,
    )
    assert await count(db_conn, "investments") == 3


# -- recommendations --------------------------------------------------------------------------


async def test_recommendations_rank_with_reasons_and_exclude_holdings(make_client, db_conn, expect):
    client = await make_client()
    _, c1 = await user(client, "creator")
    c2_id, c2 = await user(client, "creator")
    inv_id, inv = await user(client, "investor")
    _, fan = await user(client, "investor")
    held = await make_pitch(client, c1, title="Held drama", genre="Drama")
    await make_pitch(client, c1, title="Next drama", genre="drama ")
    await make_pitch(client, c2, title="Followed comedy", genre="Comedy")
    popular = await make_pitch(client, c1, title="Popular doc", genre="Documentary")
    await make_pitch(client, c1, title="Quiet western", genre="Western")
    await make_pitch(
        client, c1, title="Secret thriller", genre="Thriller", synopsis="the twist", requireNda=True
    )
    nda_pitch = await make_pitch(
        client, c1, title="Signed sci-fi", genre="SciFi", synopsis="known twist", requireNda=True
    )
    await make_pitch(client, c1, title="Draft", genre="Drama", status="draft")
    await make_pitch(client, c1, title="Private", genre="Drama", visibility="private")
    await make_pitch(client, c1, title="Investors only", genre="Drama", visibility="investors_only")

    await invest(client, inv, held["id"], "100", expect=expect)
    await db_conn.execute("INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)", inv_id, c2_id)
    resp = await client.post(f"/api/pitches/{popular['id']}/like", json={}, headers=bearer(fan))
    assert resp.status == 200
    nda = (await request_nda(client, nda_pitch["id"], inv))["data"]
    await decide_nda(client, nda["id"], c1, approve=True)

    body = await get_data(client, "/api/investment/recommendations", inv, expect)
    recs = body["data"]
    by_title = {r["pitch"]["title"]: r for r in recs}
    assert "Held drama" not in by_title  # already held
    assert "Draft" not in by_title and "Private" not in by_title
    assert body["meta"]["pagination"]["total"] == len(recs) == 7
    assert by_title["Next drama"]["reason"] == "Because you invested in drama"
    assert by_title["Next drama"]["reasonCode"] == "invested_genre"
    assert by_title["Investors only"]["reasonCode"] == "invested_genre"
    assert by_title["Followed comedy"]["reason"] == "From a creator you follow"
    assert by_title["Popular doc"]["reason"] == "Trending"
    assert by_title["Quiet western"]["reasonCode"] == "new"
    assert by_title["Signed sci-fi"]["reasonCode"] == "nda_access"
    # NDA-protected fields only where the investor holds the NDA.
    assert by_title["Secret thriller"]["pitch"]["synopsis"] is None
    assert by_title["Secret thriller"]["pitch"]["protected"] is True
    assert by_title["Signed sci-fi"]["pitch"]["synopsis"] == "known twist"
    # Ranked: NDA access (5) > follow (4) > invested genre (3) > trending > new.
    titles = [r["pitch"]["title"] for r in recs]
    assert titles[0] == "Signed sci-fi" and titles[1] == "Followed comedy"
    assert set(titles[2:4]) == {"Next drama", "Investors only"}
    assert titles[4] == "Popular doc"
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    # Paginated.
    body = await get_data(client, "/api/investment/recommendations?limit=2&page=2", inv, expect)
    assert [r["pitch"]["title"] for r in body["data"]] == titles[2:4]
    assert body["meta"]["pagination"] == {"page": 2, "limit": 2, "total": 7, "hasMore": True}
    body = await get_data(client, "/api/investment/recommendations?page=50", inv, expect)
    assert body["data"] == [] and body["meta"]["pagination"]["total"] == 7
    # Investors only.
    await get_data(client, "/api/investment/recommendations", c1, expect, 403, "FORBIDDEN")
    await get_data(client, "/api/investment/recommendations?limit=101", inv, expect, 422, "VALIDATION_ERROR")


async def test_recommendation_reason_follows_strongest_signal(make_client, expect):
    client = await make_client()
    _, c1 = await user(client, "creator")
    _, inv = await user(client, "investor")
    liked = await make_pitch(client, c1, title="Liked horror", genre="Horror")
    candidate = await make_pitch(client, c1, title="Other horror", genre="Horror")
    resp = await client.post(f"/api/pitches/{liked['id']}/like", json={}, headers=bearer(inv))
    assert resp.status == 200
    recs = (await get_data(client, "/api/investment/recommendations", inv, expect))["data"]
    by_id = {r["pitch"]["id"]: r for r in recs}
    assert by_id[candidate["id"]]["reason"] == "Because you liked Horror pitches"
    assert by_id[candidate["id"]]["score"] == 1.0


# -- payments ---------------------------------------------------------------------------------


async def pay(client, token, path, body, *, key=None, status=201, code=None, expect):
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    resp = await client.post(path, json=body, headers=headers)
    return resp, await expect(resp, status, code)


async def test_credit_purchase_success_ledger_and_no_card_stored(make_client, db_conn, expect, log_capture):
    logs = log_capture("text", "DEBUG")
    client = await make_client()
    uid, token = await user(client, "investor")
    _, body = await pay(
        client, token, "/api/payments/credits/purchase", {"credits": 25, "card": card()}, expect=expect
    )
    data = body["data"]
    assert data["payment"]["status"] == "succeeded"
    assert data["payment"]["amount"] == "25.00" and data["payment"]["currency"] == "USD"
    assert (data["payment"]["cardBrand"], data["payment"]["cardLast4"]) == ("visa", "4242")
    assert data["payment"]["providerRef"].startswith("ch_test_")
    assert (data["creditsAdded"], data["creditBalance"], data["replayed"]) == (25, 25, False)
    assert provider(client).calls == 1

    _, body = await pay(
        client,
        token,
        "/api/payments/process",
        {"purpose": "credits", "credits": 5, "amount": "5.00", "card": card()},
        expect=expect,
    )
    assert body["data"]["creditBalance"] == 30

    bal = (await get_data(client, "/api/payments/credits/balance", token, expect))["data"]
    assert bal["balance"] == 30 and bal["creditPrice"] == "1.00"
    hist = await get_data(client, "/api/payments/credits/history", token, expect)
    assert [(e["delta"], e["balanceAfter"], e["reason"]) for e in hist["data"]] == [
        (5, 30, "purchase"),
        (25, 25, "purchase"),
    ]
    assert hist["meta"]["pagination"]["total"] == 2
    pays = await get_data(client, "/api/payments/history", token, expect)
    assert [p["amount"] for p in pays["data"]] == ["5.00", "25.00"]
    # The balance equals the ledger, and the card number is nowhere: not in the database, not
    # in the logs.
    assert await db_conn.fetchval("SELECT sum(delta) FROM credit_ledger WHERE user_id = $1", uid) == 30
    assert await db_conn.fetchval("SELECT balance FROM credit_balances WHERE user_id = $1", uid) == 30
    for table in ("payments", "credit_ledger"):
        dump = await db_conn.fetchval(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t")
        assert VISA_DIGITS not in dump
    assert VISA_DIGITS not in logs.getvalue()
    cols = {
        r["column_name"]
        for r in await db_conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'payments'"
        )
    }
    assert "card_last4" in cols and not cols & {"card_number", "number", "cvc", "pan"}


async def test_declines_are_402_and_change_nothing(make_client, db_conn, expect):
    client = await make_client()
    uid, token = await user(client, "production")
    for number, code in ((DECLINED, "card_declined"), (NO_FUNDS, "insufficient_funds")):
        _, body = await pay(
            client,
            token,
            "/api/payments/credits/purchase",
            {"credits": 10, "card": card(number)},
            status=402,
            code="PAYMENT_DECLINED",
            expect=expect,
        )
        assert body["error"]["details"]["declineCode"] == code
    rows = await db_conn.fetch(
        "SELECT status, failure_code, card_last4 FROM payments WHERE user_id = $1 ORDER BY id", uid
    )
    assert [tuple(r) for r in rows] == [
        ("declined", "card_declined", "0002"),
        ("declined", "insufficient_funds", "9995"),
    ]
    assert await count(db_conn, "credit_ledger") == 0
    bal = (await get_data(client, "/api/payments/credits/balance", token, expect))["data"]
    assert bal["balance"] == 0
    # A declined subscription leaves the user on the free plan.
    await pay(
        client,
        token,
        "/api/payments/subscribe",
        {"plan": "pro", "card": card(DECLINED)},
        status=402,
        code="PAYMENT_DECLINED",
        expect=expect,
    )
    sub = (await get_data(client, "/api/payments/subscription-status", token, expect))["data"]
    assert (sub["plan"], sub["status"]) == ("free", "none")
    # A declined attempt replays as declined, without another charge.
    calls = provider(client).calls
    for _ in range(2):
        await pay(
            client,
            token,
            "/api/payments/credits/purchase",
            {"credits": 1, "card": card(DECLINED)},
            key="d-1",
            status=402,
            code="PAYMENT_DECLINED",
            expect=expect,
        )
    assert provider(client).calls == calls + 1


async def test_provider_error_is_502_recorded_failed_and_retryable(make_client, db_conn, expect):
    client = await make_client()
    uid, token = await user(client, "investor")
    _, body = await pay(
        client,
        token,
        "/api/payments/credits/purchase",
        {"credits": 10, "card": card(PROCESSING_ERROR)},
        key="p-1",
        status=502,
        code="PAYMENT_PROVIDER_ERROR",
        expect=expect,
    )
    assert body["error"]["details"]["providerCode"] == "processing_error"
    row = await db_conn.fetchrow("SELECT status, failure_code FROM payments WHERE user_id = $1", uid)
    assert tuple(row) == ("failed", "processing_error")
    assert provider(client).charged == []
    assert await count(db_conn, "credit_ledger") == 0
    # Failed means nothing was charged: the same key may try again (and fails again here).
    await pay(
        client,
        token,
        "/api/payments/credits/purchase",
        {"credits": 10, "card": card(PROCESSING_ERROR)},
        key="p-1",
        status=502,
        code="PAYMENT_PROVIDER_ERROR",
        expect=expect,
    )
    assert provider(client).calls == 2
    assert await count(db_conn, "payments") == 1


class LosesAnswers(TestPaymentProvider):
    """Charges, but the first answer never reaches us in time (the charge completes anyway)."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.slow_once = True

    async def charge(self, amount, currency, card_, idempotency_key) -> ChargeResult:
        inner = asyncio.ensure_future(super().charge(amount, currency, card_, idempotency_key))
        if self.slow_once:
            self.slow_once = False
            await asyncio.sleep(1.0)  # our timeout fires first; the charge still happens
        return await asyncio.shield(inner)


async def test_lost_answer_is_retried_without_charging_twice(make_client, db_conn, expect, monkeypatch):
    monkeypatch.setattr(payment_routes, "PROVIDER_TIMEOUT", 0.2)
    client = await make_client()
    app_state(client).payments = slow = LosesAnswers()
    uid, token = await user(client, "investor")
    _, body = await pay(
        client,
        token,
        "/api/payments/credits/purchase",
        {"credits": 7, "card": card()},
        key="lost",
        status=502,
        code="PAYMENT_PROVIDER_ERROR",
        expect=expect,
    )
    assert body["error"]["details"]["providerCode"] == "timeout"
    assert len(slow.charged) == 1  # the provider did charge
    # The retry re-drives the same attempt with the same provider key: the provider answers
    # with the charge it already made, and we settle it once.
    _, body = await pay(
        client,
        token,
        "/api/payments/credits/purchase",
        {"credits": 7, "card": card()},
        key="lost",
        expect=expect,
    )
    assert body["data"]["payment"]["status"] == "succeeded"
    assert body["data"]["creditBalance"] == 7
    assert len(slow.charged) == 1
    assert await count(db_conn, "payments") == 1
    assert await db_conn.fetchval("SELECT balance FROM credit_balances WHERE user_id = $1", uid) == 7


async def test_bad_cards_are_refused_before_any_charge(make_client, db_conn, expect):
    client = await make_client()
    _, token = await user(client, "investor")
    assert not luhn_ok("4242424242424241")
    past = datetime.now(UTC).replace(day=1) - timedelta(days=1)
    # Well-formed cards no provider could charge: declined (402) in the provider's words, before
    # any charge (the document's schema cannot state Luhn or "not expired").
    for bad, code in (
        (card("4242 4242 4242 4241"), "incorrect_number"),
        ({**card(), "expYear": past.year, "expMonth": past.month}, "expired_card"),
    ):
        _, body = await pay(
            client,
            token,
            "/api/payments/credits/purchase",
            {"credits": 1, "card": bad},
            status=402,
            code="PAYMENT_DECLINED",
            expect=expect,
        )
        assert body["error"]["details"] == {"declineCode": code}
        assert "4242424242424241" not in str(body)
    bad_cards = [
        card("4242"),  # too short
        card("4242-4242-4242-424x"),
        card(4242424242424242),  # not a string
        card(cvc="12"),
        card(cvc=123),
        card(expMonth=13),
        card(expMonth="12"),
        None,
    ]
    for bad in bad_cards:
        _, body = await pay(
            client,
            token,
            "/api/payments/credits/purchase",
            {"credits": 1, "card": bad},
            status=422,
            code="VALIDATION_ERROR",
            expect=expect,
        )
        assert "4242424242424241" not in str(body)
    for body in (
        {"credits": 0, "card": card()},
        {"credits": 10001, "card": card()},
        {"credits": 1.5, "card": card()},
        {"credits": "1", "card": card()},
        {"card": card()},
    ):
        await pay(
            client,
            token,
            "/api/payments/credits/purchase",
            body,
            status=422,
            code="VALIDATION_ERROR",
            expect=expect,
        )
    for body in ({"plan": "free", "card": card()}, {"plan": "gold", "card": card()}):
        await pay(
            client, token, "/api/payments/subscribe", body, status=422, code="VALIDATION_ERROR", expect=expect
        )
    # A stale price shown by the client: a conflict with the price list, not a malformed request.
    await pay(
        client,
        token,
        "/api/payments/process",
        {"purpose": "credits", "credits": 5, "amount": "4.99", "card": card()},
        status=409,
        code="CONFLICT",
        expect=expect,
    )
    for body in (
        {"purpose": "credits", "card": card()},
        {"purpose": "subscription", "card": card()},
        {"purpose": "subscription", "plan": "pro", "credits": 3, "card": card()},
        {"purpose": "credits", "credits": 5, "currency": "EUR", "card": card()},
        {"purpose": "donation", "card": card()},
    ):
        await pay(
            client, token, "/api/payments/process", body, status=422, code="VALIDATION_ERROR", expect=expect
        )
    assert provider(client).calls == 0
    assert await count(db_conn, "payments") == 0


async def test_racing_retries_charge_once(make_client, db_conn, expect):
    client = await make_client()
    provider(client).latency = 0.3
    uid, token = await user(client, "investor")

    async def attempt(key="race-1", credits=40):
        return await client.post(
            "/api/payments/credits/purchase",
            json={"credits": credits, "card": card()},
            headers={**bearer(token), "Idempotency-Key": key},
        )

    a, b, c = await asyncio.gather(attempt(), attempt(), attempt())
    statuses = sorted([a.status, b.status, c.status])
    assert statuses == [200, 200, 201], statuses
    bodies = [await r.json() for r in (a, b, c)]
    assert len({x["data"]["payment"]["id"] for x in bodies}) == 1
    assert sorted(x["data"]["replayed"] for x in bodies) == [False, True, True]
    assert all(x["data"]["creditBalance"] == 40 for x in bodies)
    assert provider(client).calls == 1 and len(provider(client).charged) == 1
    assert await count(db_conn, "payments") == 1
    assert await count(db_conn, "credit_ledger") == 1
    assert await db_conn.fetchval("SELECT balance FROM credit_balances WHERE user_id = $1", uid) == 40
    # A later retry replays from the database (no provider call), with the header.
    resp = await attempt()
    body = await expect(resp, 200)
    assert resp.headers["Idempotent-Replayed"] == "true" and body["data"]["replayed"] is True
    assert provider(client).calls == 1
    # The same key for something else is a conflict, not a second charge.
    await expect(await attempt(credits=41), 409, "IDEMPOTENCY_CONFLICT")
    # Keys are the user's own: another user's identical key charges them separately.
    _, other = await user(client, "investor")
    resp = await client.post(
        "/api/payments/credits/purchase",
        json={"credits": 40, "card": card()},
        headers={**bearer(other), "Idempotency-Key": "race-1"},
    )
    await expect(resp, 201)
    assert provider(client).calls == 2


async def test_subscription_lifecycle(make_client, db_conn, expect):
    client = await make_client()
    uid, token = await user(client, "production")
    sub = (await get_data(client, "/api/payments/subscription-status", token, expect))["data"]
    assert sub == {
        "plan": "free",
        "status": "none",
        "effectivePlan": "free",
        "price": "0.00",
        "currency": "USD",
        "creditsPerPeriod": 0,
        "currentPeriodStart": None,
        "currentPeriodEnd": None,
        "renews": False,
    }
    await pay(
        client, token, "/api/payments/subscription/cancel", {}, status=409, code="CONFLICT", expect=expect
    )

    _, body = await pay(
        client, token, "/api/payments/subscribe", {"plan": "pro", "card": card()}, expect=expect
    )
    data = body["data"]
    assert data["payment"]["amount"] == "49.00" and data["payment"]["plan"] == "pro"
    assert data["subscription"]["status"] == "active" and data["subscription"]["plan"] == "pro"
    assert (data["creditsAdded"], data["creditBalance"]) == (50, 50)
    end1 = datetime.fromisoformat(data["subscription"]["currentPeriodEnd"])
    assert timedelta(days=27) < end1 - datetime.now(UTC) < timedelta(days=32)

    # Paying the same plan again extends the running period by a month.
    _, body = await pay(
        client, token, "/api/payments/subscribe", {"plan": "pro", "card": card()}, expect=expect
    )
    end2 = datetime.fromisoformat(body["data"]["subscription"]["currentPeriodEnd"])
    assert timedelta(days=27) < end2 - end1 < timedelta(days=32)
    assert body["data"]["creditBalance"] == 100

    # Another plan starts a new period now (no proration).
    _, body = await pay(
        client,
        token,
        "/api/payments/process",
        {"purpose": "subscription", "plan": "basic", "amount": 19, "card": card()},
        expect=expect,
    )
    sub = body["data"]["subscription"]
    assert sub["plan"] == "basic" and sub["price"] == "19.00"
    end3 = datetime.fromisoformat(sub["currentPeriodEnd"])
    assert end3 < end2

    _, body = await pay(client, token, "/api/payments/subscription/cancel", {}, status=200, expect=expect)
    assert (body["data"]["status"], body["data"]["renews"], body["data"]["effectivePlan"]) == (
        "cancelled",
        False,
        "basic",
    )
    sub = (await get_data(client, "/api/payments/subscription-status", token, expect))["data"]
    assert sub["status"] == "cancelled" and sub["currentPeriodEnd"] is not None

    # Once the period has ended the plan reads as expired (free in effect).
    await db_conn.execute(
        "UPDATE subscriptions SET current_period_start = now() - interval '2 months', "
        "current_period_end = now() - interval '1 day' WHERE user_id = $1",
        uid,
    )
    sub = (await get_data(client, "/api/payments/subscription-status", token, expect))["data"]
    assert (sub["plan"], sub["status"], sub["effectivePlan"]) == ("basic", "expired", "free")
    grants = await db_conn.fetch(
        "SELECT delta, reason FROM credit_ledger WHERE user_id = $1 ORDER BY id", uid
    )
    assert [tuple(g) for g in grants] == [
        (50, "subscription_grant"),
        (50, "subscription_grant"),
        (10, "subscription_grant"),
    ]


async def test_payment_permissions(make_client, expect):
    client = await make_client()
    _, creator = await user(client, "creator")
    await pay(
        client,
        creator,
        "/api/payments/credits/purchase",
        {"credits": 1, "card": card()},
        status=403,
        code="FORBIDDEN",
        expect=expect,
    )
    await pay(
        client,
        creator,
        "/api/payments/subscribe",
        {"plan": "basic", "card": card()},
        status=403,
        code="FORBIDDEN",
        expect=expect,
    )
    for path in (
        "/api/payments/credits/balance",
        "/api/payments/subscription-status",
        "/api/payments/history",
        "/api/payments/credits/history",
        "/api/investments/portfolio",
        "/api/investments/history",
    ):
        await get_data(client, path, creator, expect, 403, "FORBIDDEN")
        resp = await client.get(path)
        await expect(resp, 401, "UNAUTHORIZED")
    assert provider(client).calls == 0
    plans = await expect(await client.get("/api/payments/plans"), 200)
    assert [(p["name"], p["price"]) for p in plans["data"]["plans"]] == [
        ("free", "0.00"),
        ("basic", "19.00"),
        ("pro", "49.00"),
        ("enterprise", "199.00"),
    ]
    # The paths are in the OpenAPI document.
    doc = await (await client.get("/api/openapi.json")).json()
    for path in (
        "/api/investments/create",
        "/api/investment/recommendations",
        "/api/payments/process",
        "/api/payments/credits/purchase",
        "/api/payments/subscribe",
        "/api/payments/credits/history",
    ):
        assert path in doc["paths"], path


async def test_card_testing_guard(make_client, monkeypatch, expect):
    monkeypatch.setattr(payment_routes, "MAX_DECLINES", 3)
    client = await make_client()
    _, token = await user(client, "investor")
    for _ in range(3):
        await pay(
            client,
            token,
            "/api/payments/credits/purchase",
            {"credits": 1, "card": card(DECLINED)},
            status=402,
            code="PAYMENT_DECLINED",
            expect=expect,
        )
    resp, _ = await pay(
        client,
        token,
        "/api/payments/credits/purchase",
        {"credits": 1, "card": card()},
        status=429,
        code="RATE_LIMITED",
        expect=expect,
    )
    assert 3500 <= int(resp.headers["Retry-After"]) <= 3600
    assert provider(client).calls == 3


# -- the ledger -------------------------------------------------------------------------------


async def test_ledger_is_append_only_and_settled_payments_immutable(make_client, db_conn, expect):
    client = await make_client()
    uid, token = await user(client, "investor")
    await pay(client, token, "/api/payments/credits/purchase", {"credits": 3, "card": card()}, expect=expect)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db_conn.execute("UPDATE credit_ledger SET delta = 1000 WHERE user_id = $1", uid)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db_conn.execute("DELETE FROM credit_ledger WHERE user_id = $1", uid)
    with pytest.raises(asyncpg.PostgresError, match="settled"):
        await db_conn.execute("UPDATE payments SET status = 'failed' WHERE user_id = $1", uid)
    with pytest.raises(asyncpg.PostgresError, match="never deleted"):
        await db_conn.execute("DELETE FROM payments WHERE user_id = $1", uid)
    with pytest.raises(asyncpg.CheckViolationError):
        await db_conn.execute("UPDATE credit_balances SET balance = -1 WHERE user_id = $1", uid)
    assert await db_conn.fetchval("SELECT delta FROM credit_ledger WHERE user_id = $1", uid) == 3


async def test_concurrent_spends_never_overdraw(make_client, clean_db, expect):
    client = await make_client()
    uid, token = await user(client, "investor")
    await pay(client, token, "/api/payments/credits/purchase", {"credits": 10, "card": card()}, expect=expect)
    db = await Database.connect(clean_db, min_size=1, max_size=8)
    try:
        credits = CreditStore(db)

        async def spend():
            try:
                await credits.spend(uid, 1, "a test spend")
                return True
            except InsufficientCredits:
                return False

        results = await asyncio.gather(*(spend() for _ in range(16)))
        assert results.count(True) == 10 and results.count(False) == 6
        assert await credits.balance(uid) == (0, (await credits.balance(uid))[1])
        with pytest.raises(InsufficientCredits):
            await credits.spend(uid, 1)
        await credits.adjust(uid, 2, "goodwill")
        entries, total = await credits.ledger(uid, limit=100, offset=0)
        assert total == 12
        # Every entry's balance_after is the running sum of the deltas before it.
        running = 0
        for e in reversed(entries):
            running += e.delta
            assert e.balance_after == running
        assert running == (await credits.balance(uid))[0] == 2
    finally:
        await db.close()
    hist = await get_data(client, "/api/payments/credits/history?limit=1", token, expect)
    assert hist["data"][0]["reason"] == "adjustment"
    assert hist["meta"]["pagination"]["total"] == 12
