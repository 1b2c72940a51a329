"""Payments, the append-only credit ledger with its kept balance, and subscriptions.

A paid action is three steps so no transaction is ever held open across the provider's network
call: `begin` records the attempt ('pending'), the caller charges the card, then `succeed` /
`decline` / `fail` settle it; `succeed` writes the payment, the ledger rows and the balance or
subscription change in ONE transaction.

The credit balance is kept in `credit_balances` and changed only by `_append_ledger`, which
updates the balance row (its row lock serialises concurrent changes; its CHECK refuses a negative
balance) and appends the ledger row carrying `balance_after` in the same transaction. So the
balance always equals the sum of the user's ledger deltas and the last `balance_after`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from .database import Database, StorageError
from .jobs import enqueue, enqueue_notification


class IdempotencyMismatch(StorageError):
    """The Idempotency-Key was already used by this user for a different request."""


class InsufficientCredits(StorageError):
    """The spend would take the balance below zero."""


class PaymentNotPending(StorageError):
    """Someone else settled this payment attempt first."""


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    user_id: int
    amount: Decimal
    currency: str
    purpose: str
    plan: str | None
    credits: int | None
    status: str
    provider_ref: str | None
    failure_code: str | None
    card_brand: str
    card_last4: str
    idempotency_key: str | None
    created_at: datetime
    settled_at: datetime | None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    user_id: int
    delta: int
    balance_after: int
    reason: str
    payment_id: int | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    user_id: int
    plan: str
    status: str  # as stored; 'expired' is also derived from current_period_end by readers
    current_period_start: datetime
    current_period_end: datetime
    last_payment_id: int | None
    updated_at: datetime
    expired: bool


RENEW_TASK = "subscriptions.renew"
"""The background task (server/tasks/subscriptions.py) enqueued for each period's end."""


