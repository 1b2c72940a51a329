"""The catalog's reads stay off a sequential scan of `pitches` as the table grows (issue 16), and
their answers are the ones the full-table formulations gave.

100,000 pitches (seeded by SQL in a few seconds, then ANALYZEd) is a size at which PostgreSQL
already scans the table for the old trending query (asserted below, so the size stays meaningful):
browse, search and trending must use their indexes instead. The trending order is compared with
the old query that scored every visible pitch, for three viewers (anonymous, an investor holding
NDAs on private pitches, a creator who may not see investors-only pitches), on the first page, on
the pages where the scored pitches end and the unscored begin, and deep. Totals: exact up to
TOTAL_CAP, then a flagged lower bound that keeps `hasMore` exact.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from conftest import _drop_database, _recreate_database, dsn_for, run_sync

from pitchey.storage.database import Database
from pitchey.storage.pitches import TOTAL_CAP, BrowseFilter, PitchStore, Viewer

N = 100_000
WORD = "zephyr"  # in 1% of titles


@dataclass
class Catalog:
    db: Database
    investor: Viewer
    creator: Viewer
    anonymous: Viewer


class Recorder:
    """A `Database` for the store that remembers each statement and runs it on the real one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.calls.append((sql, args))
        return await self.db.fetch(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.calls.append((sql, args))
        return await self.db.fetchval(sql, *args)


async def _seed(conn: asyncpg.Connection) -> tuple[int, int]:
    await conn.execute(
        """INSERT INTO users (email, username, user_type, password_hash)
           SELECT 'c' || g || '@plans.example', 'c' || g, 'creator', 'x' FROM generate_series(1, 200) g"""
    )
    investor = await conn.fetchval(
        """INSERT INTO users (email, username, user_type, password_hash)
           VALUES ('investor@plans.example', 'investor', 'investor', 'x') RETURNING id"""
    )
    # A creator who owns none of the seeded pitches (investors-only ones are hidden from them).
    creator = await conn.fetchval(
        """INSERT INTO users (email, username, user_type, password_hash)
           VALUES ('reader@plans.example', 'reader', 'creator', 'x') RETURNING id"""
    )
    first = await conn.fetchval("SELECT min(id) FROM users")
    # Visibility: 1 in 10 investors-only, 1 in 20 private, 1 in 25 a draft; likes in 13 values so
    # (likes, publication) ties are common, and publication times in steps of a minute.
    await conn.execute(
        f"""INSERT INTO pitches (user_id, title, logline, genre, status, visibility, require_nda,
                                 published_at, view_count, like_count)
            SELECT $2 + (g % 200),
                   CASE WHEN g % 100 = 1 THEN 'The {WORD} ' || g ELSE 'Pitch number ' || g END,
                   'A logline for pitch ' || g, 'genre' || (g % 20),
                   CASE WHEN g % 25 = 0 THEN 'draft' ELSE 'published' END,
                   CASE WHEN g % 10 = 0 THEN 'investors_only' WHEN g % 20 = 5 THEN 'private'
                        ELSE 'public' END,
                   g % 7 = 0, now() - (g || ' minutes')::interval, g % 97, g % 13
            FROM generate_series(1, $1) g""",
        N,
        first,
    )
    # Recent activity on 1 pitch in 10, at spread-out times (distinct scores, some equal), and
    # activity older than the window on others (it must not count).
    await conn.execute(
        """INSERT INTO pitch_views (pitch_id, user_id, viewed_at)
           SELECT id, $1, now() - ((id % 150) || ' hours')::interval FROM pitches WHERE id % 10 = 3""",
        investor,
    )
    await conn.execute(
        """INSERT INTO pitch_likes (pitch_id, user_id, created_at)
           SELECT id, $1, now() - ((id % 40) || ' hours')::interval FROM pitches WHERE id % 20 = 3""",
        creator,
    )
    await conn.execute(
        """INSERT INTO pitch_likes (pitch_id, user_id, created_at)
           SELECT id, $1, now() - interval '30 days' FROM pitches WHERE id % 10 = 7""",
        investor,
    )
    # The investor holds approved NDAs on some private pitches (so they see those).
    await conn.execute(
        """INSERT INTO nda_requests (pitch_id, requester_id, owner_id, status, decided_at)
           SELECT id, $1, user_id, 'approved', now() FROM pitches
           WHERE visibility = 'private' AND id % 3 = 0""",
        investor,
    )
    await conn.execute("ANALYZE")
    return int(investor), int(creator)


@pytest.fixture(scope="module")
def catalog_dsn(pg_server_url: str) -> Iterator[tuple[str, int, int]]:
    """One seeded database for the module (seeding takes seconds; the tests only read it)."""
    name = f"pitchey_plans_{uuid.uuid4().hex[:12]}"

    async def make() -> tuple[str, int, int]:
        await _recreate_database(pg_server_url, name)
        dsn = dsn_for(pg_server_url, name)
        db = await Database.connect(dsn, min_size=1, max_size=1)
        try:
            await db.migrate()
            async with db.acquire() as conn:
                investor, creator = await _seed(conn)
        finally:
            await db.close()
        return dsn, investor, creator

    yield run_sync(make())
    run_sync(_drop_database(pg_server_url, name))


@pytest.fixture
async def catalog(catalog_dsn: tuple[str, int, int]) -> AsyncIterator[Catalog]:
    dsn, investor, creator = catalog_dsn
    db = await Database.connect(dsn, max_size=2)
    try:
        yield Catalog(db, Viewer(investor, "investor"), Viewer(creator, "creator"), Viewer())
    finally:
        await db.close()


async def _plan(db: Database, calls: list[tuple[str, tuple[Any, ...]]]) -> str:
    lines: list[str] = []
    async with db.acquire() as conn:
        for sql, args in calls:
            lines += [r[0] for r in await conn.fetch("EXPLAIN " + sql, *args)]
    return "\n".join(lines)


# The trending query before issue 16: every visible pitch scored, then sorted.
_FULL_TRENDING = """
    WITH activity AS (
        SELECT pitch_id, 1.0::float8 AS weight, viewed_at AS at FROM pitch_views
        WHERE viewed_at > now() - interval '7 days'
        UNION ALL
        SELECT pitch_id, 3.0::float8, created_at FROM pitch_likes
        WHERE created_at > now() - interval '7 days'
    ), scores AS (
        SELECT pitch_id, sum(weight * exp(-ln(2.0::float8)
                   * greatest(extract(epoch FROM now() - at)::float8, 0) / 3600.0 / 24.0)) AS score
        FROM activity GROUP BY pitch_id
    )
    SELECT p.id, coalesce(s.score, 0)::float8 AS score
    FROM pitches p
    LEFT JOIN scores s ON s.pitch_id = p.id
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM nda_requests r WHERE r.pitch_id = p.id
                       AND r.requester_id = $1 AND r.status = 'approved') AS has_nda
    ) n
    WHERE p.status = 'published'
      AND (($1 <> 0 AND (p.user_id = $1 OR n.has_nda))
           OR (p.visibility = 'public'
               OR (p.visibility = 'investors_only' AND $2::text IN ('investor', 'production'))))
    ORDER BY score DESC, p.like_count DESC, p.published_at DESC, p.id DESC"""


async def test_browse_search_and_trending_use_their_indexes(catalog: Catalog) -> None:
    async with catalog.db.acquire() as conn:
        old = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + _FULL_TRENDING, 0, ""))
    assert "Seq Scan on pitches" in old, "the table is too small to tell: the old query does not scan it"
    reads = {
        "browse": (
            lambda s, v: s.browse(v, BrowseFilter(), limit=20, offset=0),
            "pitches_published_at_idx",
        ),
        "search": (
            lambda s, v: s.browse(v, BrowseFilter(q=WORD, sort="relevance"), limit=20, offset=0),
            "pitches_search_idx",
        ),
        "trending": (
            lambda s, v: s.trending(v, limit=20, offset=0),
            "pitches_published_trending_idx",
        ),
    }
    for viewer in (catalog.anonymous, catalog.investor):
        for name, (read, index) in reads.items():
            rec = Recorder(catalog.db)
            await read(PitchStore(rec), viewer)  # type: ignore[arg-type]
            plan = await _plan(catalog.db, rec.calls)
            assert "Seq Scan on pitches" not in plan, f"{name} ({viewer}):\n{plan}"
            assert index in plan, f"{name} ({viewer}):\n{plan}"


