"""Pitch media metadata. The bytes live in the blob store; a row is written only after the object
was stored whole, and removed before the object is, so a row never points at a half-written file."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database, StorageError


class MediaLimitReached(StorageError):
    """The pitch already holds as many media as it may."""


@dataclass(frozen=True, slots=True)
class Media:
    id: int
    pitch_id: int
    uploaded_by: int
    kind: str
    storage_key: str
    content_type: str
    size_bytes: int
    sha256: str
    original_name: str | None
    protected: bool
    created_at: datetime


_COLUMNS = (
    "id, pitch_id, uploaded_by, kind, storage_key, content_type, size_bytes, sha256, "
    "original_name, protected, created_at"
)


def _media(row: asyncpg.Record) -> Media:
    return Media(**dict(row))


class MediaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        pitch_id: int,
        uploaded_by: int,
        kind: str,
        storage_key: str,
        content_type: str,
        size_bytes: int,
        sha256: str,
        original_name: str | None,
        protected: bool,
        max_per_pitch: int,
    ) -> Media | None:
        """Insert one row; None when the pitch is gone (deleted while the file was streaming),
        MediaLimitReached when it already holds `max_per_pitch` items.

        The pitch row is locked while counting, so concurrent uploads cannot overshoot the cap,
        and a pitch delete (which takes the same lock) either sees this row or comes first.
        """
        async with self.db.transaction() as conn:
            locked = await conn.fetchval("SELECT id FROM pitches WHERE id = $1 FOR UPDATE", pitch_id)
            if locked is None:
                return None
            count = await conn.fetchval("SELECT count(*) FROM pitch_media WHERE pitch_id = $1", pitch_id)
            if count >= max_per_pitch:
                raise MediaLimitReached()
            row = await conn.fetchrow(
                f"""INSERT INTO pitch_media (pitch_id, uploaded_by, kind, storage_key, content_type,
                        size_bytes, sha256, original_name, protected)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    RETURNING {_COLUMNS}""",
                pitch_id,
                uploaded_by,
                kind,
                storage_key,
                content_type,
                size_bytes,
                sha256,
                original_name,
                protected,
            )
        assert row is not None
        return _media(row)

    async def count(self, pitch_id: int, *, include_protected: bool) -> int:
        total: int = await self.db.fetchval(
            "SELECT count(*) FROM pitch_media WHERE pitch_id = $1 AND ($2 OR NOT protected)",
            pitch_id,
            include_protected,
        )
        return total

    async def for_pitch(
        self, pitch_id: int, *, include_protected: bool, limit: int = 100, offset: int = 0
    ) -> list[Media]:
        rows = await self.db.fetch(
            f"""SELECT {_COLUMNS} FROM pitch_media
                WHERE pitch_id = $1 AND ($2 OR NOT protected)
                ORDER BY created_at, id LIMIT $3 OFFSET $4""",
            pitch_id,
            include_protected,
            limit,
            offset,
        )
        return [_media(r) for r in rows]

    async def get(self, media_id: int) -> Media | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM pitch_media WHERE id = $1", media_id)
        return _media(row) if row else None

    async def by_key(self, storage_key: str) -> Media | None:
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM pitch_media WHERE storage_key = $1", storage_key
        )
        return _media(row) if row else None

    async def delete(self, media_id: int, pitch_id: int) -> Media | None:
        """Remove the row (the caller then removes the object); None if it was not there."""
        row = await self.db.fetchrow(
            f"DELETE FROM pitch_media WHERE id = $1 AND pitch_id = $2 RETURNING {_COLUMNS}",
            media_id,
            pitch_id,
        )
        return _media(row) if row else None

    async def set_protected(self, media_id: int, pitch_id: int, protected: bool) -> Media | None:
        """Mark one item NDA-only (or public again); None if the pitch holds no such item."""
        row = await self.db.fetchrow(
            f"""UPDATE pitch_media SET protected = $3 WHERE id = $1 AND pitch_id = $2
                RETURNING {_COLUMNS}""",
            media_id,
            pitch_id,
            protected,
        )
        return _media(row) if row else None

    async def posters(self, pitch_ids: Collection[int], unlocked: Collection[int]) -> dict[int, str]:
        """The newest poster's storage key of each pitch in `pitch_ids`, in one query for a whole
        list page: protected posters count only for the pitches in `unlocked` (the caller owns
        them or holds an approved NDA); a pitch without a poster it may see is absent."""
        if not pitch_ids:
            return {}
        rows = await self.db.fetch(
            """SELECT DISTINCT ON (pitch_id) pitch_id, storage_key FROM pitch_media
                WHERE kind = 'poster' AND pitch_id = ANY($1::bigint[])
                  AND (NOT protected OR pitch_id = ANY($2::bigint[]))
                ORDER BY pitch_id, created_at DESC, id DESC""",
            list(pitch_ids),
            list(unlocked),
        )
        return {int(r["pitch_id"]): str(r["storage_key"]) for r in rows}
