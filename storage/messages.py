"""Direct messages between two users. Written by the recipient's room actor, which then announces
them live; read here for threads and conversations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database
from .pitches import visible_sql


@dataclass(frozen=True, slots=True)
class DirectMessage:
    id: int
    sender_id: int
    recipient_id: int
    pitch_id: int | None
    content: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class Counterpart:
    id: int
    username: str | None
    name: str | None
    company_name: str | None
    user_type: str

    @property
    def display_name(self) -> str | None:
        return self.name or self.company_name or self.username


@dataclass(frozen=True, slots=True)
class Thread:
    """The caller's conversation with one counterpart."""

    counterpart: Counterpart
    last_message: DirectMessage
    unread: int
    total: int


_COLUMNS = "id, sender_id, recipient_id, pitch_id, content, created_at, read_at"


def _shown_pitch(viewer: str, viewer_type: str) -> str:
    """`m.pitch_id` when the viewer may see that pitch now (`visible_sql` over `pitches p`, the
    list form of rooms.access.decide), else NULL: a message about a pitch that became private or
    unpublished keeps its text, and stops naming the pitch to whoever may no longer see it."""
    nda = f"""EXISTS (SELECT 1 FROM nda_requests a WHERE a.pitch_id = p.id
                          AND a.requester_id = {viewer} AND a.status = 'approved')"""
    return f"CASE WHEN {visible_sql(viewer, viewer_type, has_nda=nda)} THEN m.pitch_id END"


def _message(row: asyncpg.Record, prefix: str = "") -> DirectMessage:
    return DirectMessage(**{c: row[prefix + c] for c in _COLUMNS.split(", ")})


class MessageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, sender_id: int, recipient_id: int, pitch_id: int | None, content: str
    ) -> DirectMessage:
        row = await self.db.fetchrow(
            f"""INSERT INTO direct_messages (sender_id, recipient_id, pitch_id, content)
                VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}""",
            sender_id,
            recipient_id,
            pitch_id,
            content,
        )
        assert row is not None
        return _message(row)

    async def counterpart(self, user_id: int) -> Counterpart | None:
        row = await self.db.fetchrow(
            "SELECT id, username, name, company_name, user_type FROM users WHERE id = $1", user_id
        )
        return Counterpart(**dict(row)) if row else None

    async def threads(
        self, user_id: int, *, limit: int, offset: int, user_type: str = ""
    ) -> tuple[list[Thread], int]:
        """One entry per counterpart, the most recently active first, and how many there are."""
        async with self.db.acquire() as conn:
            total = await conn.fetchval(
                """SELECT count(*) FROM (
                       SELECT recipient_id FROM direct_messages WHERE sender_id = $1
                       UNION
                       SELECT sender_id FROM direct_messages WHERE recipient_id = $1) t""",
                user_id,
            )
            rows = await conn.fetch(
                f"""WITH mine AS (
                       SELECT id, recipient_id AS other_id, false AS received, read_at
                       FROM direct_messages WHERE sender_id = $1
                       UNION ALL
                       SELECT id, sender_id, true, read_at
                       FROM direct_messages WHERE recipient_id = $1
                   ), threads AS (
                       SELECT other_id, max(id) AS last_id, count(*) AS total,
                              count(*) FILTER (WHERE received AND read_at IS NULL) AS unread
                       FROM mine GROUP BY other_id
                   )
                   SELECT t.other_id, t.total, t.unread,
                          u.username, u.name, u.company_name, u.user_type,
                          m.id AS m_id, m.sender_id AS m_sender_id,
                          m.recipient_id AS m_recipient_id,
                          {_shown_pitch("$1", "$4")} AS m_pitch_id,
                          m.content AS m_content, m.created_at AS m_created_at,
                          m.read_at AS m_read_at
                   FROM threads t
                   JOIN direct_messages m ON m.id = t.last_id
                   JOIN users u ON u.id = t.other_id
                   LEFT JOIN pitches p ON p.id = m.pitch_id
                   ORDER BY t.last_id DESC LIMIT $2 OFFSET $3""",
                user_id,
                limit,
                offset,
                user_type,
            )
        threads = [
            Thread(
                counterpart=Counterpart(
                    r["other_id"], r["username"], r["name"], r["company_name"], r["user_type"]
                ),
                last_message=_message(r, "m_"),
                unread=int(r["unread"]),
                total=int(r["total"]),
            )
            for r in rows
        ]
        return threads, int(total)

    async def conversation(
        self, user_id: int, other_id: int, *, limit: int, offset: int, user_type: str = ""
    ) -> tuple[list[DirectMessage], int]:
        """Messages between two users, newest first, and how many there are."""
        where = """WHERE (m.sender_id = $1 AND m.recipient_id = $2)
                      OR (m.sender_id = $2 AND m.recipient_id = $1)"""
        async with self.db.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM direct_messages m {where}", user_id, other_id)
            rows = await conn.fetch(
                f"""SELECT m.id, m.sender_id, m.recipient_id, {_shown_pitch("$1", "$5")} AS pitch_id,
                           m.content, m.created_at, m.read_at
                    FROM direct_messages m LEFT JOIN pitches p ON p.id = m.pitch_id {where}
                    ORDER BY m.id DESC LIMIT $3 OFFSET $4""",
                user_id,
                other_id,
                limit,
                offset,
                user_type,
            )
        return [_message(r) for r in rows], int(total)

    async def mark_conversation_read(self, user_id: int, other_id: int, up_to: int | None = None) -> int:
        """Mark what `other_id` sent to `user_id` as read (up to message `up_to`, when given: what
        the reader has seen, not what arrived since); how many changed."""
        status = await self.db.execute(
            """UPDATE direct_messages SET read_at = now()
               WHERE recipient_id = $1 AND sender_id = $2 AND read_at IS NULL
                 AND ($3::bigint IS NULL OR id <= $3::bigint)""",
            user_id,
            other_id,
            up_to,
        )
        return int(status.split()[-1])

    async def mark_read(self, user_id: int, message_id: int) -> DirectMessage | None:
        """Mark one received message read; None unless `user_id` is its recipient."""
        row = await self.db.fetchrow(
            f"""UPDATE direct_messages SET read_at = coalesce(read_at, now())
                WHERE id = $1 AND recipient_id = $2 RETURNING {_COLUMNS}""",
            message_id,
            user_id,
        )
        return _message(row) if row else None

    async def unread_total(self, user_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM direct_messages WHERE recipient_id = $1 AND read_at IS NULL",
                user_id,
            )
        )
