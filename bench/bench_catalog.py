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

Then the same three reads through the real server (REST as the table grows): `pitchey serve` on
that database, started through bench/pitchey_cold.py so the read cache never answers (the ready
answers would serve a signed-in browse page from memory for 10 s and hide the query; search and
signed-in trending are not cached anyway), driven by `wrk` (64 connections, 2 threads, the Lua
script of bench/bench_rest.py) as 16 signed-in investors: requests/s and p99 per size, after a
warm-up, with the CPU of the server, PostgreSQL, wrk and other users' processes in the notes.
With BENCH_CATALOG_BEFORE=<git revision>, that revision's server runs too, on the same catalog
in a database of its own (without this build's migration 0019), windows interleaved: the REST
rows then compare with it at the same size instead of with the smallest size.

    python -m bench.bench_catalog [--quick]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from bench import bench_rest as rest
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


async def _measure(
    pg: h.Postgres, sizes: tuple[int, ...], notes: list[str], quick: bool = False
) -> list[Row]:
    rows: list[Row] = []
    first: dict[str, float] = {}
    rest_curves: dict[int, dict[str, Any]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-catalog-"))
    with_rest = rest.WRK is not None
    # BENCH_CATALOG_BEFORE=<git revision>: also run that revision's server on the same catalog,
    # windows interleaved, as the REST rows' baseline (before/after a change).
    before = os.environ.get("BENCH_CATALOG_BEFORE")
    before_tree = _before_tree(before, workdir) if with_rest and before else None
    if not with_rest:
        notes.append("catalog REST: wrk is not installed (Debian package `wrk`); REST figures skipped")
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
        if with_rest:
            seconds = 3.0 if quick else 5.0
            dsns: dict[str, tuple[str, Path | None]] = {"after": (dsn, None)}
            if before_tree is not None:
                before_dsn = pg.create_database()
                await _seed_before(before_dsn, n)
                dsns["before"] = (before_dsn, before_tree)
            rest_curves[n] = await asyncio.to_thread(_rest, pg, dsns, n, seconds, workdir, notes)
    shutil.rmtree(workdir, ignore_errors=True)
    return rows + _rest_rows(rest_curves, before if before_tree is not None else None)


REST_READS = {
    "browse": "/api/pitches/browse",
    "search": f"/api/pitches/browse?q={WORD}&sort=relevance",
    "trending": "/api/pitches/trending",
}
REST_READERS = 16


def _start(pg: h.Postgres, dsn: str, workdir: Path, tree: Path | None) -> h.ServerProc:
    """`pitchey serve` on `dsn` with the read cache bypassed (bench/pitchey_cold.py); `tree`: a
    checkout of another revision to run instead of this one."""
    env = {"BENCH_PITCHEY_MODULE": "bench.pitchey_cold", "BENCH_PITCHEY_TREE": str(tree or "")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # start_pitchey reads the entry module from the environment
    try:
        return h.start_pitchey(pg, workdir, DATABASE_URL=dsn)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _rest(
    pg: h.Postgres,
    dsns: dict[str, tuple[str, Path | None]],
    n: int,
    seconds: float,
    workdir: Path,
    notes: list[str],
) -> dict[str, dict[str, Any]]:
    """req/s and p99 of the three reads through each server ("after": this build; "before": an
    older revision, when given) on its database, windows interleaved read by read."""
    servers: dict[str, h.ServerProc] = {}
    out: dict[str, dict[str, Any]] = {k: {} for k in dsns}
    try:
        tokens: dict[str, list[str]] = {}
        for label, (dsn, tree) in dsns.items():
            servers[label] = _start(pg, dsn, workdir, tree)
            api = h.Rest(servers[label].port)
            try:
                tokens[label] = [api.register("investor")[1] for _ in range(REST_READERS)]
            finally:
                api.close()
        script = workdir / "catalog.lua"
        script.write_text(rest.WRK_LUA)
        follow = {"postgres": lambda: rest.pg_pids(pg)}
        for name, path in REST_READS.items():
            for label, server in servers.items():
                w = rest.Workload(f"catalog {name}", label, [path], "random", tokens[label], "bearer")
                rest._run_wrk(server.port, script, w, 1.0)  # warm-up: connections, plans, tokens
                h.wait_quiet(max_wait=5.0)
                r = rest._run_wrk(server.port, script, w, seconds, {"server": [server.pid]}, follow)
                out[label][name] = r
                cpu = r["cpu"]
                per_req = 10_000 * cpu["server"] / max(1.0, r["rps"])
                notes.append(
                    f"catalog REST {name} at {n:,} pitches ({label}): {r['rps']:,.0f} req/s, "
                    f"p50 {r['p50_us'] / 1000:.1f} ms, p99 {r['p99_us'] / 1000:.1f} ms; server "
                    f"{cpu['server']:.0f}% ({per_req:.0f} us/request), "
                    f"postgres {cpu.get('postgres', 0):.0f}%, wrk {cpu.get('wrk', 0):.0f}%, "
                    f"other users' processes {cpu['others']:.0f}% (of 200%)"
                )
    finally:
        for server in servers.values():
            server.stop()
    return out


def _rest_rows(curves: dict[int, dict[str, dict[str, Any]]], before: str | None) -> list[Row]:
    rows: list[Row] = []
    sizes = sorted(curves)
    first = sizes[0]
    for name in REST_READS:
        for n in sizes:
            r = curves[n]["after"][name]
            if before:
                b, base = curves[n]["before"][name], f"before ({before}), same size"
            else:
                b, base = curves[first]["after"][name], f"same at {first:,} pitches"
            rows.append(
                Row(
                    "scaling",
                    f"REST {name} req/s, signed-in, read cache bypassed, 64 conns, {n:,} pitches",
                    r["rps"],
                    "req/s",
                    base,
                    b["rps"],
                )
            )
            rows.append(
                Row(
                    "scaling",
                    f"REST {name} p99, {n:,} pitches",
                    r["p99_us"] / 1000,
                    "ms",
                    base,
                    b["p99_us"] / 1000,
                )
            )
    return rows


def _before_tree(rev: str, workdir: Path) -> Path:
    """The files of revision `rev` (git archive: the repository itself is only read)."""
    tree = workdir / f"before-{rev}"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(h.ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


async def _seed_before(dsn: str, n: int) -> None:
    """The same catalog for the older revision, without this build's catalog indexes (0019)."""
    db = await Database.connect(dsn, max_size=1)
    try:
        await db.migrate()
        async with db.acquire() as conn:
            await _seed(conn, n)
            await conn.execute(
                "DROP INDEX pitches_published_trending_idx, pitch_likes_pitch_time_idx;"
                " DELETE FROM schema_migrations WHERE version = 19"
            )
    finally:
        await db.close()


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    notes = notes if notes is not None else []
    pg = h.Postgres()
    try:
        return asyncio.run(_measure(pg, QUICK_SIZES if quick else SIZES, notes, quick))
    finally:
        pg.close()


if __name__ == "__main__":
    from bench.common import format_table

    out: list[str] = []
    print(format_table(run("--quick" in sys.argv[1:], out)))
    print()
    for line in out:
        print(f"- {line}")
