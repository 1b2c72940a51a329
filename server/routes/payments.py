"""Payments: credit purchases and subscriptions paid by card, the credit ledger, the plan.

A paid request runs in three steps so no database transaction is open across the network call:
record the attempt ('pending'), charge the provider, then settle it and apply what it bought in
ONE transaction (storage/payments.py). With an `Idempotency-Key` header a retried request gets
the stored answer and the card is charged at most once, even when retries race: the unique
(user_id, idempotency_key) decides which request charges, the others wait for its outcome.
The provider is also called with a key derived from the attempt's id, so re-driving an attempt
whose outcome we lost (timeout, crash before settling) cannot charge twice either.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from decimal import Decimal
from typing import Any, cast

import orjson

from pitchey.storage.payments import (
    CreditStore,
    IdempotencyMismatch,
    Payment,
    PaymentNotPending,
    PaymentStore,
    Settled,
    Subscription,
)

from ..api import Api, Call, Reply
from ..errors import (
    Conflict,
    IdempotencyConflict,
    IdempotencyInProgress,
    PaymentDeclined,
    PaymentProviderFailed,
    RateLimited,
)
from ..payments import (
    CREDIT_PRICE,
    CURRENCY,
    MAX_CREDITS_PER_PURCHASE,
    PLANS,
    CardDetails,
    PaymentProviderError,
    idempotency_key,
    money_str,
    payment_provider,
    setup_payments,
)
from ..schemas import Empty, PageQuery, pagination
from ..schemas.money import (
    CardIn,
    CreditBalanceOut,
    CreditPurchaseBody,
    LedgerEntryOut,
    PaymentOut,
    PaymentResult,
    PlanOut,
    PlansOut,
    ProcessBody,
    SubscribeBody,
    SubscriptionOut,
    SubscriptionStatus,
)
from .investments import REPLAYED_HEADER

log = logging.getLogger("pitchey.server.payments")

api = Api()
__all__ = ["api", "setup_payments"]  # app.py calls setup_payments(state) to pick the provider

# The provider must answer within this; past it the attempt is recorded failed (retryable).
PROVIDER_TIMEOUT = 20.0
# A pending attempt older than this has lost its request (crash): a retry may re-drive it.
STALE_AFTER = PROVIDER_TIMEOUT + 10.0
# How long a concurrent retry waits for the request that is charging.
WAIT_FOR_OTHER = PROVIDER_TIMEOUT + 5.0
# Card-testing guard: declined attempts allowed per user per window.
MAX_DECLINES = 10
DECLINE_WINDOW = 3600.0
DECLINED_MESSAGE = "Too many declined payments; try again later"


# -- mapping ----------------------------------------------------------------------------------


def subscription_out(sub: Subscription | None) -> SubscriptionOut:
    if sub is None:
        return SubscriptionOut(
            plan="free",
            status="none",
            effective_plan="free",
            price=money_str(PLANS["free"].price),
            credits_per_period=0,
            renews=False,
        )
    plan = PLANS[sub.plan]
    # past_due: the period ended and its renewal was declined; the plan stays while the renewal
    # is retried (a grace period), and goes when the last retry fails (stored 'expired').
    status: SubscriptionStatus
    if sub.status == "past_due":
        status = "past_due"
    else:
        status = "expired" if sub.expired else cast(SubscriptionStatus, sub.status)
    return SubscriptionOut(
        plan=sub.plan,
        status=status,
        effective_plan="free" if status == "expired" else sub.plan,
        price=money_str(plan.price),
        credits_per_period=plan.credits_per_period,
        current_period_start=sub.current_period_start,
        current_period_end=sub.current_period_end,
        renews=status == "active",
    )


def result_out(s: Settled, *, replayed: bool) -> PaymentResult:
    return PaymentResult(
        payment=PaymentOut.model_validate(s.payment),
        credits_added=s.ledger.delta if s.ledger else 0,
        credit_balance=s.ledger.balance_after if s.ledger else None,
        subscription=subscription_out(s.subscription) if s.subscription else None,
        replayed=replayed,
    )


# -- the flow ---------------------------------------------------------------------------------


def _request_hash(
    purpose: str, plan: str | None, credits: int | None, amount: Decimal, card: CardDetails
) -> str:
    """What makes two requests "the same" for an Idempotency-Key: what is bought, the price,
    and the card as far as we may remember it (brand, last four digits, expiry)."""
    canonical = orjson.dumps(
        {
            "purpose": purpose,
            "plan": plan,
            "credits": credits,
            "amount": money_str(amount),
            "currency": CURRENCY,
            "card": [card.brand, card.last4, card.exp_month, card.exp_year],
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


async def _pay(
    call: Call[Any, Any], *, purpose: str, plan: str | None, credits: int | None, card_in: CardIn
) -> Reply:
    me = call.user
    key = idempotency_key(call.request)
    decline = card_in.decline_code()
    if decline is not None:
        # A well-formed card no provider could charge (Luhn, expiry): declined before any
        # charge, in the provider's words, so the client shows it like any decline.
        raise PaymentDeclined(f"The card was declined ({decline})", details={"declineCode": decline})
    card = card_in.details()
    if purpose == "credits":
        assert credits is not None
        amount = CREDIT_PRICE * credits
        grant, months = credits, 1
    else:
        assert plan is not None
        amount = PLANS[plan].price
        grant, months = PLANS[plan].credits_per_period, PLANS[plan].months
    payments = PaymentStore(call.state.database)
    # Card-testing guard. Every attempt reserves a decline before the card reaches the provider
    # (atomically, so parallel attempts cannot all pass a count taken before any declined), and
    # gives it back unless the card is declined. The stored declines are the floor that
    # survives a restart of a single node's in-memory counts.
    attempts = call.state.attempts
    reservation = await attempts.reserve(
        "card-decline", str(me.user_id), MAX_DECLINES, DECLINE_WINDOW, DECLINED_MESSAGE
    )
    declined = False
    try:
        declines, retry_after = await payments.recent_declines(me.user_id, DECLINE_WINDOW)
        if declines >= MAX_DECLINES:
            raise RateLimited(retry_after, DECLINED_MESSAGE)
        return await _pay_reserved(
            call,
            payments,
            key=key,
            card=card,
            purpose=purpose,
            plan=plan,
            credits=credits,
            amount=amount,
            grant=grant,
            months=months,
        )
    except _FreshDecline:
        declined = True
        raise
    finally:
        if not declined:
            await attempts.release(reservation)


async def _pay_reserved(
    call: Call[Any, Any],
    payments: PaymentStore,
    *,
    key: str | None,
    card: CardDetails,
    purpose: str,
    plan: str | None,
    credits: int | None,
    amount: Decimal,
    grant: int,
    months: int,
) -> Reply:
    me = call.user
    try:
        begun = await payments.begin(
            user_id=me.user_id,
            key=key,
            request_hash=_request_hash(purpose, plan, credits, amount, card),
            amount=amount,
            currency=CURRENCY,
            purpose=purpose,
            plan=plan,
            credits=credits,
            card_brand=card.brand,
            card_last4=card.last4,
            stale_after=STALE_AFTER,
        )
    except IdempotencyMismatch:
        raise IdempotencyConflict() from None
    if not begun.drive:
        payment = begun.payment
        if payment.status == "pending":
            payment = await _wait_settled(payments, payment)
        return await _replay(payments, payment)
    # Shielded: a client that hangs up mid-charge must not leave the attempt unsettled.
    try:
        settled = await asyncio.shield(
            _charge(call, payments, begun.payment, card, plan=plan, grant=grant, months=months)
        )
    except PaymentNotPending:
        # Another request re-drove this attempt (we were slower than STALE_AFTER) and settled
        # it first; the provider's key made both calls one charge. Answer with its outcome.
        current = await payments.get(me.user_id, begun.payment.id)
        assert current is not None
        if current.status == "pending":
            current = await _wait_settled(payments, current)
        return await _replay(payments, current)
    return Reply(result_out(settled, replayed=False), status=201)


async def _charge(
    call: Call[Any, Any],
    payments: PaymentStore,
    payment: Payment,
    card: CardDetails,
    *,
    plan: str | None,
    grant: int,
    months: int,
) -> Settled:
    provider = payment_provider(call.state)
    try:
        async with asyncio.timeout(PROVIDER_TIMEOUT):
            result = await provider.charge(
                payment.amount, payment.currency, card, f"pitchey-payment-{payment.id}"
            )
    except (PaymentProviderError, TimeoutError) as exc:
        code = exc.code if isinstance(exc, PaymentProviderError) else "timeout"
        await payments.fail(payment.id, code)
        log.warning("payment %s failed at the provider: %s", payment.id, code)
        raise PaymentProviderFailed(details={"paymentId": payment.id, "providerCode": code}) from None
    if result.status != "succeeded":
        declined = await payments.decline(payment.id, result.id, result.decline_code)
        raise _declined(declined, fresh=True)
    # The saved method (the provider's reference, never the card) is what renewals charge.
    return await payments.succeed(
        payment.id, result.id, credits=grant, plan=plan, months=months, payment_method=result.payment_method
    )


class _FreshDecline(PaymentDeclined):
    """A decline the provider answered to this request (a replayed one did not reach it): the
    one outcome that keeps the card-testing guard's reservation."""


