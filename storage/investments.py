"""Investments: idempotent creation, history, the portfolio and recommendations, all in SQL.

"Active" investments are those still standing (pending or completed); cancelled and refunded ones
stay in the history and in the per-status breakdown but count towards no total or position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from .database import Database
from .jobs import enqueue
from .pitches import Pitch

ACTIVE_STATUSES = ("pending", "completed")
SETTLE_TASK = "investments.settle"
"""The background task (server/tasks/investments.py) every new investment is enqueued for."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """A pending investment as the settlement task needs it."""

    id: int
    investor_id: int
    pitch_id: int
    pitch_title: str
    owner_id: int
    amount: Decimal
    status: str


@dataclass(frozen=True, slots=True)
class Investment:
    id: int
    investor_id: int
    pitch_id: int
    pitch_title: str
    amount: Decimal
    status: str
    idempotency_key: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StatusTotal:
    status: str
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Position:
    pitch_id: int
    pitch_title: str
    genre: str | None
    amount: Decimal
    count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class Portfolio:
    invested: Decimal
    investments: int
    positions: list[Position]
    by_status: list[StatusTotal]


@dataclass(frozen=True, slots=True)
class Recommendation:
    pitch: Pitch
    has_nda: bool
    score: float
    reason_code: str


_INV = """i.id, i.investor_id, i.pitch_id, p.title AS pitch_title, i.amount, i.status,
          i.idempotency_key, i.created_at"""

_PITCH_FIELDS = (
    "id",
    "user_id",
    "title",
    "logline",
    "genre",
    "format",
    "synopsis",
    "budget",
    "target_audience",
    "status",
    "visibility",
    "require_nda",
    "view_count",
    "like_count",
    "created_at",
    "updated_at",
)
_PITCH_COLUMNS = ", ".join(f"p.{c}" for c in _PITCH_FIELDS)


def _investment(row: Mapping[str, Any]) -> Investment:
    return Investment(**dict(row))


class InvestmentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, investor_id: int, pitch_id: int, amount: Decimal, key: str | None
    ) -> tuple[Investment, bool]:
        """Insert an investment; with a key already used, the stored one and False instead.

        The unique index on (investor_id, idempotency_key) decides races between retries.
        """
        # One transaction: the investment and the job that settles it commit together.
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"""WITH ins AS (
                        INSERT INTO investments (investor_id, pitch_id, amount, idempotency_key)
                        VALUES ($1, $2, $3, $4)
                        ON CONFLICT (investor_id, idempotency_key)
                            WHERE idempotency_key IS NOT NULL DO NOTHING
                        RETURNING *)
                    SELECT {_INV} FROM ins i JOIN pitches p ON p.id = i.pitch_id""",
                investor_id,
                pitch_id,
                amount,
                key,
            )
            if row is not None:
                await enqueue(conn, SETTLE_TASK, {"investmentId": row["id"]}, lock=f"investment:{row['id']}")
                return _investment(row), True
            existing = await conn.fetchrow(
                f"""SELECT {_INV} FROM investments i JOIN pitches p ON p.id = i.pitch_id
                    WHERE i.investor_id = $1 AND i.idempotency_key = $2""",
                investor_id,
                key,
            )
        assert existing is not None, "conflict without a row: the key's row must exist"
        return _investment(existing), False

    async def by_key(self, investor_id: int, key: str) -> Investment | None:
        row = await self.db.fetchrow(
            f"""SELECT {_INV} FROM investments i JOIN pitches p ON p.id = i.pitch_id
                WHERE i.investor_id = $1 AND i.idempotency_key = $2""",
            investor_id,
            key,
        )
        return _investment(row) if row else None

    async def history(self, investor_id: int, *, limit: int, offset: int) -> tuple[list[Investment], int]:
        """Newest first, with the total for pagination (one query)."""
        rows = await self.db.fetch(
            f"""SELECT {_INV}, count(*) OVER () AS total
                FROM investments i JOIN pitches p ON p.id = i.pitch_id
                WHERE i.investor_id = $1
                ORDER BY i.created_at DESC, i.id DESC LIMIT $2 OFFSET $3""",
            investor_id,
            limit,
            offset,
        )
        total = int(rows[0]["total"]) if rows else await self._count(investor_id)
        return [_investment(_without(r, "total")) for r in rows], total

    async def _count(self, investor_id: int) -> int:
        return int(
            await self.db.fetchval("SELECT count(*) FROM investments WHERE investor_id = $1", investor_id)
        )

    async def portfolio(self, investor_id: int) -> Portfolio:
        """Totals, per-status breakdown and per-pitch positions from one consistent snapshot."""
        async with self.db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            statuses = await conn.fetch(
                """SELECT status, count(*) AS count, sum(amount) AS amount
                   FROM investments WHERE investor_id = $1
                   GROUP BY status ORDER BY status""",
                investor_id,
            )
            totals = await conn.fetchrow(
                """SELECT coalesce(sum(amount) FILTER (WHERE status = ANY($2::text[])), 0)
                              AS invested,
                          count(*) AS investments
                   FROM investments WHERE investor_id = $1""",
                investor_id,
                list(ACTIVE_STATUSES),
            )
            positions = await conn.fetch(
                """SELECT i.pitch_id, p.title AS pitch_title, p.genre, sum(i.amount) AS amount,
                          count(*) AS count, min(i.created_at) AS first_at,
                          max(i.created_at) AS last_at
                   FROM investments i JOIN pitches p ON p.id = i.pitch_id
                   WHERE i.investor_id = $1 AND i.status = ANY($2::text[])
                   GROUP BY i.pitch_id, p.title, p.genre
                   ORDER BY sum(i.amount) DESC, max(i.created_at) DESC, i.pitch_id""",
                investor_id,
                list(ACTIVE_STATUSES),
            )
        assert totals is not None
        return Portfolio(
            invested=totals["invested"],
            investments=int(totals["investments"]),
            positions=[Position(**dict(r)) for r in positions],
            by_status=[StatusTotal(r["status"], int(r["count"]), r["amount"]) for r in statuses],
        )

    async def recommendations(
        self, user_id: int, user_type: str, *, limit: int, offset: int
    ) -> tuple[list[Recommendation], int]:
        """Published pitches this user may see and does not hold, best first.

        score = 5 if the user holds an approved NDA for the pitch
              + 4 if the user follows its creator
              + 3 if its genre, 2 if its format is one the user prefers (GET/PUT
                /api/user/preferences; case-insensitive), 2 if its budget lies in the user's
                preferred range (only a budget the user may see: never an NDA-protected one)
              + 3 per active investment, 2 per approved NDA and 1 per like the user gave to
                pitches of the same genre (case-insensitive)
        Ties: popularity (views + 3 x likes), then newest. The reason is the largest component
        (ties in the order above); with no signal, "trending" when popular, else "new".
        """
        rows = await self.db.fetch(
            f"""
            WITH prefs AS (
                SELECT coalesce((SELECT array_agg(lower(btrim(x))) FROM unnest(genres) x), '{{}}')
                           AS genres,
                       coalesce((SELECT array_agg(lower(btrim(x))) FROM unnest(formats) x), '{{}}')
                           AS formats,
                       budget_min, budget_max
                FROM user_preferences WHERE user_id = $1
            ), held AS (
                SELECT DISTINCT pitch_id FROM investments
                WHERE investor_id = $1 AND status = ANY($5::text[])
            ), signals AS (
                SELECT lower(btrim(p.genre)) AS g, 3 AS inv, 0 AS nda, 0 AS liked
                FROM investments i JOIN pitches p ON p.id = i.pitch_id
                WHERE i.investor_id = $1 AND i.status = ANY($5::text[])
                UNION ALL
                SELECT lower(btrim(p.genre)), 0, 2, 0
                FROM nda_requests n JOIN pitches p ON p.id = n.pitch_id
                WHERE n.requester_id = $1 AND n.status = 'approved'
                UNION ALL
                SELECT lower(btrim(p.genre)), 0, 0, 1
                FROM pitch_likes l JOIN pitches p ON p.id = l.pitch_id
                WHERE l.user_id = $1
            ), affinity AS (
                SELECT g, sum(inv) AS inv, sum(nda) AS nda, sum(liked) AS liked
                FROM signals WHERE g IS NOT NULL AND g <> '' GROUP BY g
            ), candidates AS (
                SELECT {_PITCH_COLUMNS},
                       EXISTS (SELECT 1 FROM nda_requests n
                               WHERE n.pitch_id = p.id AND n.requester_id = $1
                                 AND n.status = 'approved') AS has_nda,
                       EXISTS (SELECT 1 FROM follows f
                               WHERE f.follower_id = $1 AND f.followee_id = p.user_id) AS followed,
                       coalesce(a.inv, 0) AS inv, coalesce(a.nda, 0) AS nda_genre,
                       coalesce(a.liked, 0) AS liked_genre,
                       CASE WHEN lower(btrim(p.genre)) = ANY(pr.genres) THEN 3 ELSE 0 END
                           AS pref_genre,
                       CASE WHEN lower(btrim(p.format)) = ANY(pr.formats) THEN 2 ELSE 0 END
                           AS pref_format,
                       (p.budget IS NOT NULL
                        AND (pr.budget_min IS NOT NULL OR pr.budget_max IS NOT NULL)
                        AND p.budget >= coalesce(pr.budget_min, 0)
                        AND p.budget <= coalesce(pr.budget_max, p.budget)) AS budget_fits,
                       p.view_count + 3 * p.like_count AS popularity
                FROM pitches p
                LEFT JOIN affinity a ON a.g = lower(btrim(p.genre))
                LEFT JOIN prefs pr ON true
                WHERE p.status = 'published' AND p.user_id <> $1
                  AND NOT EXISTS (SELECT 1 FROM held h WHERE h.pitch_id = p.id)
            ), fitted AS (
                -- A budget the user may not see (NDA-protected, no NDA) never matches a range:
                -- otherwise the reason would reveal it.
                SELECT c.*,
                       CASE WHEN budget_fits AND (NOT require_nda OR has_nda) THEN 2 ELSE 0 END
                           AS pref_budget
                FROM candidates c
            ), scored AS (
                SELECT c.*,
                       (CASE WHEN has_nda THEN 5 ELSE 0 END
                        + CASE WHEN followed THEN 4 ELSE 0 END
                        + pref_genre + pref_format + pref_budget
                        + inv + nda_genre + liked_genre) AS score,
                       greatest(CASE WHEN has_nda THEN 5 ELSE 0 END,
                                CASE WHEN followed THEN 4 ELSE 0 END,
                                pref_genre, pref_format, pref_budget,
                                inv, nda_genre, liked_genre) AS top
                FROM fitted c
                WHERE visibility = 'public' OR has_nda
                   OR (visibility = 'investors_only' AND $2 IN ('investor', 'production'))
            )
            SELECT s.*,
                   CASE WHEN top = 0 THEN CASE WHEN popularity > 0 THEN 'trending' ELSE 'new' END
                        WHEN has_nda AND top = 5 THEN 'nda_access'
                        WHEN followed AND top = 4 THEN 'followed_creator'
                        WHEN pref_genre = top THEN 'preferred_genre'
                        WHEN pref_format = top THEN 'preferred_format'
                        WHEN pref_budget = top THEN 'preferred_budget'
                        WHEN inv = top THEN 'invested_genre'
                        WHEN nda_genre = top THEN 'nda_genre'
                        ELSE 'liked_genre' END AS reason_code,
                   count(*) OVER () AS total
            FROM scored s
            ORDER BY score DESC, popularity DESC, created_at DESC, id DESC
            LIMIT $3 OFFSET $4""",
            user_id,
            user_type,
            limit,
            offset,
            list(ACTIVE_STATUSES),
        )
        if not rows and offset > 0:
            _, total = await self.recommendations(user_id, user_type, limit=1, offset=0)
            return [], total
        total = int(rows[0]["total"]) if rows else 0
        out = [
            Recommendation(
                pitch=Pitch(**{c: r[c] for c in _PITCH_FIELDS}),
                has_nda=r["has_nda"],
                score=float(r["score"]),
                reason_code=r["reason_code"],
            )
            for r in rows
        ]
        return out, total


def _without(row: asyncpg.Record, *names: str) -> dict[str, Any]:
    return {k: v for k, v in dict(row).items() if k not in names}


class SettlementStore:
    """Settling investments: the one transition out of `pending`, and its ledger entries."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, investment_id: int) -> Settlement | None:
        row = await self.db.fetchrow(
            """SELECT i.id, i.investor_id, i.pitch_id, p.title AS pitch_title, p.user_id AS owner_id,
                      i.amount, i.status
               FROM investments i JOIN pitches p ON p.id = i.pitch_id WHERE i.id = $1""",
            investment_id,
        )
        return Settlement(**dict(row)) if row else None

    async def settle(
        self,
        investment_id: int,
        *,
        completed: bool,
        provider_ref: str,
        failure_code: str | None,
        follow_up: tuple[str, dict[str, Any]],
    ) -> bool:
        """Move a pending investment to completed (with its two ledger entries) or failed, and
        enqueue `follow_up` (the notifications) in the same transaction. False when it was no
        longer pending: a run before this one settled it, and nothing is booked twice."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                """UPDATE investments i
                   SET status = $2, settled_at = now(), provider_ref = $3, failure_code = $4
                   FROM pitches p
                   WHERE i.id = $1 AND i.status = 'pending' AND p.id = i.pitch_id
                   RETURNING i.investor_id, p.user_id AS owner_id, i.amount""",
                investment_id,
                "completed" if completed else "failed",
                provider_ref,
                failure_code,
            )
            if row is None:
                return False
            if completed:
                await conn.executemany(
                    """INSERT INTO investment_ledger (investment_id, user_id, side, amount, provider_ref)
                       VALUES ($1, $2, $3, $4, $5)""",
                    [
                        (investment_id, row["investor_id"], "investor", -row["amount"], provider_ref),
                        (investment_id, row["owner_id"], "creator", row["amount"], provider_ref),
                    ],
                )
            task, args = follow_up
            await enqueue(conn, task, args)
        return True

    async def backers(self, pitch_id: int) -> int:
        """How many investors have a completed investment in the pitch."""
        n = await self.db.fetchval(
            """SELECT count(DISTINCT investor_id) FROM investments
               WHERE pitch_id = $1 AND status = 'completed'""",
            pitch_id,
        )
        return int(n)

    async def ledger(self, investment_id: int) -> list[tuple[int, str, Decimal]]:
        rows = await self.db.fetch(
            "SELECT user_id, side, amount FROM investment_ledger WHERE investment_id = $1 ORDER BY id",
            investment_id,
        )
        return [(r["user_id"], r["side"], r["amount"]) for r in rows]
