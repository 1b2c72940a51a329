"""Who follows whom. The pair is the primary key, so following twice is one row, not an error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database, StorageError


class UnknownUser(StorageError):
    """The user to follow does not exist (any more)."""


@dataclass(frozen=True, slots=True)
class UserSummary:
    """What anyone may know of another user: never the email."""

    id: int
    username: str | None
    name: str | None
    company_name: str | None
    user_type: str


@dataclass(frozen=True, slots=True)
class FollowRow:
    user: UserSummary
    followed_at: datetime


@dataclass(frozen=True, slots=True)
class FollowPage:
    rows: tuple[FollowRow, ...]
    total: int


_SUMMARY = "u.id, u.username, u.name, u.company_name, u.user_type"


def _summary(row: asyncpg.Record) -> UserSummary:
    return UserSummary(row["id"], row["username"], row["name"], row["company_name"], row["user_type"])


class FollowStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def summary(self, user_id: int) -> UserSummary | None:
        row = await self.db.fetchrow(f"SELECT {_SUMMARY} FROM users u WHERE u.id = $1", user_id)
        return _summary(row) if row else None

    async def follow(self, follower_id: int, followee_id: int) -> tuple[bool, datetime]:
        """Follow; (created now?, when the follow began). Idempotent."""
        try:
            async with self.db.transaction() as conn:
                created = await conn.fetchval(
                    """INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)
                       ON CONFLICT DO NOTHING RETURNING created_at""",
                    follower_id,
                    followee_id,
                )
                if created is not None:
                    return True, created
                since = await conn.fetchval(
                    "SELECT created_at FROM follows WHERE follower_id = $1 AND followee_id = $2",
                    follower_id,
                    followee_id,
                )
                return False, since
        except asyncpg.ForeignKeyViolationError:
            raise UnknownUser() from None

    async def unfollow(self, follower_id: int, followee_id: int) -> bool:
        result = await self.db.execute(
            "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2",
            follower_id,
            followee_id,
        )
        return result.endswith(" 1")

    async def following(self, user_id: int, *, limit: int, offset: int) -> FollowPage:
        """The users `user_id` follows, most recent first."""
        return await self._page(
            f"""SELECT {_SUMMARY}, f.created_at AS followed_at, count(*) OVER () AS total
                FROM follows f JOIN users u ON u.id = f.followee_id
                WHERE f.follower_id = $1
                ORDER BY f.created_at DESC, u.id DESC LIMIT $2 OFFSET $3""",
            "SELECT count(*) FROM follows WHERE follower_id = $1",
            user_id,
            limit,
            offset,
        )

    async def followers(self, user_id: int, *, limit: int, offset: int) -> FollowPage:
        """The users following `user_id`, most recent first."""
        return await self._page(
            f"""SELECT {_SUMMARY}, f.created_at AS followed_at, count(*) OVER () AS total
                FROM follows f JOIN users u ON u.id = f.follower_id
                WHERE f.followee_id = $1
                ORDER BY f.created_at DESC, u.id DESC LIMIT $2 OFFSET $3""",
            "SELECT count(*) FROM follows WHERE followee_id = $1",
            user_id,
            limit,
            offset,
        )

    async def _page(self, sql: str, count_sql: str, user_id: int, limit: int, offset: int) -> FollowPage:
        rows = await self.db.fetch(sql, user_id, limit, offset)
        if rows:
            total = int(rows[0]["total"])
        elif offset == 0:
            total = 0
        else:
            total = int(await self.db.fetchval(count_sql, user_id))
        return FollowPage(tuple(FollowRow(_summary(r), r["followed_at"]) for r in rows), total)
