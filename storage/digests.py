"""What the daily email digest reads and records (server/tasks/digests.py).

A notification goes into a digest when its kind has `emailDigest: true` in the user's
preferences (user_preferences.notifications; a kind not named is off for the digest), it is
unread, and it is newer than the last digest that was sent to that user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .database import Database


@dataclass(frozen=True, slots=True)
class DigestItem:
    id: int
    kind: str
    title: str
    body: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    email: str
    name: str | None


_DUE = """
    SELECT n.id, n.user_id, n.kind, n.title, n.body, n.created_at
    FROM notifications n
    JOIN user_preferences p ON p.user_id = n.user_id
    WHERE n.read_at IS NULL
      AND n.created_at < $1
      AND coalesce((p.notifications -> n.kind ->> 'emailDigest')::boolean, false)
      AND n.id > coalesce((SELECT max(d.last_id) FROM email_digests d
                           WHERE d.user_id = n.user_id AND d.sent_at IS NOT NULL), 0)
"""


class DigestStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def users_due(self, before: datetime) -> list[int]:
        rows = await self.db.fetch(f"SELECT DISTINCT user_id FROM ({_DUE}) due ORDER BY user_id", before)
        return [int(r["user_id"]) for r in rows]

    async def items(self, user_id: int, before: datetime, limit: int = 50) -> list[DigestItem]:
        rows = await self.db.fetch(
            f"SELECT * FROM ({_DUE}) due WHERE user_id = $2 ORDER BY id LIMIT $3", before, user_id, limit
        )
        return [DigestItem(r["id"], r["kind"], r["title"], r["body"], r["created_at"]) for r in rows]

    async def recipient(self, user_id: int) -> Recipient | None:
        row = await self.db.fetchrow(
            "SELECT id, email, coalesce(name, username) AS name FROM users WHERE id = $1", user_id
        )
        return Recipient(int(row["id"]), row["email"], row["name"]) if row else None

    async def claim(self, user_id: int, day: date, count: int, last_id: int) -> bool:
        """True unless this day's digest was already sent to the user."""
        row = await self.db.fetchrow(
            """INSERT INTO email_digests (user_id, day, notifications, last_id)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (user_id, day) DO UPDATE
                   SET notifications = EXCLUDED.notifications, last_id = EXCLUDED.last_id,
                       claimed_at = now()
                   WHERE email_digests.sent_at IS NULL
               RETURNING user_id""",
            user_id,
            day,
            count,
            last_id,
        )
        return row is not None

    async def mark_sent(self, user_id: int, day: date) -> None:
        await self.db.execute(
            "UPDATE email_digests SET sent_at = now() WHERE user_id = $1 AND day = $2", user_id, day
        )
