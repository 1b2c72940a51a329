"""What room actors persist: pitch-room messages and snapshots of passivated rooms."""

from __future__ import annotations

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
