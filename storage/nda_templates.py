"""A creator's NDA templates, in versions, and the signed agreements made under them.

A template is a name for a line of versions; an edit never changes a version but adds the next
one, so an NDA signed under version 2 keeps reading version 2 after the owner wrote version 5. What
a requester accepts is identified by the version's `content_hash`: the SHA-256 of exactly the text
they read (title, body, term, jurisdiction), recorded on the NDA beside the version's id.

Deleting a template that a pitch still requires is refused (`TemplateInUse`, naming the pitches);
one that agreements refer to (signed or pending) is archived instead of deleted: it leaves the
owner's list and can no longer be chosen, and its versions stay for those agreements. A template
nothing refers to is deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg
import orjson

from .database import Database, StorageError


class TemplateInUse(StorageError):
    """Pitches require the template: it cannot be deleted until they name another (or none)."""

    def __init__(self, titles: list[str], count: int) -> None:
        super().__init__(f"required by {count} pitch(es)")
        self.titles = titles
        self.count = count


def content_hash(title: str, body: str, term_months: int, jurisdiction: str) -> str:
    """The SHA-256 (hex) of what a requester reads and accepts: a canonical JSON object of the
    version's four terms (sorted keys, UTF-8), so anyone holding the text can recompute it."""
    canonical = orjson.dumps(
        {"body": body, "jurisdiction": jurisdiction, "termMonths": term_months, "title": title},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    id: int
    template_id: int
    version: int
    title: str
    body: str
    term_months: int
    jurisdiction: str
    content_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Template:
    """A template as its owner sees it: the current version's terms and what refers to it."""

    id: int
    owner_id: int
    current_version: int
    created_at: datetime
    updated_at: datetime
    current: TemplateVersion
    pitch_count: int  # pitches requiring it
    agreement_count: int  # NDAs (any status) signed under one of its versions


_V_COLUMNS = "id, template_id, version, title, body, term_months, jurisdiction, content_hash, created_at"
_V_FIELDS = tuple(_V_COLUMNS.split(", "))
_VV_COLUMNS = ", ".join(f"v.{c} AS v_{c}" for c in _V_FIELDS)


def _version(row: asyncpg.Record, prefix: str = "") -> TemplateVersion:
    return TemplateVersion(**{c: row[prefix + c] for c in _V_FIELDS})


_TEMPLATE_SELECT = f"""
    SELECT t.id, t.owner_id, t.current_version, t.created_at, t.updated_at, {_VV_COLUMNS},
           (SELECT count(*) FROM pitches p WHERE p.nda_template_id = t.id) AS pitch_count,
           (SELECT count(*) FROM nda_requests n
              JOIN nda_template_versions tv ON tv.id = n.template_version_id
             WHERE tv.template_id = t.id) AS agreement_count
    FROM nda_templates t
    JOIN nda_template_versions v ON v.template_id = t.id AND v.version = t.current_version"""


def _template(row: asyncpg.Record) -> Template:
    return Template(
        id=row["id"],
        owner_id=row["owner_id"],
        current_version=row["current_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        current=_version(row, "v_"),
        pitch_count=int(row["pitch_count"]),
        agreement_count=int(row["agreement_count"]),
    )


@dataclass(frozen=True, slots=True)
class TemplatePage:
    rows: tuple[Template, ...]
    total: int


class NdaTemplateStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def owned(self, owner_id: int, *, limit: int, offset: int) -> TemplatePage:
        """The owner's templates (archived ones left out), most recently changed first."""
        rows = await self.db.fetch(
            f"""{_TEMPLATE_SELECT}
                WHERE t.owner_id = $1 AND t.archived_at IS NULL
                ORDER BY t.updated_at DESC, t.id DESC LIMIT $2 OFFSET $3""",
            owner_id,
            limit,
            offset,
        )
        total = await self.db.fetchval(
            "SELECT count(*) FROM nda_templates WHERE owner_id = $1 AND archived_at IS NULL", owner_id
        )
        return TemplatePage(tuple(_template(r) for r in rows), int(total))

    async def get(self, template_id: int, owner_id: int) -> Template | None:
        """The owner's template (not archived); None for anyone else's or an unknown id."""
        row = await self.db.fetchrow(
            f"{_TEMPLATE_SELECT} WHERE t.id = $1 AND t.owner_id = $2 AND t.archived_at IS NULL",
            template_id,
            owner_id,
        )
        return _template(row) if row else None

    async def versions(self, template_id: int) -> list[TemplateVersion]:
        """Every version of a template, newest first."""
        rows = await self.db.fetch(
            f"SELECT {_V_COLUMNS} FROM nda_template_versions WHERE template_id = $1 ORDER BY version DESC",
            template_id,
        )
        return [_version(r) for r in rows]

    async def create(
        self, owner_id: int, *, title: str, body: str, term_months: int, jurisdiction: str
    ) -> Template:
        async with self.db.transaction() as conn:
            template_id = await conn.fetchval(
                "INSERT INTO nda_templates (owner_id) VALUES ($1) RETURNING id", owner_id
            )
            await conn.execute(
                """INSERT INTO nda_template_versions
                       (template_id, version, title, body, term_months, jurisdiction, content_hash)
                   VALUES ($1, 1, $2, $3, $4, $5, $6)""",
                template_id,
                title,
                body,
                term_months,
                jurisdiction,
                content_hash(title, body, term_months, jurisdiction),
            )
        found = await self.get(int(template_id), owner_id)
        assert found is not None
        return found

    async def update(self, template_id: int, owner_id: int, changes: Mapping[str, Any]) -> Template | None:
        """Write the next version with `changes` (title, body, term_months, jurisdiction) over the
        current one; None when the owner has no such template. Changes that leave the text as it
        is (the same hash) add no version. The template row is locked, so two edits at once make
        two consecutive versions, never two of the same number."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"""SELECT {_VV_COLUMNS} FROM nda_templates t
                    JOIN nda_template_versions v ON v.template_id = t.id AND v.version = t.current_version
                    WHERE t.id = $1 AND t.owner_id = $2 AND t.archived_at IS NULL
                    FOR UPDATE OF t""",
                template_id,
                owner_id,
            )
            if row is None:
                return None
            current = _version(row, "v_")
            terms = {
                "title": changes.get("title", current.title),
                "body": changes.get("body", current.body),
                "term_months": changes.get("term_months", current.term_months),
                "jurisdiction": changes.get("jurisdiction", current.jurisdiction),
            }
            digest = content_hash(terms["title"], terms["body"], terms["term_months"], terms["jurisdiction"])
            if digest != current.content_hash:
                await conn.execute(
                    """INSERT INTO nda_template_versions
                           (template_id, version, title, body, term_months, jurisdiction, content_hash)
                       VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                    template_id,
                    current.version + 1,
                    terms["title"],
                    terms["body"],
                    terms["term_months"],
                    terms["jurisdiction"],
                    digest,
                )
                await conn.execute(
                    "UPDATE nda_templates SET current_version = $2, updated_at = now() WHERE id = $1",
                    template_id,
                    current.version + 1,
                )
        return await self.get(template_id, owner_id)

    async def delete(self, template_id: int, owner_id: int) -> Literal["deleted", "archived"] | None:
        """Delete the owner's template, or archive it when agreements refer to its versions;
        `TemplateInUse` while pitches require it; None when the owner has no such template."""
        async with self.db.transaction() as conn:
            # Locked first: a pitch choosing it meanwhile (its foreign key check takes a key-share
            # lock on this row) waits for the outcome.
            found = await conn.fetchval(
                """SELECT id FROM nda_templates WHERE id = $1 AND owner_id = $2 AND archived_at IS NULL
                   FOR UPDATE""",
                template_id,
                owner_id,
            )
            if found is None:
                return None
            rows = await conn.fetch(
                """SELECT title, count(*) OVER () AS total FROM pitches WHERE nda_template_id = $1
                   ORDER BY id LIMIT 3""",
                template_id,
            )
            if rows:
                raise TemplateInUse([r["title"] for r in rows], int(rows[0]["total"]))
            used = await conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM nda_requests n
                                  JOIN nda_template_versions v ON v.id = n.template_version_id
                                  WHERE v.template_id = $1)""",
                template_id,
            )
            if used:
                await conn.execute(
                    "UPDATE nda_templates SET archived_at = now(), updated_at = now() WHERE id = $1",
                    template_id,
                )
                return "archived"
            await conn.execute("DELETE FROM nda_templates WHERE id = $1", template_id)
            return "deleted"

    async def usable(self, template_id: int, owner_id: int) -> bool:
        """Whether a pitch of `owner_id` may require this template: theirs and not archived."""
        return bool(
            await self.db.fetchval(
                """SELECT EXISTS (SELECT 1 FROM nda_templates
                                  WHERE id = $1 AND owner_id = $2 AND archived_at IS NULL)""",
                template_id,
                owner_id,
            )
        )

    async def for_pitch(self, pitch_id: int) -> TemplateVersion | None:
        """The current version of the template the pitch requires; None when it requires none."""
        row = await self.db.fetchrow(
            f"""SELECT {_VV_COLUMNS} FROM pitches p
                JOIN nda_templates t ON t.id = p.nda_template_id
                JOIN nda_template_versions v ON v.template_id = t.id AND v.version = t.current_version
                WHERE p.id = $1""",
            pitch_id,
        )
        return _version(row, "v_") if row else None


# -- signed agreements -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """A signatory as the agreement names them."""

    id: int
    username: str | None
    name: str | None
    company_name: str | None
    user_type: str


@dataclass(frozen=True, slots=True)
class Agreement:
    """An NDA with its accepted version: everything its document shows."""

    nda_id: int
    status: str
    pitch_id: int
    pitch_title: str
    requester: Party
    owner: Party
    version: TemplateVersion
    template_hash: str
    accepted_at: datetime
    countersigned_at: datetime | None
    expires_at: datetime | None
    expired_at: datetime | None


_PARTY = (
    "u{n}.id AS {n}_id, u{n}.username AS {n}_username, u{n}.name AS {n}_name, "
    "u{n}.company_name AS {n}_company, u{n}.user_type AS {n}_type"
)


def _party(row: asyncpg.Record, n: str) -> Party:
    return Party(
        row[f"{n}_id"], row[f"{n}_username"], row[f"{n}_name"], row[f"{n}_company"], row[f"{n}_type"]
    )


_AGREEMENT_SELECT = f"""
    SELECT n.id AS nda_id, n.status, n.pitch_id, p.title AS pitch_title, n.template_hash,
           n.accepted_at, n.countersigned_at, n.expires_at, n.expired_at, {_VV_COLUMNS},
           {_PARTY.format(n="r")}, {_PARTY.format(n="o")},
           count(*) OVER () AS total
    FROM nda_requests n
    JOIN nda_template_versions v ON v.id = n.template_version_id
    JOIN pitches p ON p.id = n.pitch_id
    JOIN users ur ON ur.id = n.requester_id
    JOIN users uo ON uo.id = n.owner_id"""


def _agreement(row: asyncpg.Record) -> Agreement:
    return Agreement(
        nda_id=row["nda_id"],
        status=row["status"],
        pitch_id=row["pitch_id"],
        pitch_title=row["pitch_title"],
        requester=_party(row, "r"),
        owner=_party(row, "o"),
        version=_version(row, "v_"),
        template_hash=row["template_hash"],
        accepted_at=row["accepted_at"],
        countersigned_at=row["countersigned_at"],
        expires_at=row["expires_at"],
        expired_at=row["expired_at"],
    )


@dataclass(frozen=True, slots=True)
class AgreementPage:
    rows: tuple[Agreement, ...]
    total: int


class AgreementStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def for_party(self, nda_id: int, user_id: int) -> Agreement | None:
        """The NDA's agreement when `user_id` is one of its two parties and it was made under a
        template; None otherwise (for anyone else it does not exist)."""
        row = await self.db.fetchrow(
            f"{_AGREEMENT_SELECT} WHERE n.id = $1 AND $2 IN (n.requester_id, n.owner_id)", nda_id, user_id
        )
        return _agreement(row) if row else None

    async def signed(self, user_id: int, *, limit: int, offset: int) -> AgreementPage:
        """Countersigned agreements the user is a party to (either side, any status since:
        approved, expired, revoked), most recently countersigned first."""
        rows = await self.db.fetch(
            f"""{_AGREEMENT_SELECT}
                WHERE $1 IN (n.requester_id, n.owner_id) AND n.countersigned_at IS NOT NULL
                ORDER BY n.countersigned_at DESC, n.id DESC LIMIT $2 OFFSET $3""",
            user_id,
            limit,
            offset,
        )
        if rows:
            total = int(rows[0]["total"])
        elif offset == 0:
            total = 0
        else:
            total = int(
                await self.db.fetchval(
                    """SELECT count(*) FROM nda_requests n
                       WHERE $1 IN (n.requester_id, n.owner_id) AND n.countersigned_at IS NOT NULL
                         AND n.template_version_id IS NOT NULL""",
                    user_id,
                )
            )
        return AgreementPage(tuple(_agreement(r) for r in rows), total)


__all__ = [
    "Agreement",
    "AgreementPage",
    "AgreementStore",
    "NdaTemplateStore",
    "Party",
    "Template",
    "TemplateInUse",
    "TemplatePage",
    "TemplateVersion",
    "content_hash",
]
