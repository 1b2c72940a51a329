"""Investments settle: `pending` → `completed` (or `failed`) through the payment provider.

Every new investment is enqueued for `investments.settle` in the transaction that creates it
(pitchey.storage.investments). The task may run more than once (a worker killed mid-job is
retried): the transfer carries an idempotency key per investment, so the provider moves the money
once, and the status change happens once in SQL (only out of `pending`), with its two ledger
entries and the job that tells both parties, all in one transaction.
"""

from __future__ import annotations

import logging

from procrastinate import JobContext, RetryStrategy

from pitchey.storage.investments import SETTLE_TASK, SettlementStore
from pitchey.storage.jobs import QUEUE

from ..jobs import state, tasks
from ..payments import CURRENCY, money_str, payment_provider

log = logging.getLogger("pitchey.tasks.investments")

NOTIFY_TASK = "investments.notify_settled"
# A provider outage is retried with growing waits (2 s, 4 s, 8 s, ...; the 16th after 18 hours).
PROVIDER_RETRY = RetryStrategy(max_attempts=16, exponential_wait=2)


@tasks.task(name=SETTLE_TASK, queue=QUEUE, pass_context=True, retry=PROVIDER_RETRY)
async def settle(context: JobContext, investmentId: int) -> str:
    st = state(context)
    store = SettlementStore(st.database)
    inv = await store.get(investmentId)
    if inv is None or inv.status != "pending":
        return "already settled"
    result = await payment_provider(st).transfer(
        inv.amount, CURRENCY, f"investment:{inv.id}", f"pitchey-investment-{inv.id}"
    )
    completed = result.status == "succeeded"
    outcome = "completed" if completed else "failed"
    follow_up = (
        NOTIFY_TASK,
        {
            "investmentId": inv.id,
            "status": outcome,
            "investorId": inv.investor_id,
            "ownerId": inv.owner_id,
            "pitchId": inv.pitch_id,
            "pitchTitle": inv.pitch_title,
            "amount": money_str(inv.amount),
        },
    )
    moved = await store.settle(
        inv.id,
        completed=completed,
        provider_ref=result.id,
        failure_code=result.decline_code,
        follow_up=follow_up,
    )
    return outcome if moved else "already settled"


@tasks.task(name=NOTIFY_TASK, queue=QUEUE, pass_context=True, retry=RetryStrategy(max_attempts=5, wait=5))
async def notify_settled(
    context: JobContext,
    investmentId: int,
    status: str,
    investorId: int,
    ownerId: int,
    pitchId: int,
    pitchTitle: str,
    amount: str,
) -> None:
    """Both parties hear of the settlement (stored and live, in their `user:` rooms), and the
    pitch's audience of a completed one (`investment_update` in its `pitch:` room)."""
    st = state(context)
    hub = st.realtime.hub
    data: dict[str, object] = {
        "investmentId": investmentId,
        "pitchId": pitchId,
        "status": status,
        "amount": amount,
        "currency": CURRENCY,
    }
    if status == "completed":
        await hub.investment_settled(pitchId, await SettlementStore(st.database).backers(pitchId))
        await hub.notify(
            investorId,
            "investment_completed",
            f"Your investment in {pitchTitle} is complete",
            f"{amount} {CURRENCY} transferred",
            data,
        )
        await hub.notify(
            ownerId,
            "investment_completed",
            f"An investment in {pitchTitle} settled",
            f"{amount} {CURRENCY} received",
            data,
        )
    else:
        await hub.notify(
            investorId,
            "investment_failed",
            f"Your investment in {pitchTitle} did not go through",
            "The transfer was declined; nothing was taken from your account.",
            data,
        )
        await hub.notify(
            ownerId,
            "investment_failed",
            f"An investment in {pitchTitle} did not go through",
            None,
            data,
        )
