"""Subscriptions renew at the end of their period, through the payment provider.

Each paid period enqueues `subscriptions.renew` for its end, in the transaction that paid it
(pitchey.storage.payments). The task charges the saved payment method (the provider's reference,
never a card number). Paid: the period continues where it ended, its credits are granted and the
next renewal is enqueued, all in one transaction. Declined: the subscription is `past_due` (the
plan stays meanwhile), the holder is told, and the renewal is tried again after
`PITCHEY_RENEWAL_RETRY_AFTER`; after `PITCHEY_RENEWAL_MAX_DECLINES` declines in a row it expires
and the account is back on the free plan.

Exactly once: a period's attempt is one payment row with its own idempotency key
(`renewal:<period end>:<attempt>`), the provider is called with the payment's key, and the
credit ledger takes one grant per payment. A run killed after the provider answered is run
again: it re-claims the same pending payment, the provider returns the same charge, and the
period moves once. Two runs never overlap (the job lock is the subscription).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from procrastinate import JobContext

from pitchey.storage.payments import RENEW_TASK, Notice, PaymentNotPending, PaymentStore

from ..jobs import state, tasks
from ..payments import CURRENCY, PLANS, money_str, payment_provider
from .investments import PROVIDER_RETRY

log = logging.getLogger("pitchey.tasks.subscriptions")


class RenewalInProgress(Exception):
    """Another run holds this period's payment (cannot happen under the job lock; retried)."""


@tasks.task(name=RENEW_TASK, queue="pitchey", pass_context=True, retry=PROVIDER_RETRY)
async def renew(context: JobContext, userId: int, periodEnd: str) -> str:
    st = state(context)
    settings = st.settings
    store = PaymentStore(st.database)
    period_end = datetime.fromisoformat(periodEnd)
    sub = await store.subscription(userId)
    if (
        sub is None
        or sub.status not in ("active", "past_due")
        or sub.current_period_end != period_end
        or sub.plan == "free"
    ):
        return "nothing to renew"  # cancelled, changed plan, or this period already renewed
    plan = PLANS[sub.plan]
    info = await store.renewal_info(userId)
    assert info is not None
    name = sub.plan.capitalize()
    if not info.payment_method or not info.card_brand or not info.card_last4:
        log.warning("subscription of user %s has no saved payment method: it ends", userId)
    key = f"renewal:{periodEnd}:{info.renewal_failures}"
    begun = await store.begin(
        user_id=userId,
        key=key,
        request_hash=hashlib.sha256(f"{key}:{sub.plan}:{plan.price}".encode()).hexdigest(),
        amount=plan.price,
        currency=CURRENCY,
        purpose="renewal",
        plan=sub.plan,
        credits=None,
        card_brand=info.card_brand or "unknown",
        card_last4=info.card_last4 or "0000",
        stale_after=0,  # under the job lock, a pending attempt is a dead run's: take it over
    )
    payment = begun.payment
    if not begun.drive:
        if payment.status == "pending":
            raise RenewalInProgress(f"payment {payment.id} is being charged")
        return f"already {payment.status}"
    if info.payment_method:
        result = await payment_provider(st).charge_saved(
            payment.amount, payment.currency, info.payment_method, f"pitchey-payment-{payment.id}"
        )
        succeeded, ref, code = result.status == "succeeded", result.id, result.decline_code
    else:
        succeeded, ref, code = False, "none", "no_payment_method"
    data: dict[str, object] = {"plan": sub.plan, "paymentId": payment.id}
    if succeeded:
        try:
            settled = await store.succeed(
                payment.id,
                ref,
                credits=plan.credits_per_period,
                plan=sub.plan,
                months=plan.months,
                renewal=True,
                notices=(
                    Notice(
                        userId,
                        "subscription_renewed",
                        f"Your {name} plan renewed",
                        f"{money_str(plan.price)} {CURRENCY} charged; "
                        f"{plan.credits_per_period} credits added.",
                        data,
                    ),
                ),
            )
        except PaymentNotPending:
            return "already settled"
        assert settled.subscription is not None
        return f"renewed until {settled.subscription.current_period_end.isoformat()}"
    final = info.renewal_failures + 1 >= settings.renewal_max_declines
    retry_at = None if final else datetime.now(UTC) + timedelta(seconds=settings.renewal_retry_after)
    notice = (
        Notice(
            userId,
            "subscription_expired",
            f"Your {name} plan has ended",
            "We could not charge your saved card, so you are back on the Free plan.",
            {**data, "declineCode": code},
        )
        if final
        else Notice(
            userId,
            "subscription_past_due",
            f"We could not renew your {name} plan",
            "Your saved card was declined. We will try again; you keep the plan meanwhile.",
            {**data, "declineCode": code, "retryAt": retry_at.isoformat() if retry_at else None},
        )
    )
    try:
        await store.renewal_declined(
            payment.id,
            ref,
            code,
            user_id=userId,
            period_end=period_end,
            retry_at=retry_at,
            notices=(notice,),
        )
    except PaymentNotPending:
        return "already settled"
    return "expired" if final else "past_due"
