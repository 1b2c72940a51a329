"""Operators: the role that may watch the whole platform (`pitchey operator add|remove EMAIL`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .database import Database


@dataclass(frozen=True, slots=True)
class Operator:
    user_id: int
    email: str
    granted_at: datetime


class OperatorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def grant(self, email: str) -> int | None:
        """Make the account with this email an operator; its id, or None when there is no such
        account. Granting twice is harmless."""
        user_id: int | None = await self.db.fetchval("SELECT id FROM users WHERE email = $1", email)
        if user_id is None:
            return None
        await self.db.execute(
            "INSERT INTO operators (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING", user_id
        )
        return user_id

    async def revoke(self, email: str) -> bool | None:
        """Take the role away: True if it was held, False if not, None when there is no account."""
        row = await self.db.fetchrow(
            """SELECT u.id, o.user_id IS NOT NULL AS held
               FROM users u LEFT JOIN operators o ON o.user_id = u.id WHERE u.email = $1""",
            email,
        )
        if row is None:
            return None
        await self.db.execute("DELETE FROM operators WHERE user_id = $1", row["id"])
        return bool(row["held"])

    async def is_operator(self, user_id: int) -> bool:
        sql = "SELECT EXISTS (SELECT 1 FROM operators WHERE user_id = $1)"
        return bool(await self.db.fetchval(sql, user_id))

    async def which(self, user_ids: Iterable[int]) -> set[int]:
        """Those of `user_ids` who are operators now (one query for every watching session)."""
        ids = list(set(user_ids))
        if not ids:
            return set()
        rows = await self.db.fetch("SELECT user_id FROM operators WHERE user_id = ANY($1::bigint[])", ids)
        return {int(r["user_id"]) for r in rows}

    async def all(self) -> list[Operator]:
        rows = await self.db.fetch(
            """SELECT o.user_id, u.email, o.granted_at FROM operators o JOIN users u ON u.id = o.user_id
               ORDER BY o.granted_at, o.user_id"""
        )
        return [Operator(int(r["user_id"]), r["email"], r["granted_at"]) for r in rows]
