"""Pitch media metadata. The bytes live in the blob store; a row is written only after the object
was stored whole, and removed before the object is, so a row never points at a half-written file.

Each new row enqueues `media.derive` in its own transaction (server/tasks/media.py): the job writes
smaller renditions beside the original and records them in `derivatives`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from .database import Database, StorageError
from .jobs import enqueue

DERIVE_TASK = "media.derive"
"""Render a media item's derivatives (server/tasks/media.py)."""
DERIVE_PRIORITY = -1
VARIANTS: tuple[str, ...] = ("w320", "w800", "preview")
"""The derivatives there may be: poster widths 320 and 800, a deck's or video's preview image."""


def derivative_key(storage_key: str, variant: str) -> str:
    """Where a derivative lives: beside its original, `<original key>.<variant>.webp`."""
    return f"{storage_key}.{variant}.webp"


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
    # variant ("w320", "w800", "preview") -> {"width", "height", "bytes"}, and for a poster
    # "original" -> its {"width", "height"} (as displayed); empty until the job rendered them.
    derivatives: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


_COLUMNS = (
    "id, pitch_id, uploaded_by, kind, storage_key, content_type, size_bytes, sha256, "
    "original_name, protected, created_at, derivatives"
)


def _json(value: Any) -> dict[str, Any]:
    # asyncpg hands jsonb over as its text unless a codec is set (none is, on our pool).
    if isinstance(value, str | bytes):
        value = orjson.loads(value)
    return dict(value) if isinstance(value, dict) else {}


def _media(row: asyncpg.Record) -> Media:
    fields = dict(row)
    fields["derivatives"] = _json(fields.get("derivatives"))
    return Media(**fields)


@dataclass(frozen=True, slots=True)
class Poster:
    """A list page's poster: the original's key and the derivatives rendered so far."""

    storage_key: str
    derivatives: Mapping[str, Mapping[str, int]]


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
            # Committed with the row: no job for an upload that rolled back, no row without its
            # job. The lock keeps two runs for one item (a retry, a backfill) from overlapping;
            # the lower priority lets money and notifications pass a queue of renders.
            await enqueue(
                conn, DERIVE_TASK, {"mediaId": row["id"]}, lock=f"media:{row['id']}", priority=DERIVE_PRIORITY
            )
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

    async def set_derivatives(self, media_id: int, derivatives: Mapping[str, Mapping[str, int]]) -> bool:
        """Record the rendered derivatives (replacing what was there); False when the row is gone
        (deleted while the job rendered: the caller removes what it wrote)."""
        status: str = await self.db.execute(
            "UPDATE pitch_media SET derivatives = $2::jsonb WHERE id = $1",
            media_id,
            orjson.dumps(derivatives).decode(),
        )
        return status != "UPDATE 0"

    async def posters(self, pitch_ids: Collection[int], unlocked: Collection[int]) -> dict[int, Poster]:
        """The newest poster of each pitch in `pitch_ids` (its key and derivatives), in one query
        for a whole list page: protected posters count only for the pitches in `unlocked` (the
        caller owns them or holds an approved NDA); a pitch without a poster it may see is absent."""
        if not pitch_ids:
            return {}
        rows = await self.db.fetch(
            """SELECT DISTINCT ON (pitch_id) pitch_id, storage_key, derivatives FROM pitch_media
                WHERE kind = 'poster' AND pitch_id = ANY($1::bigint[])
                  AND (NOT protected OR pitch_id = ANY($2::bigint[]))
                ORDER BY pitch_id, created_at DESC, id DESC""",
            list(pitch_ids),
            list(unlocked),
        )
        return {int(r["pitch_id"]): Poster(str(r["storage_key"]), _json(r["derivatives"])) for r in rows}
