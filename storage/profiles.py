"""Profiles and preferences of every account.

Username uniqueness is the database's (the case-insensitive unique index of 0001), so two
concurrent renames to one name cannot both win; the loser is told `UsernameTaken`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from .database import Database, StorageError
from .pitches import CatalogPage, CatalogRow, Creator, Pitch, Viewer, visible_sql
from .users import UsernameTaken

__all__ = [
    "PROFILE_FIELDS",
    "Completeness",
    "InvalidBudgetRange",
    "Preferences",
    "Profile",
    "ProfileStore",
    "PublicCounts",
    "UsernameTaken",
    "published_by",
]


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    email: str
    username: str | None
    name: str | None
    first_name: str | None
    last_name: str | None
    company_name: str | None
    bio: str | None
    location: str | None
    website: str | None
    avatar_key: str | None
    user_type: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Completeness:
    percent: int
    missing: tuple[str, ...]  # camelCase, as on the wire


# The fields a complete profile has, in the order a form shows them (camelCase, as on the wire).
PROFILE_FIELDS: tuple[str, ...] = (
    "firstName",
    "lastName",
    "username",
    "bio",
    "company",
    "location",
    "website",
    "avatar",
)


def completeness(p: Profile) -> Completeness:
    """How complete a profile is, so a front end can prompt for what is missing."""
    values = {
        "firstName": p.first_name,
        "lastName": p.last_name,
        "username": p.username,
        "bio": p.bio,
        "company": p.company_name,
        "location": p.location,
        "website": p.website,
        "avatar": p.avatar_key,
    }
    missing = tuple(f for f in PROFILE_FIELDS if not values[f])
    filled = len(PROFILE_FIELDS) - len(missing)
    return Completeness(round(filled * 100 / len(PROFILE_FIELDS)), missing)


@dataclass(frozen=True, slots=True)
class PublicCounts:
    followers: int
    following: int
    followed_by_viewer: bool


@dataclass(frozen=True, slots=True)
class Preferences:
    notifications: dict[str, dict[str, bool]]
    genres: tuple[str, ...]
    formats: tuple[str, ...]
    budget_min: Decimal | None
    budget_max: Decimal | None
    updated_at: datetime | None


_COLUMNS = (
    "id, email, username, name, first_name, last_name, company_name, bio, location, website, "
    "avatar_key, user_type, created_at, updated_at"
)
UPDATABLE = frozenset({"username", "first_name", "last_name", "company_name", "bio", "location", "website"})


def _profile(row: asyncpg.Record) -> Profile:
    values = dict(row)
    if values["first_name"] is None and values["last_name"] is None and values["name"]:
        # Registration takes one display name: read it as first name and the rest (as 0008 did for
        # the accounts that existed then) until the person sets the two themselves.
        first, _, rest = values["name"].strip().partition(" ")
        values["first_name"] = first[:100] or None
        values["last_name"] = rest.strip()[:100] or None
    return Profile(**values)


def _json_object(raw: Any) -> dict[str, Any]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    return value if isinstance(value, dict) else {}


class InvalidBudgetRange(StorageError):
    """budget_min would exceed budget_max (the table's check)."""


class ProfileStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Profile | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
        return _profile(row) if row else None

    async def update(self, user_id: int, changes: Mapping[str, Any]) -> Profile | None:
        """Apply a partial update; None when the account is gone. When first or last name
        change, the display name follows them (the two joined, or null when both are)."""
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        args: list[Any] = [user_id]
        sets = []
        params: dict[str, str] = {}
        for column in sorted(changes):
            args.append(changes[column])
            params[column] = f"${len(args)}"
            sets.append(f"{column} = {params[column]}")
        if {"first_name", "last_name"} & set(changes):
            # A column not sent keeps its stored value: join what will be stored.
            first = params.get("first_name", "first_name")
            last = params.get("last_name", "last_name")
            sets.append(f"name = nullif(left(concat_ws(' ', {first}::text, {last}::text), 200), '')")
        sets.append("updated_at = now()")
        try:
            row = await self.db.fetchrow(
                f"UPDATE users SET {', '.join(sets)} WHERE id = $1 RETURNING {_COLUMNS}", *args
            )
        except asyncpg.UniqueViolationError:
            raise UsernameTaken(changes.get("username")) from None
        return _profile(row) if row else None

    async def set_avatar(self, user_id: int, key: str | None) -> tuple[Profile, str | None] | None:
        """Point the account at a new avatar object (or none); returns the profile and the key it
        replaced, whose object the caller removes. None when the account is gone."""
        async with self.db.transaction() as conn:
            old = await conn.fetchrow("SELECT avatar_key FROM users WHERE id = $1 FOR UPDATE", user_id)
            if old is None:
                return None
            row = await conn.fetchrow(
                f"""UPDATE users SET avatar_key = $2, updated_at = now() WHERE id = $1
                    RETURNING {_COLUMNS}""",
                user_id,
                key,
            )
        assert row is not None
        return _profile(row), old["avatar_key"]

    async def avatar_key(self, user_id: int) -> str | None:
        key: str | None = await self.db.fetchval("SELECT avatar_key FROM users WHERE id = $1", user_id)
        return key

    async def counts(self, user_id: int, viewer_id: int) -> PublicCounts:
        row = await self.db.fetchrow(
            """SELECT (SELECT count(*) FROM follows WHERE followee_id = $1) AS followers,
                      (SELECT count(*) FROM follows WHERE follower_id = $1) AS following,
                      EXISTS (SELECT 1 FROM follows
                              WHERE follower_id = $2 AND followee_id = $1) AS followed""",
            user_id,
            viewer_id,
        )
        assert row is not None
        return PublicCounts(int(row["followers"]), int(row["following"]), bool(row["followed"]))

    # -- preferences ------------------------------------------------------------------------

    async def preferences(self, user_id: int) -> Preferences:
        """The stored preferences, or the defaults (nothing stored yet)."""
        row = await self.db.fetchrow(
            """SELECT notifications, genres, formats, budget_min, budget_max, updated_at
               FROM user_preferences WHERE user_id = $1""",
            user_id,
        )
        if row is None:
            return Preferences({}, (), (), None, None, None)
        return _preferences(row)

    async def save_preferences(self, user_id: int, changes: Mapping[str, Any]) -> Preferences:
        """Upsert the fields sent; `notifications` ({kind: {channel: bool}}) is merged per kind
        and channel into what was stored, in one statement, so concurrent saves of different
        switches all land. InvalidBudgetRange when the range would end below its start."""
        notifications = changes.get("notifications") or None
        try:
            row = await self._upsert(user_id, notifications, changes)
        except asyncpg.CheckViolationError:
            raise InvalidBudgetRange() from None
        assert row is not None
        return _preferences(row)

    async def _upsert(
        self, user_id: int, notifications: Any, changes: Mapping[str, Any]
    ) -> asyncpg.Record | None:
        return await self.db.fetchrow(
            """INSERT INTO user_preferences AS p
                   (user_id, notifications, genres, formats, budget_min, budget_max)
               VALUES ($1, coalesce($2::jsonb, '{}'::jsonb), coalesce($3::text[], '{}'),
                       coalesce($4::text[], '{}'), $6, $8)
               ON CONFLICT (user_id) DO UPDATE SET
                   notifications = CASE WHEN $2::jsonb IS NULL THEN p.notifications
                       ELSE p.notifications || (
                           SELECT jsonb_object_agg(k, coalesce(p.notifications -> k, '{}'::jsonb) || v)
                           FROM jsonb_each($2::jsonb) AS e(k, v)) END,
                   genres = coalesce($3::text[], p.genres),
                   formats = coalesce($4::text[], p.formats),
                   budget_min = CASE WHEN $5 THEN $6 ELSE p.budget_min END,
                   budget_max = CASE WHEN $7 THEN $8 ELSE p.budget_max END,
                   updated_at = now()
               RETURNING notifications, genres, formats, budget_min, budget_max, updated_at""",
            user_id,
            json.dumps(notifications) if notifications is not None else None,
            list(changes["genres"]) if "genres" in changes else None,
            list(changes["formats"]) if "formats" in changes else None,
            "budget_min" in changes,
            changes.get("budget_min"),
            "budget_max" in changes,
            changes.get("budget_max"),
        )


def _preferences(row: asyncpg.Record) -> Preferences:
    raw = _json_object(row["notifications"])
    notifications = {
        str(kind): {str(ch): bool(on) for ch, on in channels.items()}
        for kind, channels in raw.items()
        if isinstance(channels, dict)
    }
    return Preferences(
        notifications,
        tuple(row["genres"]),
        tuple(row["formats"]),
        row["budget_min"],
        row["budget_max"],
        row["updated_at"],
    )


_FIELDS = tuple(f.name for f in fields(Pitch))
_P_COLUMNS = ", ".join(f"p.{c}" for c in _FIELDS)


async def published_by(
    db: Database, owner_id: int, viewer: Viewer, *, limit: int, offset: int
) -> CatalogPage:
    """A user's published pitches that `viewer` may see (their public profile), newest published
    first, with the viewer's per-row NDA flag (the catalog's rule, `visible_sql`)."""
    where = f"p.user_id = $3 AND p.status = 'published' AND {visible_sql('$1', '$2')}"
    nda = """CROSS JOIN LATERAL (
            SELECT EXISTS (SELECT 1 FROM nda_requests r
                           WHERE r.pitch_id = p.id AND r.requester_id = $1
                             AND r.status = 'approved') AS has_nda
        ) n"""
    rows = await db.fetch(
        f"""SELECT {_P_COLUMNS}, n.has_nda, u.username AS c_username, u.name AS c_name,
                   u.company_name AS c_company, u.user_type AS c_type, count(*) OVER () AS total
            FROM pitches p JOIN users u ON u.id = p.user_id
            {nda}
            WHERE {where}
            ORDER BY p.published_at DESC, p.id DESC
            LIMIT $4 OFFSET $5""",
        viewer.user_id,
        viewer.user_type,
        owner_id,
        limit,
        offset,
    )
    if rows:
        total = int(rows[0]["total"])
    elif offset == 0:
        total = 0
    else:
        total = int(
            await db.fetchval(
                f"SELECT count(*) FROM pitches p {nda} WHERE {where}",
                viewer.user_id,
                viewer.user_type,
                owner_id,
            )
        )
    out = []
    for r in rows:
        pitch = Pitch(**{c: r[c] for c in _FIELDS})
        creator = Creator(pitch.user_id, r["c_username"], r["c_name"], r["c_company"], r["c_type"])
        out.append(CatalogRow(pitch, creator, bool(r["has_nda"])))
    return CatalogPage(tuple(out), total)