def _declined(p: Payment, *, fresh: bool = False) -> PaymentDeclined:
    kind = _FreshDecline if fresh else PaymentDeclined
    return kind(
        f"The card was declined ({p.failure_code})",
        details={"declineCode": p.failure_code, "paymentId": p.id},
    )


async def _wait_settled(payments: PaymentStore, payment: Payment) -> Payment:
    """Wait for the request that is charging this attempt; 409 if it takes too long."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_OTHER
    delay = 0.01
    while loop.time() < deadline:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)
        current = await payments.get(payment.user_id, payment.id)
        if current is not None and current.status != "pending":
            return current
    raise IdempotencyInProgress(details={"paymentId": payment.id})


async def _replay(payments: PaymentStore, payment: Payment) -> Reply:
    """The stored outcome of an attempt, answered exactly as the first time."""
    if payment.status == "declined":
        raise _declined(payment)
    if payment.status == "failed":
        raise PaymentProviderFailed(details={"paymentId": payment.id, "providerCode": payment.failure_code})
    settled = await payments.outcome(payment)
    return Reply(result_out(settled, replayed=True), status=200, headers={REPLAYED_HEADER: "true"})


_PAY_ERRORS = (PaymentDeclined, PaymentProviderFailed, IdempotencyConflict, RateLimited)
_PROCESS_ERRORS = (*_PAY_ERRORS, Conflict)  # the amount the client shows is not the price


@api.route(
    "POST",
    "/api/payments/process",
    body=ProcessBody,
    response=PaymentResult,
    status=201,
    also=(200,),  # a retry with the same Idempotency-Key replays the stored answer
    permission=("create", "payment"),
    tags=("payments",),
    errors=_PROCESS_ERRORS,
    summary="Pay by card for credits or a subscription (generic entry of the seed)",
)
async def process_payment(call: Call[ProcessBody, Any]) -> Reply:
    b = call.body
    price = (
        CREDIT_PRICE * b.credits
        if b.purpose == "credits" and b.credits is not None
        else PLANS[b.plan or "free"].price
    )
    if b.amount is not None and b.amount != price:
        # A stale price on the client: a conflict with the current price list, not a malformed
        # request (the schema cannot know the price).
        raise Conflict(
            f"amount: {money_str(b.amount)} does not match the price {money_str(price)}",
            details=[
                {"field": "amount", "message": f"the price is {money_str(price)}", "type": "value_error"}
            ],
        )
    return await _pay(call, purpose=b.purpose, plan=b.plan, credits=b.credits, card_in=b.card)


@api.route(
    "POST",
    "/api/payments/credits/purchase",
    body=CreditPurchaseBody,
    response=PaymentResult,
    status=201,
    also=(200,),  # a retry with the same Idempotency-Key replays the stored answer
    permission=("create", "payment"),
    tags=("payments",),
    errors=_PAY_ERRORS,
    summary="Buy credits by card (idempotent with an Idempotency-Key header)",
)
async def purchase_credits(call: Call[CreditPurchaseBody, Any]) -> Reply:
    return await _pay(call, purpose="credits", plan=None, credits=call.body.credits, card_in=call.body.card)


@api.route(
    "POST",
    "/api/payments/subscribe",
    body=SubscribeBody,
    response=PaymentResult,
    status=201,
    also=(200,),  # a retry with the same Idempotency-Key replays the stored answer
    permission=("create", "payment"),
    tags=("payments",),
    errors=_PAY_ERRORS,
    summary="Start, renew or change the subscription plan, paid by card",
)
async def subscribe(call: Call[SubscribeBody, Any]) -> Reply:
    return await _pay(call, purpose="subscription", plan=call.body.plan, credits=None, card_in=call.body.card)


@api.route(
    "POST",
    "/api/payments/subscription/cancel",
    body=Empty,
    response=SubscriptionOut,
    permission=("create", "payment"),
    tags=("payments",),
    errors=(Conflict,),
    summary="Stop renewal; the plan stays until the end of the paid period",
)
async def cancel_subscription(call: Call[Empty, Any]) -> SubscriptionOut:
    sub = await PaymentStore(call.state.database).cancel_subscription(call.user.user_id)
    if sub is None:
        raise Conflict("There is no active subscription to cancel")
    return subscription_out(sub)


@api.route(
    "GET",
    "/api/payments/subscription-status",
    response=SubscriptionOut,
    permission=("read", "payments"),
    tags=("payments",),
    summary="The caller's plan, its status and the end of the paid period",
)
async def subscription_status(call: Call[Any, Any]) -> SubscriptionOut:
    return subscription_out(await PaymentStore(call.state.database).subscription(call.user.user_id))


@api.route(
    "GET",
    "/api/payments/credits/balance",
    response=CreditBalanceOut,
    permission=("read", "payments"),
    tags=("payments",),
    summary="The caller's credit balance",
)
async def credit_balance(call: Call[Any, Any]) -> CreditBalanceOut:
    balance, updated = await CreditStore(call.state.database).balance(call.user.user_id)
    return CreditBalanceOut(balance=balance, credit_price=money_str(CREDIT_PRICE), updated_at=updated)


@api.route(
    "GET",
    "/api/payments/credits/history",
    query=PageQuery,
    response=LedgerEntryOut,
    response_list=True,
    permission=("read", "payments"),
    tags=("payments",),
    summary="The caller's credit ledger, newest first (paginated)",
)
async def credit_history(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    rows, total = await CreditStore(call.state.database).ledger(
        call.user.user_id, limit=q.limit, offset=q.offset
    )
    return Reply([LedgerEntryOut.model_validate(e) for e in rows], meta=pagination(q, total))


@api.route(
    "GET",
    "/api/payments/history",
    query=PageQuery,
    response=PaymentOut,
    response_list=True,
    permission=("read", "payments"),
    tags=("payments",),
    summary="The caller's payment attempts (every status), newest first (paginated)",
)
async def payment_history(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    rows, total = await PaymentStore(call.state.database).history(
        call.user.user_id, limit=q.limit, offset=q.offset
    )
    return Reply([PaymentOut.model_validate(p) for p in rows], meta=pagination(q, total))


@api.route(
    "GET",
    "/api/payments/plans",
    auth="none",
    response=PlansOut,
    tags=("payments",),
    summary="Prices: subscription plans and the credit price (public)",
)
async def list_plans(call: Call[Any, Any]) -> PlansOut:
    return PlansOut(
        credit_price=money_str(CREDIT_PRICE),
        max_credits_per_purchase=MAX_CREDITS_PER_PURCHASE,
        plans=[
            PlanOut(
                name=p.name,
                price=money_str(p.price),
                credits_per_period=p.credits_per_period,
                months=p.months,
            )
            for p in PLANS.values()
        ],
    )
