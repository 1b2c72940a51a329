"""Notifications of one user. Written by the user's room actor, which then announces them live."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from .database import Database


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    user_id: int
    kind: str
    title: str
    body: str | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    # Whether to push it live: false when the user switched this kind off for the live channel
    # (user_preferences, storage/profiles.py). It is stored either way.
    live: bool = True


_COLUMNS = "id, user_id, kind, title, body, data, created_at, read_at"
NotificationList = list[Notification]  # `list` is shadowed inside NotificationStore


def _notification(row: asyncpg.Record) -> Notification:
    values = dict(row)
    raw = values["data"]
    values["data"] = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return Notification(**values)


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, user_id: int, kind: str, title: str, body: str | None, data: dict[str, Any]
    ) -> Notification:
        row = await self.db.fetchrow(
            f"""WITH ins AS (
                    INSERT INTO notifications (user_id, kind, title, body, data)
                    VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING {_COLUMNS})
                SELECT ins.*,
                       coalesce((SELECT (p.notifications -> ins.kind ->> 'live')::boolean
                                 FROM user_preferences p WHERE p.user_id = ins.user_id), true)
                           AS live
                FROM ins""",
            user_id,
            kind,
            title[:300],
            body,
            json.dumps(data, default=str),
        )
        assert row is not None
        return _notification(row)

    async def list(
        self, user_id: int, *, limit: int = 50, before_id: int | None = None, unread_only: bool = False
    ) -> list[Notification]:
        rows = await self.db.fetch(
            f"""SELECT {_COLUMNS} FROM notifications
                WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2)
                  AND (NOT $3 OR read_at IS NULL)
                ORDER BY id DESC LIMIT $4""",
            user_id,
            before_id,
            unread_only,
            limit,
        )
        return [_notification(r) for r in rows]

    async def unread_count(self, user_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", user_id
            )
        )

    async def mark_read(self, user_id: int, notification_id: int) -> bool:
        """False when the notification is not this user's (or does not exist)."""
        row = await self.db.fetchval(
            """UPDATE notifications SET read_at = coalesce(read_at, now())
               WHERE id = $1 AND user_id = $2 RETURNING id""",
            notification_id,
            user_id,
        )
        return row is not None

    async def mark_all_read(self, user_id: int) -> int:
        status = await self.db.execute(
            "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
            user_id,
        )
        return int(status.split()[-1])

    async def page(
        self, user_id: int, *, limit: int, offset: int, unread_only: bool = False
    ) -> tuple[NotificationList, int]:
        """A page of a user's notifications, newest first, and how many match (for pagination)."""
        total = await self.db.fetchval(
            """SELECT count(*) FROM notifications
               WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)""",
            user_id,
            unread_only,
        )
        rows = await self.db.fetch(
            f"""SELECT {_COLUMNS} FROM notifications
                WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
                ORDER BY id DESC LIMIT $3 OFFSET $4""",
            user_id,
            unread_only,
            limit,
            offset,
        )
        return [_notification(r) for r in rows], int(total)

    async def read_one(self, user_id: int, notification_id: int) -> Notification | None:
        """Mark one notification read and return it; None when it is not this user's."""
        row = await self.db.fetchrow(
            f"""UPDATE notifications SET read_at = coalesce(read_at, now())
                WHERE id = $1 AND user_id = $2 RETURNING {_COLUMNS}""",
            notification_id,
            user_id,
        )
        return _notification(row) if row else None
