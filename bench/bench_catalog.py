"""The catalog as the pitch table grows (part of suite `scaling`, issue 16).

For 1,000, 10,000 and 100,000 published pitches (`--quick`: up to 10,000) in a fresh database
(default PostgreSQL settings, ANALYZEd after seeding; 1 creator per 100 pitches, 20 genres,
one in ten pitches also liked and viewed in the last week so trending has work), the three
catalog reads the REST API runs uncached for a signed-in caller are timed through `PitchStore`
itself, one at a time (latency, not throughput; the REST suite measures req/s):

* browse   - `PitchStore.browse(investor, published, newest)` page 1 (20 rows);
* search   - the same with `q` = one word present in 1% of titles;
* trending - `PitchStore.trending(investor)` page 1.

Each is run 5 times to warm up, then 50 times: median and p99 in ms. The query plan of each
(the statement the store ran, captured by a recording stand-in for `Database` and EXPLAINed with
its own arguments on the biggest table) is kept in the notes, with whether it scans `pitches`
sequentially.

    python -m bench.bench_catalog [--quick]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bench import harness as h
from bench.baseline_rest import _Recorder
from bench.common import Row
from pitchey.storage.database import Database
from pitchey.storage.pitches import BrowseFilter, PitchStore, Viewer

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
WORD = "zephyr"  # in 1% of titles


async def _seed(conn: asyncpg.Connection, n: int) -> int:
    creators = max(1, n // 100)
    await conn.execute(
        """INSERT INTO users (email, username, user_type, password_hash)
           SELECT 'c' || g || '@bench.example', 'c' || g, 'creator', 'x'
           FROM generate_series(1, $1) g""",
        creators,
    )
    investor = await conn.fetchval(
        """INSERT INTO users (email, username, user_type, password_hash)
           VALUES ('investor@bench.example', 'investor', 'investor', 'x') RETURNING id"""
    )
    await conn.execute(
        f"""INSERT INTO pitches (user_id, title, logline, genre, status, visibility, published_at,
                                 view_count, like_count)
            SELECT (SELECT min(id) FROM users) + (g % $2),
                   CASE WHEN g % 100 = 0 THEN 'The {WORD} ' || g ELSE 'Pitch number ' || g END,
                   'A logline for pitch ' || g, 'genre' || (g % 20), 'published',
                   CASE WHEN g % 10 = 0 THEN 'investors_only' ELSE 'public' END,
                   now() - (g || ' minutes')::interval, g % 97, g % 13
            FROM generate_series(1, $1) g""",
        n,
        creators,
    )
    # Recent activity for trending: one in ten pitches viewed and liked by the investor.
    await conn.execute(
        """INSERT INTO pitch_views (pitch_id, user_id)
           SELECT id, $1 FROM pitches WHERE id % 10 = 0 ON CONFLICT DO NOTHING""",
        investor,
    )
    await conn.execute(
        """INSERT INTO pitch_likes (pitch_id, user_id)
           SELECT id, $1 FROM pitches WHERE id % 10 = 0 ON CONFLICT DO NOTHING""",
        investor,
    )
    await conn.execute("ANALYZE")
    return int(investor)


async def _time(call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    for _ in range(5):
        await call()
    took = []
    for _ in range(50):
        t0 = time.perf_counter()
        await call()
        took.append((time.perf_counter() - t0) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(0.99 * len(took)))]


def _reads(store: PitchStore, viewer: Viewer) -> dict[str, Callable[[], Awaitable[Any]]]:
    return {
        "browse": lambda: store.browse(viewer, BrowseFilter(), limit=20, offset=0),
        "search": lambda: store.browse(viewer, BrowseFilter(q=WORD, sort="relevance"), limit=20, offset=0),
        "trending": lambda: store.trending(viewer, limit=20, offset=0),
    }


async def _plans(conn: asyncpg.Connection, viewer: Viewer) -> dict[str, str]:
    rec = _Recorder()
    plans = {}
    for name, call in _reads(PitchStore(rec), viewer).items():  # type: ignore[arg-type]
        rec.calls.clear()
        await call()
        lines = []
        for sql, args in rec.calls:
            rows = await conn.fetch("EXPLAIN " + sql, *args)
            lines += [r[0] for r in rows]
        plans[name] = "\n".join(lines)
    return plans


async def _measure(pg: h.Postgres, sizes: tuple[int, ...], notes: list[str]) -> list[Row]:
    rows: list[Row] = []
    first: dict[str, float] = {}
    for n in sizes:
        dsn = pg.create_database()
        db = await Database.connect(dsn, max_size=2)
        try:
            await db.migrate()
            async with db.acquire() as conn:
                investor = await _seed(conn, n)
            viewer = Viewer(investor, "investor")
            store = PitchStore(db)
            for name, call in _reads(store, viewer).items():
                p50, p99 = await _time(call)
                first.setdefault(name, p50)
                smallest = sizes[0]
                rows.append(
                    Row(
                        "scaling",
                        f"catalog {name} p50, signed-in, {n:,} pitches",
                        p50,
                        "ms",
                        f"same at {smallest:,} pitches",
                        first[name],
                    )
                )
                notes.append(f"catalog {name} at {n:,} pitches: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
            if n == sizes[-1]:
                async with db.acquire() as conn:
                    for name, plan in (await _plans(conn, viewer)).items():
                        seq = "Seq Scan on pitches" in plan
                        verdict = "SEQUENTIAL SCAN of pitches" if seq else "no sequential scan of pitches"
                        notes.append(
                            f"catalog {name} plan at {n:,} pitches ({verdict}):\n"
                            + "\n".join("      " + line for line in plan.splitlines())
                        )
        finally:
            await db.close()
    return rows


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    notes = notes if notes is not None else []
    pg = h.Postgres()
    try:
        return asyncio.run(_measure(pg, QUICK_SIZES if quick else SIZES, notes))
    finally:
        pg.close()


if __name__ == "__main__":
    from bench.common import format_table

    out: list[str] = []
    print(format_table(run("--quick" in sys.argv[1:], out)))
    print()
    for line in out:
        print(f"- {line}")
