"""Saved pitches: an investor's list of pitches to come back to.

The list shows only pitches the saver may still see (the same SQL rule as the catalog,
`storage.pitches.visible_sql`), with the per-row NDA flag computed in the same query, so the
caller hides protected fields without a query per row. Owners learn how many saved a pitch,
never who.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

import asyncpg

from .database import Database
from .pitches import CatalogRow, Creator, Pitch, Viewer, visible_sql


@dataclass(frozen=True, slots=True)
class SavedRow:
    row: CatalogRow
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class SavedPage:
    rows: tuple[SavedRow, ...]
    total: int


_FIELDS = tuple(f.name for f in fields(Pitch))
_P_COLUMNS = ", ".join(f"p.{c}" for c in _FIELDS)
_NDA = """CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM nda_requests r
                       WHERE r.pitch_id = p.id AND r.requester_id = $1
                         AND r.status = 'approved') AS has_nda
    ) n"""


def _saved(row: asyncpg.Record) -> SavedRow:
    pitch = Pitch(**{c: row[c] for c in _FIELDS})
    creator = Creator(pitch.user_id, row["c_username"], row["c_name"], row["c_company"], row["c_type"])
    return SavedRow(CatalogRow(pitch, creator, bool(row["has_nda"])), row["saved_at"])


class SavedStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, user_id: int, pitch_id: int) -> tuple[bool, datetime] | None:
        """Save; (created now?, when it was saved). Idempotent. None when the pitch is gone."""
        async with self.db.transaction() as conn:
            try:
                created = await conn.fetchval(
                    """INSERT INTO saved_pitches (user_id, pitch_id) VALUES ($1, $2)
                       ON CONFLICT DO NOTHING RETURNING created_at""",
                    user_id,
                    pitch_id,
                )
            except asyncpg.ForeignKeyViolationError:
                return None
            if created is not None:
                return True, created
            since = await conn.fetchval(
                "SELECT created_at FROM saved_pitches WHERE user_id = $1 AND pitch_id = $2",
                user_id,
                pitch_id,
            )
            return False, since

    async def unsave(self, user_id: int, pitch_id: int) -> bool:
        result = await self.db.execute(
            "DELETE FROM saved_pitches WHERE user_id = $1 AND pitch_id = $2", user_id, pitch_id
        )
        return result.endswith(" 1")

    async def saved_at(self, user_id: int, pitch_id: int) -> datetime | None:
        at: datetime | None = await self.db.fetchval(
            "SELECT created_at FROM saved_pitches WHERE user_id = $1 AND pitch_id = $2",
            user_id,
            pitch_id,
        )
        return at

    async def page(self, viewer: Viewer, *, limit: int, offset: int) -> SavedPage:
        """The viewer's saved pitches they may still see, most recently saved first."""
        where = f"s.user_id = $1 AND {visible_sql('$1', '$2')}"
        rows = await self.db.fetch(
            f"""SELECT {_P_COLUMNS}, n.has_nda, s.created_at AS saved_at,
                       u.username AS c_username, u.name AS c_name, u.company_name AS c_company,
                       u.user_type AS c_type, count(*) OVER () AS total
                FROM saved_pitches s
                JOIN pitches p ON p.id = s.pitch_id
                JOIN users u ON u.id = p.user_id
                {_NDA}
                WHERE {where}
                ORDER BY s.created_at DESC, s.pitch_id DESC
                LIMIT $3 OFFSET $4""",
            viewer.user_id,
            viewer.user_type,
            limit,
            offset,
        )
        if rows:
            total = int(rows[0]["total"])
        elif offset == 0:
            total = 0
        else:  # past the end: the window count saw no rows
            total = int(
                await self.db.fetchval(
                    f"""SELECT count(*) FROM saved_pitches s JOIN pitches p ON p.id = s.pitch_id
                        {_NDA} WHERE {where}""",
                    viewer.user_id,
                    viewer.user_type,
                )
            )
        return SavedPage(tuple(_saved(r) for r in rows), total)

    async def counts(self, pitch_ids: Iterable[int]) -> dict[int, int]:
        """How many saved each pitch (for its owner): one query for a whole page."""
        ids = sorted(set(pitch_ids))
        if not ids:
            return {}
        rows = await self.db.fetch(
            """SELECT pitch_id, count(*) AS n FROM saved_pitches
               WHERE pitch_id = ANY($1::bigint[]) GROUP BY pitch_id""",
            ids,
        )
        found = {r["pitch_id"]: int(r["n"]) for r in rows}
        return {i: found.get(i, 0) for i in ids}
