"""What room actors persist: pitch-room messages and snapshots of passivated rooms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .database import Database


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    pitch_id: int
    user_id: int
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    epoch: str
    seq: int
    history: bytes


class RoomStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_message(self, pitch_id: int, user_id: int, body: str) -> StoredMessage:
        row = await self.db.fetchrow(
            """INSERT INTO room_messages (pitch_id, user_id, body) VALUES ($1, $2, $3)
               RETURNING id, pitch_id, user_id, body, created_at""",
            pitch_id,
            user_id,
            body,
        )
        assert row is not None
        return StoredMessage(**dict(row))

    async def add_messages(self, pitch_id: int, posts: Sequence[tuple[int, str]]) -> list[StoredMessage]:
        """Store `(user_id, body)` posts of one room in one statement, hence one transaction and
        one commit (one WAL flush for the lot): all are stored or none is. Ids follow the order
        given, and the rows come back in that order (checked, since the caller acknowledges each
        post by its position)."""
        if not posts:
            return []
        if len(posts) == 1:  # a quiet room's turn: the plain single-row statement
            return [await self.add_message(pitch_id, *posts[0])]
        rows = await self.db.fetch(
            """INSERT INTO room_messages (pitch_id, user_id, body)
               SELECT $1, t.user_id, t.body
               FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS t(user_id, body, n)
               ORDER BY t.n
               RETURNING id, pitch_id, user_id, body, created_at""",
            pitch_id,
            [user_id for user_id, _ in posts],
            [body for _, body in posts],
        )
        stored = sorted((StoredMessage(**dict(row)) for row in rows), key=lambda m: m.id)
        if len(stored) != len(posts) or any(
            (m.user_id, m.body) != post for m, post in zip(stored, posts, strict=True)
        ):
            raise RuntimeError("room_messages batch insert returned rows out of step with its input")
        return stored

    async def save_snapshot(self, room: str, snapshot: RoomSnapshot) -> None:
        await self.db.execute(
            """INSERT INTO room_snapshots (room, epoch, seq, history) VALUES ($1, $2, $3, $4)
               ON CONFLICT (room) DO UPDATE
               SET epoch = EXCLUDED.epoch, seq = EXCLUDED.seq, history = EXCLUDED.history,
                   saved_at = now()""",
            room,
            snapshot.epoch,
            snapshot.seq,
            snapshot.history,
        )

    async def load_snapshot(self, room: str) -> RoomSnapshot | None:
        row = await self.db.fetchrow("SELECT epoch, seq, history FROM room_snapshots WHERE room = $1", room)
        return RoomSnapshot(row["epoch"], row["seq"], bytes(row["history"])) if row else None
