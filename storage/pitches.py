"""Pitches and their live counters (views deduplicated per user per day, likes once per user)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from .database import Database


@dataclass(frozen=True, slots=True)
class Pitch:
    id: int
    user_id: int
    title: str
    logline: str | None
    genre: str | None
    format: str | None
    synopsis: str | None
    budget: Decimal | None
    target_audience: str | None
    status: str
    visibility: str
    require_nda: bool
    view_count: int
    like_count: int
    created_at: datetime
    updated_at: datetime


_COLUMNS = ("id, user_id, title, logline, genre, format, synopsis, budget, target_audience, "
            "status, visibility, require_nda, view_count, like_count, created_at, updated_at")


def _pitch(row: asyncpg.Record) -> Pitch:
    return Pitch(**dict(row))


@dataclass(frozen=True, slots=True)
class Access:
    """What the room authorizer needs to know about one pitch and one caller."""

    owner_id: int
    status: str
    visibility: str
    has_nda: bool


class PitchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        user_id: int,
        title: str,
        logline: str | None = None,
        genre: str | None = None,
        format: str | None = None,
        synopsis: str | None = None,
        budget: Decimal | None = None,
        target_audience: str | None = None,
        status: str = "draft",
        visibility: str = "public",
        require_nda: bool = False,
    ) -> Pitch:
        row = await self.db.fetchrow(
            f"""INSERT INTO pitches (user_id, title, logline, genre, format, synopsis, budget,
                    target_audience, status, visibility, require_nda, published_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                        CASE WHEN $9 = 'published' THEN now() END)
                RETURNING {_COLUMNS}""",
            user_id, title, logline, genre, format, synopsis, budget, target_audience, status,
            visibility, require_nda,
        )
        assert row is not None
        return _pitch(row)

    async def get(self, pitch_id: int) -> Pitch | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM pitches WHERE id = $1", pitch_id)
        return _pitch(row) if row else None

    async def access(self, pitch_id: int, user_id: int) -> Access | None:
        row = await self.db.fetchrow(
            """SELECT p.user_id, p.status, p.visibility,
                      EXISTS (SELECT 1 FROM nda_requests n
                              WHERE n.pitch_id = p.id AND n.requester_id = $2
                                AND n.status = 'approved') AS has_nda
               FROM pitches p WHERE p.id = $1""",
            pitch_id, user_id,
        )
        if row is None:
            return None
        return Access(row["user_id"], row["status"], row["visibility"], row["has_nda"])

    async def counters(self, pitch_id: int) -> tuple[int, int] | None:
        row = await self.db.fetchrow(
            "SELECT view_count, like_count FROM pitches WHERE id = $1", pitch_id
        )
        return (row["view_count"], row["like_count"]) if row else None

    async def record_view(self, pitch_id: int, user_id: int) -> int | None:
        """Count a view once per user per day; returns the new total, or None if not counted."""
        async with self.db.transaction() as conn:
            inserted = await conn.fetchval(
                """INSERT INTO pitch_views (pitch_id, user_id) VALUES ($1, $2)
                   ON CONFLICT DO NOTHING RETURNING true""",
                pitch_id, user_id,
            )
            if not inserted:
                return None
            total: int = await conn.fetchval(
                "UPDATE pitches SET view_count = view_count + 1 WHERE id = $1 RETURNING view_count",
                pitch_id,
            )
            return total

    async def set_like(self, pitch_id: int, user_id: int, liked: bool) -> tuple[bool, int]:
        """Like or unlike; returns (changed, like total). Idempotent either way."""
        async with self.db.transaction() as conn:
            if liked:
                changed = await conn.fetchval(
                    """INSERT INTO pitch_likes (pitch_id, user_id) VALUES ($1, $2)
                       ON CONFLICT DO NOTHING RETURNING true""",
                    pitch_id, user_id,
                )
                delta = 1
            else:
                changed = await conn.fetchval(
                    """DELETE FROM pitch_likes WHERE pitch_id = $1 AND user_id = $2
                       RETURNING true""",
                    pitch_id, user_id,
                )
                delta = -1
            if changed:
                total = await conn.fetchval(
                    """UPDATE pitches SET like_count = like_count + $2 WHERE id = $1
                       RETURNING like_count""",
                    pitch_id, delta,
                )
            else:
                total = await conn.fetchval(
                    "SELECT like_count FROM pitches WHERE id = $1", pitch_id
                )
            return bool(changed), int(total)
