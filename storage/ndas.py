"""The NDA lifecycle in one table: pending -> approved | rejected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database, StorageError


class NdaAlreadyRequested(StorageError):
    """A pending or approved NDA already exists for this requester and pitch."""


class NdaAlreadyDecided(StorageError):
    """The NDA is no longer pending."""


@dataclass(frozen=True, slots=True)
class Nda:
    id: int
    pitch_id: int
    requester_id: int
    owner_id: int
    status: str
    message: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None


_COLUMNS = ("id, pitch_id, requester_id, owner_id, status, message, reason, created_at, "
            "decided_at")


def _nda(row: asyncpg.Record) -> Nda:
    return Nda(**dict(row))


class NdaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def request(self, pitch_id: int, requester_id: int, owner_id: int,
                      message: str | None) -> Nda:
        try:
            row = await self.db.fetchrow(
                f"""INSERT INTO nda_requests (pitch_id, requester_id, owner_id, message)
                    VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}""",
                pitch_id, requester_id, owner_id, message,
            )
        except asyncpg.UniqueViolationError:
            raise NdaAlreadyRequested() from None
        assert row is not None
        return _nda(row)

    async def get(self, nda_id: int) -> Nda | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM nda_requests WHERE id = $1", nda_id)
        return _nda(row) if row else None

    async def decide(self, nda_id: int, owner_id: int, approve: bool,
                     reason: str | None) -> Nda:
        """Decide a pending NDA; only its owner can, and only once."""
        row = await self.db.fetchrow(
            f"""UPDATE nda_requests SET status = $3, reason = $4, decided_at = now()
                WHERE id = $1 AND owner_id = $2 AND status = 'pending'
                RETURNING {_COLUMNS}""",
            nda_id, owner_id, "approved" if approve else "rejected", reason,
        )
        if row is None:
            raise NdaAlreadyDecided()
        return _nda(row)
