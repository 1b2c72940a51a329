"""Pitches, their live counters (views deduplicated per user per day, likes once per user) and the
catalog lists (browse, search, trending, following, mine).

Every list computes, per row and in the same query, whether the viewer holds an approved NDA for
it (`CatalogRow.has_nda`), so callers decide protected fields without a query per row. Budget
filters and the budget sort only see budgets the viewer may see: a hidden budget neither matches a
range nor orders a page, so neither can be used to guess it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import asyncpg

from .database import Database, StorageError


@dataclass(frozen=True, slots=True)
class Pitch:
    id: int
    user_id: int
    title: str
    logline: str | None
    genre: str | None
    format: str | None
    synopsis: str | None
    budget: Decimal | None
    target_audience: str | None
    status: str
    visibility: str
    require_nda: bool
    view_count: int
    like_count: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    nda_template_id: int | None = None  # the NDA template requesters accept (migration 0010)


_COLUMNS = (
    "id, user_id, title, logline, genre, format, synopsis, budget, target_audience, "
    "status, visibility, require_nda, view_count, like_count, created_at, updated_at, "
    "published_at, nda_template_id"
)


def _pitch(row: asyncpg.Record) -> Pitch:
    return Pitch(**dict(row))


class UnknownNdaTemplate(StorageError):
    """The NDA template a pitch was to require is gone: deleted by its owner between the API's
    ownership check and this write (the foreign key decides)."""


class PitchInUse(StorageError):
    """Other records (investments) reference the pitch, so it cannot be deleted."""


@dataclass(frozen=True, slots=True)
class DeletedPitch:
    id: int
    # The blob-store objects of its media: the rows are gone, the caller removes the objects.
    media_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Creator:
    """The public summary of a pitch's owner (never the email)."""

    id: int
    username: str | None
    name: str | None
    company_name: str | None
    user_type: str


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """One pitch of a list, with what the viewer's rights on it depend on."""

    pitch: Pitch
    creator: Creator
    has_nda: bool
    score: float | None = None