async def test_trending_orders_as_scoring_every_pitch_did(catalog: Catalog) -> None:
    store = PitchStore(catalog.db)
    for viewer in (catalog.anonymous, catalog.investor, catalog.creator):
        async with catalog.db.acquire() as conn:
            full = await conn.fetch(_FULL_TRENDING, viewer.user_id, viewer.user_type)
        scored = sum(1 for r in full if r["score"] > 0)
        assert 500 < scored < len(full) - 1000
        for offset in (0, scored - 30, scored - 1, scored, scored + 500, len(full) - 10):
            page = await store.trending(viewer, limit=50, offset=offset)
            want = full[offset : offset + 50]
            assert [r.pitch.id for r in page.rows] == [r["id"] for r in want], (viewer, offset)
            # (Each statement has its own now(), so the scores differ in the 6th digit.)
            assert [r.score for r in page.rows] == pytest.approx([r["score"] for r in want], rel=1e-4)
            bound = max(TOTAL_CAP, offset + 51)  # the count stops past this
            exact = len(full) <= bound
            assert (page.total, page.capped) == ((len(full), False) if exact else (bound, True))
        past = await store.trending(viewer, limit=20, offset=len(full) + 100)
        assert (past.rows, past.total, past.capped) == ((), len(full), False)


async def test_totals_are_exact_up_to_the_cap_then_a_flagged_bound(catalog: Catalog) -> None:
    store = PitchStore(catalog.db)
    inv = catalog.investor
    async with catalog.db.acquire() as conn:
        genre_count = await conn.fetchval(
            """SELECT count(*) FROM pitches WHERE status = 'published' AND genre = 'genre3'
               AND visibility = 'public'"""
        )
        word_count = await conn.fetchval(
            f"""SELECT count(*) FROM pitches WHERE status = 'published' AND title LIKE '%{WORD}%'
                AND visibility IN ('public', 'investors_only')"""
        )
    assert 500 < word_count <= TOTAL_CAP < genre_count
    search = await store.browse(inv, BrowseFilter(q=WORD), limit=20, offset=0)
    assert (search.total, search.capped) == (word_count, False)  # exact up to the cap
    page = await store.browse(catalog.anonymous, BrowseFilter(genre="genre3"), limit=20, offset=0)
    assert (page.total, page.capped, len(page.rows)) == (TOTAL_CAP, True, 20)
    first = await store.browse(inv, BrowseFilter(), limit=20, offset=0)
    assert (first.total, first.capped) == (TOTAL_CAP, True)  # "1,000 or more"
    deep = await store.browse(inv, BrowseFilter(), limit=20, offset=5_000)
    # Above the page's end: hasMore (offset + limit < total) stays true while rows remain.
    assert (deep.total, deep.capped, len(deep.rows)) == (5_021, True, 20)
    # The rows are the ones the full order gives, whatever the count did.
    async with catalog.db.acquire() as conn:
        ids = await conn.fetch(
            """SELECT id FROM pitches p WHERE status = 'published' AND (visibility <> 'private'
                 OR EXISTS (SELECT 1 FROM nda_requests r WHERE r.pitch_id = p.id
                            AND r.requester_id = $1 AND r.status = 'approved'))
               ORDER BY published_at DESC, id DESC OFFSET 5000 LIMIT 20""",
            inv.user_id,
        )
    assert [r.pitch.id for r in deep.rows] == [r["id"] for r in ids]
    # Budget and relevance orders read every match anyway: their totals are exact.
    by_budget = await store.browse(inv, BrowseFilter(sort="budget"), limit=20, offset=0)
    assert not by_budget.capped and by_budget.total > TOTAL_CAP