@dataclass(frozen=True, slots=True)
class RenewalInfo:
    """What a renewal charges: the saved payment method (never a card number) and how many
    renewals of this period were declined so far."""

    payment_method: str | None
    card_brand: str | None
    card_last4: str | None
    renewal_failures: int


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to enqueue with a write (pitchey.storage.jobs.enqueue_notification)."""

    user_id: int
    kind: str
    title: str
    body: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Begun:
    """The attempt to work on, and whether this caller must charge it (`drive`)."""

    payment: Payment
    drive: bool
    created: bool


@dataclass(frozen=True, slots=True)
class Settled:
    payment: Payment
    ledger: LedgerEntry | None
    subscription: Subscription | None


_PAY = (
    "id, user_id, amount, currency, purpose, plan, credits, status, provider_ref, "
    "failure_code, card_brand, card_last4, idempotency_key, created_at, settled_at"
)
_LEDGER = "id, user_id, delta, balance_after, reason, payment_id, note, created_at"
_SUB = (
    "user_id, plan, status, current_period_start, current_period_end, last_payment_id, "
    "updated_at, current_period_end <= now() AS expired"
)


def _payment(row: Mapping[str, Any]) -> Payment:
    return Payment(**{k: row[k] for k in Payment.__dataclass_fields__})


def _entry(row: Mapping[str, Any]) -> LedgerEntry:
    return LedgerEntry(**{k: row[k] for k in LedgerEntry.__dataclass_fields__})


def _subscription(row: Mapping[str, Any]) -> Subscription:
    return Subscription(**{k: row[k] for k in Subscription.__dataclass_fields__})


async def _append_ledger(
    conn: asyncpg.Connection, user_id: int, delta: int, reason: str, payment_id: int | None, note: str | None
) -> LedgerEntry:
    """Change the balance and append the ledger row; the caller holds the transaction."""
    await conn.execute(
        "INSERT INTO credit_balances (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING",
        user_id,
    )
    try:
        balance = await conn.fetchval(
            """UPDATE credit_balances SET balance = balance + $2, updated_at = now()
               WHERE user_id = $1 RETURNING balance""",
            user_id,
            delta,
        )
    except asyncpg.CheckViolationError:
        raise InsufficientCredits() from None
    row = await conn.fetchrow(
        f"""INSERT INTO credit_ledger (user_id, delta, balance_after, reason, payment_id, note)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_LEDGER}""",
        user_id,
        delta,
        balance,
        reason,
        payment_id,
        note,
    )
    assert row is not None
    return _entry(row)


class PaymentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def begin(
        self,
        *,
        user_id: int,
        key: str | None,
        request_hash: str,
        amount: Decimal,
        currency: str,
        purpose: str,
        plan: str | None,
        credits: int | None,
        card_brand: str,
        card_last4: str,
        stale_after: float,
    ) -> Begun:
        """Record an attempt, or find the one this key already names.

        A new attempt is the caller's to charge. An existing one is returned as is when settled
        (replay), handed to this caller when it failed (nothing was charged: retry) or was left
        pending longer than `stale_after` seconds (its request died), and otherwise left to the
        request still working on it (`drive=False`, still pending: wait for it).
        """
        async with self.db.acquire() as conn:
            row = await conn.fetchrow(
                f"""INSERT INTO payments (user_id, amount, currency, purpose, plan, credits,
                        card_brand, card_last4, idempotency_key, request_hash)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    ON CONFLICT ON CONSTRAINT payments_idempotency_key DO NOTHING
                    RETURNING {_PAY}""",
                user_id,
                amount,
                currency,
                purpose,
                plan,
                credits,
                card_brand,
                card_last4,
                key,
                request_hash,
            )
            if row is not None:
                return Begun(_payment(row), drive=True, created=True)
            existing = await conn.fetchrow(
                f"""SELECT {_PAY}, request_hash FROM payments
                    WHERE user_id = $1 AND idempotency_key = $2""",
                user_id,
                key,
            )
            assert existing is not None, "conflict without a row: the key's row must exist"
            if existing["request_hash"] != request_hash:
                raise IdempotencyMismatch()
            if existing["status"] in ("succeeded", "declined"):
                return Begun(_payment(existing), drive=False, created=False)
            claimed = await conn.fetchrow(
                f"""UPDATE payments
                    SET status = 'pending', claimed_at = now(), settled_at = NULL,
                        failure_code = NULL
                    WHERE id = $1 AND (status = 'failed' OR (status = 'pending'
                          AND claimed_at < now() - make_interval(secs => $2)))
                    RETURNING {_PAY}""",
                existing["id"],
                stale_after,
            )
            if claimed is not None:
                return Begun(_payment(claimed), drive=True, created=False)
            return Begun(_payment(existing), drive=False, created=False)

    async def get(self, user_id: int, payment_id: int) -> Payment | None:
        row = await self.db.fetchrow(
            f"SELECT {_PAY} FROM payments WHERE id = $1 AND user_id = $2", payment_id, user_id
        )
        return _payment(row) if row else None

    async def fail(self, payment_id: int, code: str) -> Payment:
        """The provider failed: nothing charged; a retry with the same key may claim it."""
        return await self._settle(payment_id, "failed", None, code)

    async def decline(self, payment_id: int, provider_ref: str, code: str | None) -> Payment:
        return await self._settle(payment_id, "declined", provider_ref, code or "card_declined")

    async def _settle(
        self, payment_id: int, status: str, provider_ref: str | None, code: str | None
    ) -> Payment:
        row = await self.db.fetchrow(
            f"""UPDATE payments SET status = $2, provider_ref = $3, failure_code = $4,
                    settled_at = now()
                WHERE id = $1 AND status = 'pending' RETURNING {_PAY}""",
            payment_id,
            status,
            provider_ref,
            code,
        )
        if row is None:
            raise PaymentNotPending()
        return _payment(row)

    async def succeed(
        self,
        payment_id: int,
        provider_ref: str,
        *,
        credits: int = 0,
        plan: str | None = None,
        months: int = 1,
        payment_method: str | None = None,
        renewal: bool = False,
        notices: tuple[Notice, ...] = (),
    ) -> Settled:
        """Settle a charged payment and apply what it bought, all in one transaction.

        `credits` go to the ledger ('purchase' for a credit purchase, 'subscription_grant' for a
        plan's allowance); `plan` starts or renews the subscription: the same plan still running
        is extended by `months` from its current end, anything else starts a new period now.
        """
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"""UPDATE payments SET status = 'succeeded', provider_ref = $2,
                        failure_code = NULL, settled_at = now()
                    WHERE id = $1 AND status = 'pending' RETURNING {_PAY}""",
                payment_id,
                provider_ref,
            )
            if row is None:
                raise PaymentNotPending()
            payment = _payment(row)
            subscription: Subscription | None = None
            if plan is not None and renewal:
                # A renewal continues the period exactly where it ended (no drift by how late
                # the job ran), and clears a past_due state.
                sub = await conn.fetchrow(
                    f"""UPDATE subscriptions SET
                            current_period_start = current_period_end,
                            current_period_end = current_period_end + make_interval(months => $2),
                            status = 'active', renewal_failures = 0, last_payment_id = $3,
                            updated_at = now()
                        WHERE user_id = $1 RETURNING {_SUB}""",
                    payment.user_id,
                    months,
                    payment.id,
                )
                assert sub is not None
                subscription = _subscription(sub)
            elif plan is not None:
                sub = await conn.fetchrow(
                    f"""INSERT INTO subscriptions AS s (user_id, plan, status,
                            current_period_start, current_period_end, last_payment_id,
                            payment_method, card_brand, card_last4)
                        VALUES ($1, $2, 'active', now(), now() + make_interval(months => $3), $4,
                                $5::text, CASE WHEN $5::text IS NULL THEN NULL ELSE $6 END,
                                CASE WHEN $5::text IS NULL THEN NULL ELSE $7 END)
                        ON CONFLICT (user_id) DO UPDATE SET
                            plan = EXCLUDED.plan,
                            status = 'active',
                            current_period_start = CASE
                                WHEN s.plan = EXCLUDED.plan AND s.current_period_end > now()
                                THEN s.current_period_start ELSE now() END,
                            current_period_end = CASE
                                WHEN s.plan = EXCLUDED.plan AND s.current_period_end > now()
                                THEN s.current_period_end + make_interval(months => $3)
                                ELSE now() + make_interval(months => $3) END,
                            last_payment_id = EXCLUDED.last_payment_id,
                            payment_method = coalesce(EXCLUDED.payment_method, s.payment_method),
                            card_brand = coalesce(EXCLUDED.card_brand, s.card_brand),
                            card_last4 = coalesce(EXCLUDED.card_last4, s.card_last4),
                            renewal_failures = 0,
                            updated_at = now()
                        RETURNING {_SUB}""",
                    payment.user_id,
                    plan,
                    months,
                    payment.id,
                    payment_method,
                    payment.card_brand,
                    payment.card_last4,
                )
                assert sub is not None
                subscription = _subscription(sub)
            if subscription is not None:
                # The period's end is when it renews: that job commits with the payment.
                await enqueue(
                    conn,
                    RENEW_TASK,
                    {
                        "userId": subscription.user_id,
                        "periodEnd": subscription.current_period_end.isoformat(),
                    },
                    lock=f"subscription:{subscription.user_id}",
                    scheduled_at=subscription.current_period_end,
                )
            for notice in notices:
                await enqueue_notification(
                    conn, notice.user_id, notice.kind, notice.title, notice.body, notice.data
                )
            entry: LedgerEntry | None = None
            if credits > 0:
                reason = "purchase" if payment.purpose == "credits" else "subscription_grant"
                entry = await _append_ledger(conn, payment.user_id, credits, reason, payment.id, None)
        return Settled(payment, entry, subscription)

    async def outcome(self, payment: Payment) -> Settled:
        """What a settled payment bought, for replaying its answer."""
        async with self.db.acquire() as conn:
            entry = await conn.fetchrow(
                f"SELECT {_LEDGER} FROM credit_ledger WHERE payment_id = $1 ORDER BY id LIMIT 1",
                payment.id,
            )
            sub = None
            if payment.purpose == "subscription":
                sub = await conn.fetchrow(
                    f"SELECT {_SUB} FROM subscriptions WHERE user_id = $1", payment.user_id
                )
        return Settled(payment, _entry(entry) if entry else None, _subscription(sub) if sub else None)

    async def recent_declines(self, user_id: int, window_seconds: float) -> tuple[int, float]:
        """Declines in the window, and seconds until the oldest of them leaves it."""
        row = await self.db.fetchrow(
            """SELECT count(*) AS n,
                      coalesce(extract(epoch FROM min(created_at)
                               + make_interval(secs => $2) - now()), 0) AS retry_after
               FROM payments
               WHERE user_id = $1 AND status = 'declined'
                 AND created_at > now() - make_interval(secs => $2)""",
            user_id,
            window_seconds,
        )
        assert row is not None
        return int(row["n"]), float(row["retry_after"])

    async def history(self, user_id: int, *, limit: int, offset: int) -> tuple[list[Payment], int]:
        rows = await self.db.fetch(
            f"""SELECT {_PAY}, count(*) OVER () AS total FROM payments WHERE user_id = $1
                ORDER BY id DESC LIMIT $2 OFFSET $3""",
            user_id,
            limit,
            offset,
        )
        if rows:
            return [_payment(r) for r in rows], int(rows[0]["total"])
        total = await self.db.fetchval("SELECT count(*) FROM payments WHERE user_id = $1", user_id)
        return [], int(total)

    async def subscription(self, user_id: int) -> Subscription | None:
        row = await self.db.fetchrow(f"SELECT {_SUB} FROM subscriptions WHERE user_id = $1", user_id)
        return _subscription(row) if row else None

    async def cancel_subscription(self, user_id: int) -> Subscription | None:
        """Stop renewal: access runs to the end of the paid period. None if nothing is active."""
        row = await self.db.fetchrow(
            f"""UPDATE subscriptions SET status = 'cancelled', updated_at = now()
                WHERE user_id = $1 AND status = 'active' AND current_period_end > now()
                RETURNING {_SUB}""",
            user_id,
        )
        return _subscription(row) if row else None

    async def renewal_info(self, user_id: int) -> RenewalInfo | None:
        row = await self.db.fetchrow(
            """SELECT payment_method, card_brand, card_last4, renewal_failures
               FROM subscriptions WHERE user_id = $1""",
            user_id,
        )
        return RenewalInfo(**dict(row)) if row else None

    async def renewal_declined(
        self,
        payment_id: int,
        provider_ref: str,
        code: str | None,
        *,
        user_id: int,
        period_end: datetime,
        retry_at: datetime | None,
        notices: tuple[Notice, ...],
    ) -> Payment:
        """A declined renewal, in one transaction: the payment declined, the subscription
        past_due (or, with no retry left, expired: back to the free plan), the next attempt
        enqueued, the account holder told."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"""UPDATE payments SET status = 'declined', provider_ref = $2, failure_code = $3,
                        settled_at = now()
                    WHERE id = $1 AND status = 'pending' RETURNING {_PAY}""",
                payment_id,
                provider_ref,
                code or "card_declined",
            )
            if row is None:
                raise PaymentNotPending()
            await conn.execute(
                """UPDATE subscriptions SET renewal_failures = renewal_failures + 1,
                       status = $2, updated_at = now()
                   WHERE user_id = $1""",
                user_id,
                "past_due" if retry_at is not None else "expired",
            )
            if retry_at is not None:
                await enqueue(
                    conn,
                    RENEW_TASK,
                    {"userId": user_id, "periodEnd": period_end.isoformat()},
                    lock=f"subscription:{user_id}",
                    scheduled_at=retry_at,
                )
            for notice in notices:
                await enqueue_notification(
                    conn, notice.user_id, notice.kind, notice.title, notice.body, notice.data
                )
        return _payment(row)


class CreditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def balance(self, user_id: int) -> tuple[int, datetime | None]:
        row = await self.db.fetchrow(
            "SELECT balance, updated_at FROM credit_balances WHERE user_id = $1", user_id
        )
        return (int(row["balance"]), row["updated_at"]) if row else (0, None)

    async def ledger(self, user_id: int, *, limit: int, offset: int) -> tuple[list[LedgerEntry], int]:
        rows = await self.db.fetch(
            f"""SELECT {_LEDGER}, count(*) OVER () AS total FROM credit_ledger
                WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3""",
            user_id,
            limit,
            offset,
        )
        if rows:
            return [_entry(r) for r in rows], int(rows[0]["total"])
        total = await self.db.fetchval("SELECT count(*) FROM credit_ledger WHERE user_id = $1", user_id)
        return [], int(total)

    async def spend(self, user_id: int, credits: int, note: str | None = None) -> LedgerEntry:
        """Take credits for something the user used; never below zero (InsufficientCredits)."""
        if credits <= 0:
            raise ValueError("spend a positive number of credits")
        async with self.db.transaction() as conn:
            return await _append_ledger(conn, user_id, -credits, "spend", None, note)

    async def adjust(self, user_id: int, delta: int, note: str) -> LedgerEntry:
        """An operator's correction: a new ledger row, never an edit of an old one."""
        async with self.db.transaction() as conn:
            return await _append_ledger(conn, user_id, delta, "adjustment", None, note)