@dataclass(frozen=True, slots=True)
class CatalogPage:
    rows: tuple[CatalogRow, ...]
    total: int
    # True when `total` is a lower bound (more than TOTAL_CAP rows, see there), not the count.
    capped: bool = False


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: user id 0 and no type for an anonymous caller."""

    user_id: int = 0
    user_type: str = ""


Sort = Literal["newest", "views", "likes", "budget", "title", "relevance"]
Order = Literal["asc", "desc"]


@dataclass(frozen=True, slots=True)
class BrowseFilter:
    genre: str | None = None
    status: str = "published"
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    q: str | None = None
    sort: Sort = "newest"
    order: Order | None = None


# Trending: each view and like of the last WINDOW_DAYS counts its weight, halved every
# HALF_LIFE_HOURS of age: score = sum(weight * exp(-ln 2 * age_hours / HALF_LIFE_HOURS)).
TRENDING_VIEW_WEIGHT = 1.0
TRENDING_LIKE_WEIGHT = 3.0
TRENDING_HALF_LIFE_HOURS = 24.0
TRENDING_WINDOW_DAYS = 7

UPDATABLE = frozenset(
    {
        "title",
        "logline",
        "genre",
        "format",
        "synopsis",
        "budget",
        "target_audience",
        "status",
        "visibility",
        "require_nda",
        "nda_template_id",
    }
)

_WORD = re.compile(r"[^\W_]+")
_WEB_SYNTAX = re.compile(r'"|(?:^|\s)-\w|\bor\b', re.IGNORECASE)


def search_query(q: str) -> tuple[str, str] | None:
    """(tsquery function, its text) for a search box string, or None when it has no words.

    Plain words become a prefix AND query built from letters and digits only ("dra sp" finds
    "Dragon Space"): nothing the user typed reaches to_tsquery's operator syntax. A query using
    quotes, `-word` or `or` goes to websearch_to_tsquery, which never raises on any input.
    """
    words = _WORD.findall(q)[:12]
    if not words:
        return None
    if _WEB_SYNTAX.search(q):
        return "websearch_to_tsquery", q
    return "to_tsquery", " & ".join(f"{w.lower()}:*" for w in words)


_P_COLUMNS = ", ".join(f"p.{c}" for c in _COLUMNS.split(", "))
_PITCH_FIELDS = tuple(c for c in _COLUMNS.split(", "))


@dataclass
class _Query:
    """A list query under construction: every value a $n parameter, clauses from constants."""

    viewer: Viewer
    args: list[Any] = field(default_factory=list)
    where: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.args.append(self.viewer.user_id)  # $1: the viewer, used by the NDA lateral join

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def visible(self) -> str:
        """Published and visible to the viewer (the catalog lists only published pitches)."""
        return f"(p.status = 'published' AND {visible_sql('$1', self.arg(self.viewer.user_type))})"


def visible_sql(viewer_id: str, viewer_type: str, has_nda: str = "n.has_nda") -> str:
    """The SQL form of `rooms.access.decide(access, viewer).sees` over `pitches p`.

    `viewer_id`/`viewer_type` are the viewer's $n parameters (id 0 and '' when anonymous),
    `has_nda` whether the viewer holds an approved NDA for `p`. Owners and approved-NDA holders see
    the pitch whatever its state; anyone else only while it is published and public, or published
    for investors and the viewer is an investor or production company. The two forms are tied by a
    property-based test (tests/test_pitch_access.py): change both or neither.
    """
    return (
        f"(({viewer_id} <> 0 AND (p.user_id = {viewer_id} OR {has_nda}))"
        " OR (p.status = 'published' AND (p.visibility = 'public'"
        f" OR (p.visibility = 'investors_only' AND {viewer_type}::text IN ('investor', 'production')))))"
    )


# Protected fields are the viewer's to see (`decide(...).shows_protected`, given it sees the
# pitch): not NDA-protected, own pitch, or an approved NDA.
SHOWN_SQL = "(NOT p.require_nda OR p.user_id = $1 OR n.has_nda)"
_VISIBLE_BUDGET = f"(CASE WHEN {SHOWN_SQL} THEN p.budget END)"

# The lists' page total is exact up to TOTAL_CAP rows and a lower bound beyond it: counting every
# visible row of a big catalog costs as much as reading it (86.7 ms at 100,000 pitches for a
# 20-row page), so the count stops at max(TOTAL_CAP, offset + limit + 1) rows, read in the list's
# index order. A capped total is flagged (`CatalogPage.capped`) and still above the page's end, so
# `hasMore` stays exact and every page stays reachable.
TOTAL_CAP = 1_000

_NDA_JOIN = """
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM nda_requests r
                       WHERE r.pitch_id = p.id AND r.requester_id = $1
                         AND r.status = 'approved') AS has_nda
    ) n"""

_SELECT = f"""
    SELECT {_P_COLUMNS}, n.has_nda,
           u.username AS c_username, u.name AS c_name, u.company_name AS c_company,
           u.user_type AS c_type, {{count}} AS total {{extra}}
    FROM pitches p
    JOIN users u ON u.id = p.user_id{_NDA_JOIN}
    {{join}}
    WHERE {{where}}
    ORDER BY {{order}}
    LIMIT {{limit}} OFFSET {{offset}}"""

# The capped count: at most {bound} visible rows, walked in {order} (an indexed order of the list,
# so the scan stops after {bound} rows instead of reading the table).
_COUNT = f"""
    SELECT count(*) FROM (
        SELECT 1 FROM pitches p{_NDA_JOIN}
        WHERE {{where}}
        {{order}}
        LIMIT {{bound}}) c"""


def _capped(rows: tuple[CatalogRow, ...], counted: int, bound: int) -> CatalogPage:
    """The page with its total: `counted` when the count ended before `bound`, else the bound
    less one, flagged as a lower bound (it is above the page's end, so `hasMore` holds)."""
    if counted >= bound:
        return CatalogPage(rows, bound - 1, capped=True)
    return CatalogPage(rows, counted)


def _row(row: asyncpg.Record, with_score: bool = False) -> CatalogRow:
    pitch = Pitch(**{c: row[c] for c in _PITCH_FIELDS})
    creator = Creator(row["user_id"], row["c_username"], row["c_name"], row["c_company"], row["c_type"])
    score = float(row["score"]) if with_score else None
    return CatalogRow(pitch, creator, bool(row["has_nda"]), score)


@dataclass(frozen=True, slots=True)
class Access:
    """What deciding one caller's access to one pitch needs (rooms/access.py: `decide`)."""

    owner_id: int
    status: str
    visibility: str
    has_nda: bool
    require_nda: bool = False


class PitchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        user_id: int,
        title: str,
        logline: str | None = None,
        genre: str | None = None,
        format: str | None = None,
        synopsis: str | None = None,
        budget: Decimal | None = None,
        target_audience: str | None = None,
        status: str = "draft",
        visibility: str = "public",
        require_nda: bool = False,
        nda_template_id: int | None = None,
    ) -> Pitch:
        try:
            row = await self.db.fetchrow(
                f"""INSERT INTO pitches (user_id, title, logline, genre, format, synopsis, budget,
                        target_audience, status, visibility, require_nda, published_at, nda_template_id)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                            CASE WHEN $9 = 'published' THEN now() END, $12)
                    RETURNING {_COLUMNS}""",
                user_id,
                title,
                logline,
                genre,
                format,
                synopsis,
                budget,
                target_audience,
                status,
                visibility,
                require_nda,
                nda_template_id,
            )
        except asyncpg.ForeignKeyViolationError:
            raise UnknownNdaTemplate() from None
        assert row is not None
        return _pitch(row)

    async def get(self, pitch_id: int) -> Pitch | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM pitches WHERE id = $1", pitch_id)
        return _pitch(row) if row else None

    async def detail(self, pitch_id: int) -> tuple[Pitch, Creator] | None:
        """The stored row and its owner's public summary (the same for every caller: cacheable)."""
        row = await self.db.fetchrow(
            f"""SELECT {_P_COLUMNS}, u.username AS c_username, u.name AS c_name,
                       u.company_name AS c_company, u.user_type AS c_type
                FROM pitches p JOIN users u ON u.id = p.user_id WHERE p.id = $1""",
            pitch_id,
        )
        if row is None:
            return None
        pitch = Pitch(**{c: row[c] for c in _PITCH_FIELDS})
        return pitch, Creator(
            pitch.user_id, row["c_username"], row["c_name"], row["c_company"], row["c_type"]
        )

    async def access(self, pitch_id: int, user_id: int) -> Access | None:
        row = await self.db.fetchrow(
            """SELECT p.user_id, p.status, p.visibility, p.require_nda,
                      EXISTS (SELECT 1 FROM nda_requests n
                              WHERE n.pitch_id = p.id AND n.requester_id = $2
                                AND n.status = 'approved') AS has_nda
               FROM pitches p WHERE p.id = $1""",
            pitch_id,
            user_id,
        )
        if row is None:
            return None
        return Access(row["user_id"], row["status"], row["visibility"], row["has_nda"], row["require_nda"])

    async def counters(self, pitch_id: int) -> tuple[int, int] | None:
        row = await self.db.fetchrow("SELECT view_count, like_count FROM pitches WHERE id = $1", pitch_id)
        return (row["view_count"], row["like_count"]) if row else None

    async def record_view(self, pitch_id: int, user_id: int) -> int | None:
        """Count a view once per user per day; returns the new total, or None if not counted."""
        async with self.db.transaction() as conn:
            inserted = await conn.fetchval(
                """INSERT INTO pitch_views (pitch_id, user_id) VALUES ($1, $2)
                   ON CONFLICT DO NOTHING RETURNING true""",
                pitch_id,
                user_id,
            )
            if not inserted:
                return None
            total: int = await conn.fetchval(
                "UPDATE pitches SET view_count = view_count + 1 WHERE id = $1 RETURNING view_count",
                pitch_id,
            )
            return total

    async def set_like(self, pitch_id: int, user_id: int, liked: bool) -> tuple[bool, int]:
        """Like or unlike; returns (changed, like total). Idempotent either way.

        One statement, so one round trip in its own transaction: the like row, then the counter
        only if the row changed; the total is the counter after the change, or as it stands when
        nothing changed. (Issue 16: a like held a pooled connection for four round trips, BEGIN,
        the row, the counter and COMMIT, each waiting for its turn on a busy event loop.)"""
        if liked:
            change = "INSERT INTO pitch_likes (pitch_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        else:
            change = "DELETE FROM pitch_likes WHERE pitch_id = $1 AND user_id = $2"
        row = await self.db.fetchrow(
            f"""WITH changed AS ({change} RETURNING 1),
                counted AS (
                    UPDATE pitches SET like_count = like_count {"+" if liked else "-"} 1
                    WHERE id = $1 AND EXISTS (SELECT FROM changed) RETURNING like_count
                )
                SELECT EXISTS (SELECT FROM counted) AS changed,
                       COALESCE((SELECT like_count FROM counted),
                                (SELECT like_count FROM pitches WHERE id = $1)) AS total""",
            pitch_id,
            user_id,
        )
        assert row is not None  # the SELECT answers one row whatever happened
        return bool(row["changed"]), int(row["total"])

    # -- writes by the owner (called by the pitch's room actor) ------------------------------

    async def update(self, pitch_id: int, owner_id: int, changes: Mapping[str, Any]) -> Pitch | None:
        """Apply a partial update; None if the pitch is not this owner's. `published_at` is
        stamped by the database on the first publication."""
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        args: list[Any] = [pitch_id, owner_id]
        sets = []
        for column in sorted(changes):
            args.append(changes[column])
            sets.append(f"{column} = ${len(args)}")
        sets.append("updated_at = now()")
        try:
            row = await self.db.fetchrow(
                f"""UPDATE pitches SET {", ".join(sets)} WHERE id = $1 AND user_id = $2
                    RETURNING {_COLUMNS}""",
                *args,
            )
        except asyncpg.ForeignKeyViolationError:  # only nda_template_id can be: see its docstring
            raise UnknownNdaTemplate() from None
        return _pitch(row) if row else None

    async def delete(self, pitch_id: int, owner_id: int) -> DeletedPitch | None:
        """Delete an owner's pitch and its media rows; None when the owner has no such pitch.

        PitchInUse when investments (ON DELETE RESTRICT) refer to it; then nothing is deleted.
        The pitch row is locked first, so an upload finishing meanwhile (it locks the same row to
        insert its media row) either lands before and is returned here, or finds the pitch gone
        and removes its own object: no media object outlives its pitch unlisted.
        """
        try:
            async with self.db.transaction() as conn:
                found = await conn.fetchval(
                    "SELECT id FROM pitches WHERE id = $1 AND user_id = $2 FOR UPDATE", pitch_id, owner_id
                )
                if found is None:
                    return None
                keys = await conn.fetch(
                    "DELETE FROM pitch_media WHERE pitch_id = $1 RETURNING storage_key", pitch_id
                )
                await conn.execute("DELETE FROM pitches WHERE id = $1", pitch_id)
        except asyncpg.ForeignKeyViolationError:
            raise PitchInUse() from None
        return DeletedPitch(pitch_id, tuple(sorted(r["storage_key"] for r in keys)))

    async def approved_holders(self, pitch_id: int, user_ids: Iterable[int]) -> set[int]:
        """Which of these users hold an approved NDA for the pitch (one query for a whole room)."""
        ids = sorted(set(user_ids))
        if not ids:
            return set()
        rows = await self.db.fetch(
            """SELECT requester_id FROM nda_requests
               WHERE pitch_id = $1 AND status = 'approved' AND requester_id = ANY($2::bigint[])""",
            pitch_id,
            ids,
        )
        return {r["requester_id"] for r in rows}

    async def has_approved_nda(self, pitch_id: int, user_id: int) -> bool:
        return bool(
            await self.db.fetchval(
                """SELECT EXISTS (SELECT 1 FROM nda_requests WHERE pitch_id = $1
                              AND requester_id = $2 AND status = 'approved')""",
                pitch_id,
                user_id,
            )
        )

    # -- the catalog -----------------------------------------------------------------------

    async def _page(
        self,
        q: _Query,
        order: str,
        limit: int,
        offset: int,
        *,
        count_order: str | None,
        join: str = "",
        extra: str = "",
        with_score: bool = False,
        cte: str = "",
    ) -> CatalogPage:
        """One page in `order`, with its total counted in the same statement.

        `count_order` is an indexed order of the same rows ("": let the planner pick, as for a
        full-text match read from its GIN index): the count walks it and stops at its bound
        (TOTAL_CAP). None when `order` itself must read every matching row before the first one
        (relevance, budget): the window count of that pass is then exact and costs nothing more.
        """
        where = " AND ".join(q.where) or "true"
        n_filter_args = len(q.args)
        bound = max(TOTAL_CAP, offset + limit + 1) + 1
        if count_order is None:
            bound = 1 << 62  # exact: nothing can reach it
            count = "SELECT count(*) FROM pitches p" + _NDA_JOIN + f" WHERE {where}"
            counted_sql = "count(*) OVER ()"
        else:
            by = f"ORDER BY {count_order}" if count_order else ""
            count = _COUNT.format(where=where, order=by, bound=bound)
            counted_sql = f"({count})"
        sql = cte + _SELECT.format(
            count=counted_sql,
            extra=extra,
            join=join,
            where=where,
            order=order,
            limit=q.arg(limit),
            offset=q.arg(offset),
        )
        rows = await self.db.fetch(sql, *q.args)
        if rows:
            counted = int(rows[0]["total"])
        elif offset == 0:
            counted = 0
        else:  # past the end: no row carried the count, so count alone
            counted = int(await self.db.fetchval(cte + count, *q.args[:n_filter_args]))
        return _capped(tuple(_row(r, with_score) for r in rows), counted, bound)

    async def browse(self, viewer: Viewer, f: BrowseFilter, *, limit: int, offset: int) -> CatalogPage:
        """Published pitches the viewer may see (or, with another status, the viewer's own)."""
        q = _Query(viewer)
        if f.status == "published":
            q.where.append(q.visible())
            newest = "p.published_at"
        else:
            q.where.append(f"p.status = {q.arg(f.status)}::text AND p.user_id = $1")
            newest = "p.created_at"
        if f.genre:
            q.where.append(f"lower(p.genre) = lower({q.arg(f.genre)}::text)")
        if f.budget_min is not None:
            q.where.append(f"{_VISIBLE_BUDGET} >= {q.arg(f.budget_min)}")
        if f.budget_max is not None:
            q.where.append(f"{_VISIBLE_BUDGET} <= {q.arg(f.budget_max)}")
        ts = None
        if f.q is not None:
            found = search_query(f.q)
            if found is None:
                return CatalogPage((), 0)
            fn, text = found
            ts = f"{fn}('english'::regconfig, {q.arg(text)}::text)"
            q.where.append(f"p.search @@ {ts}")
        sort = f.sort
        if sort == "relevance" and ts is None:
            sort = "newest"
        d = (f.order or ("asc" if sort == "title" else "desc")).upper()
        order = {
            "newest": f"{newest} {d}, p.id {d}",
            "views": f"p.view_count {d}, p.id {d}",
            "likes": f"p.like_count {d}, p.id {d}",
            "budget": f"{_VISIBLE_BUDGET} {d} NULLS LAST, p.id {d}",
            "title": f"lower(p.title) {d}, p.id {d}",
            "relevance": f"ts_rank(p.search, {ts}) {d}, p.id {d}",
        }[sort]
        # The count walks the newest-first index (a search's matches come from the GIN index
        # instead: the planner picks), whatever the page's own order; relevance and budget
        # orders read every match before the first row, so they count in that pass, exactly.
        count_order: str | None = "" if ts is not None else f"{newest} DESC, p.id DESC"
        if sort in ("relevance", "budget"):
            count_order = None
        return await self._page(q, order, limit, offset, count_order=count_order)

    async def mine(self, owner_id: int, status: str | None, *, limit: int, offset: int) -> CatalogPage:
        """An owner's pitches in every status (or one), newest first."""
        q = _Query(Viewer(owner_id, "creator"))
        q.where.append("p.user_id = $1")
        if status is not None:
            q.where.append(f"p.status = {q.arg(status)}::text")
        order = "p.created_at DESC, p.id DESC"
        return await self._page(q, order, limit, offset, count_order=order)

    async def following(self, viewer: Viewer, *, limit: int, offset: int) -> CatalogPage:
        """Visible published pitches by the users the viewer follows, newest first."""
        q = _Query(viewer)
        q.where.append(q.visible())
        q.where.append("p.user_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)")
        order = "p.published_at DESC, p.id DESC"
        return await self._page(q, order, limit, offset, count_order=order)

    async def trending(self, viewer: Viewer, *, limit: int, offset: int) -> CatalogPage:
        """Visible published pitches by their time-decayed recent activity (see the constants);
        pitches without recent activity follow with score 0, most liked and newest first.

        Neither part reads the whole table: the scored pitches come from the last days' views
        and likes (their time indexes), the rest from the published pitches in
        (likes, publication) order (`pitches_published_trending_idx`, migration 0019), each part
        cut at the page's end before the two are merged.
        """
        q = _Query(viewer)
        visible = q.visible()
        n_filter_args = len(q.args)  # what the count alone takes: the viewer's
        view_w, like_w = q.arg(TRENDING_VIEW_WEIGHT), q.arg(TRENDING_LIKE_WEIGHT)
        half_life, days = q.arg(TRENDING_HALF_LIFE_HOURS), q.arg(TRENDING_WINDOW_DAYS)
        end = q.arg(offset + limit)
        order = "p.published_at DESC, p.id DESC"
        bound = max(TOTAL_CAP, offset + limit + 1) + 1
        count = _COUNT.format(where=visible, order=f"ORDER BY {order}", bound=bound)
        sql = f"""
            WITH activity AS (
                SELECT pitch_id, {view_w}::float8 AS weight, viewed_at AS at FROM pitch_views
                WHERE viewed_at > now() - make_interval(days => {days}::int)
                UNION ALL
                SELECT pitch_id, {like_w}::float8, created_at FROM pitch_likes
                WHERE created_at > now() - make_interval(days => {days}::int)
            ), scores AS (
                SELECT pitch_id,
                       sum(weight * exp(-ln(2.0::float8)
                           * greatest(extract(epoch FROM now() - at)::float8, 0) / 3600.0
                           / {half_life}::float8)) AS score
                FROM activity GROUP BY pitch_id
            ), ranked AS (
                (SELECT p.id, s.score FROM scores s JOIN pitches p ON p.id = s.pitch_id{_NDA_JOIN}
                 WHERE {visible}
                 ORDER BY s.score DESC, p.like_count DESC, p.published_at DESC, p.id DESC
                 LIMIT {end})
                UNION ALL
                (SELECT p.id, 0::float8 FROM pitches p{_NDA_JOIN}
                 WHERE {visible}
                   AND NOT EXISTS (SELECT 1 FROM pitch_views v WHERE v.pitch_id = p.id
                                   AND v.viewed_at > now() - make_interval(days => {days}::int))
                   AND NOT EXISTS (SELECT 1 FROM pitch_likes l WHERE l.pitch_id = p.id
                                   AND l.created_at > now() - make_interval(days => {days}::int))
                 ORDER BY p.like_count DESC, p.published_at DESC, p.id DESC
                 LIMIT {end})
            )
            SELECT {_P_COLUMNS}, n.has_nda,
                   u.username AS c_username, u.name AS c_name, u.company_name AS c_company,
                   u.user_type AS c_type, ({count}) AS total, r.score
            FROM ranked r
            JOIN pitches p ON p.id = r.id
            JOIN users u ON u.id = p.user_id{_NDA_JOIN}
            ORDER BY r.score DESC, p.like_count DESC, p.published_at DESC, p.id DESC
            LIMIT {q.arg(limit)} OFFSET {q.arg(offset)}"""
        rows = await self.db.fetch(sql, *q.args)
        if rows:
            counted = int(rows[0]["total"])
        elif offset == 0:
            counted = 0
        else:  # past the end: no row carried the count, so count alone
            counted = int(await self.db.fetchval(count, *q.args[:n_filter_args]))
        return _capped(tuple(_row(r, with_score=True) for r in rows), counted, bound)