async def test_the_api_flags_a_capped_total_and_keeps_has_more_exact(
    client: Any, db_conn: asyncpg.Connection
) -> None:
    owner = await db_conn.fetchval(
        """INSERT INTO users (email, username, user_type, password_hash)
           VALUES ('owner@plans.example', 'owner', 'creator', 'x') RETURNING id"""
    )
    await db_conn.execute(
        """INSERT INTO pitches (user_id, title, status, published_at)
           SELECT $1, 'Pitch ' || g, 'published', now() - (g || ' minutes')::interval
           FROM generate_series(1, 1100) g""",
        owner,
    )

    async def page(n: int) -> dict[str, Any]:
        resp = await client.get("/api/pitches/browse", params={"page": n, "limit": 20})
        assert resp.status == 200
        body = await resp.json()
        assert len(body["data"]) == min(20, 1100 - (n - 1) * 20)
        return dict(body["meta"]["pagination"])

    for path in ("/api/pitches/browse", "/api/pitches/trending"):
        resp = await client.get(path)
        first = (await resp.json())["meta"]["pagination"]
        assert first == {"page": 1, "limit": 20, "total": TOTAL_CAP, "hasMore": True, "totalIsCapped": True}
    # Past the cap the total stays above the page's end, so "next" is offered while rows remain.
    assert await page(53) == {"page": 53, "limit": 20, "total": 1061, "hasMore": True, "totalIsCapped": True}
    # The count reached the end: exact, and no flag.
    assert await page(55) == {"page": 55, "limit": 20, "total": 1100, "hasMore": False}
