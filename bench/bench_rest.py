"""REST throughput and tail latency of pitchey against a bare aiohttp + asyncpg app (issue 4).

Both servers run at once against the same database (one embedded PostgreSQL for the run), each in
its own process, and are driven by the same load generator, `wrk` (64 connections, 2 threads), in
paired windows: product, then baseline, for every workload, round after round, so a burst of
unrelated load on this shared 2-core machine hits both alike. Each window follows a short warm-up
run of its own. The baseline (bench/baseline_rest.py) runs the statements pitchey's store runs,
captured from `PitchStore` itself, with a pool of the same size (10).

Workloads (pitch ids drawn at random from the seeded, published, public, non-NDA pitches):

* detail, anonymous   - `GET /api/pitches/{id}` without credentials: the ready answer, no view;
* detail, investor    - the same, signed in as one of 16 investors who have all viewed every
                        pitch today already (a warm-up sweep makes sure): the cached row plus a
                        round trip through the pitch's room actor, which skips the database;
* browse, anonymous   - `GET /api/pitches/browse` page 1: ready bytes for anonymous callers (10 s);
* browse, investor    - the same signed in (16 investors): each caller's page is cached for them
                        (10 s, invalidated by catalog, pitch and their NDA changes), so the
                        query runs once per reader and then after every invalidation;
* like / unlike       - `POST` and `DELETE /api/pitches/{id}/like` alternating per (user, pitch)
                        so every request changes something (checked: write transactions per
                        request, from the transaction ids PostgreSQL assigned, must be 1).

Beside each window the orchestrator records CPU use of the server, PostgreSQL, wrk and the rest of
the machine (to show what the bottleneck was, and how busy other users kept the cores), server CPU
per request (the figure least disturbed by that sharing) and database transactions per request
(pg_stat_database).

    python -m bench.bench_rest [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench import harness as h
from bench.common import Row, format_table

SUITE = "rest"
WRK = shutil.which("wrk")
THREADS = 2
CONNECTIONS = 64
READERS = 16  # investors who read (8 per wrk thread)

# One Lua script for every workload; it reads its configuration from the environment.
WRK_LUA = r"""
local function split(s, sep)
  local t = {}
  if s == nil or s == "" then return t end
  for x in string.gmatch(s, "[^" .. sep .. "]+") do t[#t + 1] = x end
  return t
end

local n_threads = 0
function setup(thread)
  n_threads = n_threads + 1
  thread:set("tid", n_threads)
end

local reqs, posts, deletes, mode, i, n
function init(args)
  local paths = split(os.getenv("BENCH_PATHS"), ",")
  local all = split(os.getenv("BENCH_AUTH") or "", ",")
  local style = os.getenv("BENCH_AUTH_STYLE") or "none"
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  mode = os.getenv("BENCH_MODE")
  math.randomseed(tid * 7919 + os.time())
  local mine = {}
  for j, a in ipairs(all) do
    if (j - 1) % nthreads == tid - 1 then mine[#mine + 1] = a end
  end
  if #mine == 0 then mine = {""} end
  local function make(method, path, auth, body)
    local headers = {}
    if style == "bearer" and auth ~= "" then
      headers["Authorization"] = "Bearer " .. auth
    elseif style == "query" and auth ~= "" then
      path = path .. "?user=" .. auth
    end
    if body then headers["Content-Type"] = "application/json" end
    return wrk.format(method, path, headers, body)
  end
  reqs, posts, deletes = {}, {}, {}
  for _, auth in ipairs(mine) do
    for _, p in ipairs(paths) do
      reqs[#reqs + 1] = make("GET", p, auth, nil)
    end
  end
  for _, p in ipairs(paths) do
    posts[#posts + 1] = make("POST", p, mine[1], "{}")
    deletes[#deletes + 1] = make("DELETE", p, mine[1], nil)
  end
  n = #paths
  i = 0
end

function request()
  i = i + 1
  if mode == "random" then
    return reqs[math.random(#reqs)]
  elseif mode == "sweep" then
    return reqs[(i - 1) % #reqs + 1]
  else -- "like": like every pitch in turn, then take every like back, and so on
    local k = (i - 1) % n + 1
    if math.floor((i - 1) / n) % 2 == 0 then return posts[k] end
    return deletes[k]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"mean_us":%.1f,"max_us":%d,"p50_us":%d,' ..
    '"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
"""


@dataclass
class Config:
    quick: bool
    pitches: int = 200
    rounds: int = 3
    seconds: float = 10.0
    warmup: float = 2.0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, quick: bool) -> Config:
        if quick:
            return cls(quick=True, pitches=50, rounds=1, seconds=3.0, warmup=1.0)
        return cls(quick=False)


@dataclass
class Workload:
    """One wrk configuration against one server."""

    key: str
    server: str  # "pitchey" | "bare"
    paths: list[str]
    mode: str  # random | sweep | like
    auth: list[str] = field(default_factory=list)
    style: str = "none"  # none | bearer | query


# -- helpers -----------------------------------------------------------------------------------


class CpuMeter(h.CpuMeter):
    """harness.CpuMeter that also follows processes coming and going during the window.

    Groups named in `follow` are re-listed every 0.2 s by their function (PostgreSQL: the
    postmaster's children), so a backend started meanwhile counts from its start and one that
    exits counts up to its last sample. asyncpg replaces each pooled connection after 50,000
    queries, so under load a whole pool's backends can change within one window; fixed lists
    would read that as no PostgreSQL CPU at all (or as negative).
    """

    def __init__(
        self, pids: dict[str, list[int]], follow: dict[str, Callable[[], list[int]]] | None = None
    ) -> None:
        self.follow = follow or {}
        super().__init__({**pids, **{k: [] for k in self.follow}})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._first: dict[str, dict[int, float]] = {k: {} for k in self.follow}
        self._last: dict[str, dict[int, float]] = {k: {} for k in self.follow}

    def _sample(self, initial: bool = False) -> None:
        for k, lister in self.follow.items():
            for p in lister():
                c = h.cpu_seconds(p)
                if c <= 0.0:
                    continue
                with self._lock:
                    if p not in self._first[k]:
                        # Known at the start: counts from here; new since: counts from zero.
                        self._first[k][p] = c if initial else 0.0
                    self._last[k][p] = max(c, self._last[k].get(p, 0.0))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def start(self) -> None:
        super().start()
        self.p0 = {p: h.cpu_seconds(p) for v in self.pids.values() for p in v}
        if self.follow:
            self._sample(initial=True)
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def stop(self) -> dict[str, float]:
        out = super().stop()
        dt = time.monotonic() - self.t0
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample()
        for k, v in self.pids.items():
            if k in self.follow:
                used = sum(self._last[k][p] - self._first[k][p] for p in self._first[k])
            else:
                used = sum(max(0.0, h.cpu_seconds(p) - self.p0[p]) for p in v)
            out[k] = round(100 * used / dt, 1)
        out["others"] = round(max(0.0, out["machine"] - sum(out[k] for k in self.pids)), 1)
        return out


def _run_wrk(
    port: int,
    script: Path,
    w: Workload,
    seconds: float,
    pids: dict[str, list[int]] | None = None,
    follow: dict[str, Callable[[], list[int]]] | None = None,
) -> dict[str, Any]:
    assert WRK is not None
    env = dict(
        os.environ,
        BENCH_PATHS=",".join(w.paths),
        BENCH_AUTH=",".join(w.auth),
        BENCH_AUTH_STYLE=w.style,
        BENCH_MODE=w.mode,
        BENCH_THREADS=str(THREADS),
    )
    argv = [
        WRK,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    meter = CpuMeter(pids or {}, follow)
    meter.start()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    load0 = h.loadavg()
    out, err = proc.communicate(timeout=seconds + 60)
    cpu = meter.stop()
    # wrk's CPU from its rusage once reaped (/proc no longer has it); the servers are children
    # too but are not reaped, so only wrk is in this difference.
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime
    cpu["wrk"] = round(100 * wrk_cpu / (time.monotonic() - t0), 1)
    cpu["others"] = round(max(0.0, cpu["others"] - cpu["wrk"]), 1)
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (rc={proc.returncode}): {out[-2000:]} {err[-2000:]}")
    r: dict[str, Any] = json.loads(line.removeprefix("BENCHJSON "))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["cpu"] = cpu
    r["load"] = load0
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    r["errors"] = errors
    if errors > 0.001 * max(1, r["requests"]):
        kinds = {k: r[k] for k in ("connect", "read", "write", "status", "timeout")}
        raise RuntimeError(f"{w.key} on {w.server}: {errors} errors of {r['requests']} requests ({kinds})")
    return r


class DbStats:
    """Transactions and pitch_likes row changes of the bench database, from pg statistics."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def _read(self) -> tuple[int, int]:
        conn = await asyncpg.connect(self.dsn)
        try:
            # Transactions: from the statistics (flushed by idle backends within a second).
            xacts = await conn.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )
            # Write transactions: the next transaction id, exact (no statistics delay); a like
            # or unlike that changes nothing assigns none.
            xid = await conn.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
            return int(xacts), int(xid)
        finally:
            await conn.close()

    def read(self) -> tuple[int, int]:
        return asyncio.run(self._read())


def pg_pids(pg: h.Postgres) -> list[int]:
    """The postmaster and its children (backends, checkpointer, ...); retried when the pid file
    could not be read at that instant (an empty or postmaster-only list)."""
    pids: list[int] = []
    for _ in range(5):
        try:
            pids = pg.pids()
        except (OSError, ValueError):
            pids = []
        if len(pids) > 1:
            break
        time.sleep(0.05)
    return pids


def _seed(port: int, cfg: Config, writers: int) -> dict[str, Any]:
    """A creator with `cfg.pitches` published public pitches, readers and writer investors."""
    rest = h.Rest(port)
    try:
        creator_id, creator = rest.register("creator")
        ids = []
        for i in range(cfg.pitches):
            p = rest.call(
                "POST",
                "/api/pitches",
                {
                    "title": f"Bench pitch {i}",
                    "logline": "A heist on a generation ship " * 3,
                    "genre": ("drama", "thriller", "comedy", "sci-fi")[i % 4],
                    "format": "feature",
                    "synopsis": "Long synopsis. " * 40,
                    "budget": f"{1_000_000 + i * 1000}.00",
                    "targetAudience": "adults 18-49",
                    "status": "published",
                },
                creator,
            )
            ids.append(int(p["id"]))
        readers = [rest.register("investor") for _ in range(READERS)]
        writers_ = [rest.register("investor") for _ in range(writers)]
        # Sanity: both kinds of reader get the pitch, and browse answers a full page.
        assert rest.call("GET", f"/api/pitches/{ids[0]}", None)["id"] == ids[0]
        assert rest.call("GET", f"/api/pitches/{ids[0]}", None, readers[0][1])["id"] == ids[0]
        assert len(rest.call("GET", "/api/pitches/browse", None)) == min(20, cfg.pitches)
    finally:
        rest.close()
    return {"creator": creator, "creator_id": creator_id, "ids": ids, "readers": readers, "writers": writers_}


def _pct_ms(us: float) -> float:
    return us / 1000.0


# -- the suite ---------------------------------------------------------------------------------


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    cfg = Config.make(quick)
    if notes is not None:
        cfg.notes = notes
    if WRK is None:
        cfg.notes.append("rest: wrk is not installed (Debian package `wrk`); suite skipped")
        print(cfg.notes[-1], file=sys.stderr)
        return []
    h.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-rest-"))
    script = workdir / "bench.lua"
    script.write_text(WRK_LUA)
    pg = h.Postgres()
    servers: list[h.ServerProc] = []
    try:
        return _suite(cfg, pg, workdir, script, servers)
    finally:
        for s in servers:
            s.stop()
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _suite(
    cfg: Config, pg: h.Postgres, workdir: Path, script: Path, servers: list[h.ServerProc]
) -> list[Row]:
    dsn = pg.create_database()
    generous = "10000000/minute"
    product = h.start_pitchey(
        pg,
        workdir,
        DATABASE_URL=dsn,
        PITCHEY_AUTH_IP_LIMIT=generous,
        PITCHEY_WRITE_IP_LIMIT=generous,
        PITCHEY_WRITE_USER_LIMIT=generous,
        PITCHEY_DB_POOL_MIN="2",
        PITCHEY_DB_POOL_MAX="10",
    )
    servers.append(product)
    # Writers: a fresh pair (one per wrk thread) for each (round, server, warm-up|window), so
    # every like/unlike sequence starts from "not liked".
    per_round = 2 * 2 * THREADS
    fx = _seed(product.port, cfg, per_round * cfg.rounds)
    bport = h.free_port()
    bare = h.ServerProc(
        "bare-rest",
        [sys.executable, "-m", "bench.baseline_rest", str(bport), dsn],
        dict(os.environ),
        bport,
        workdir,
    )
    servers.append(bare)
    stats = DbStats(dsn)
    ids = fx["ids"]
    detail_paths = [f"/api/pitches/{i}" for i in ids]
    like_paths = [f"/api/pitches/{i}/like" for i in ids]
    reader_tokens = [t for _, t in fx["readers"]]
    writers = fx["writers"]

    # Every reader views every pitch once (the first view of the day is a database write):
    # afterwards the investor workload measures the steady state, repeat views.
    sweep = Workload("sweep", "pitchey", detail_paths, "sweep", reader_tokens, "bearer")
    for _ in range(5):
        _run_wrk(product.port, script, sweep, max(2.0, cfg.pitches * READERS / THREADS / 400))
        views = asyncio.run(_count(dsn, "SELECT count(*) FROM pitch_views"))
        if views >= cfg.pitches * READERS:
            break
    else:
        raise RuntimeError(f"warm-up sweep recorded only {views} of {cfg.pitches * READERS} first views")

    def workloads(rnd: int) -> list[tuple[Workload, Workload | None, int]]:
        w = writers[rnd * per_round : (rnd + 1) * per_round]
        tok = [t for _, t in w]
        uid = [str(u) for u, _ in w]
        return [
            (Workload("detail-anon", "pitchey", detail_paths, "random"), None, product.port),
            (
                Workload("detail-investor", "pitchey", detail_paths, "random", reader_tokens, "bearer"),
                None,
                product.port,
            ),
            (Workload("detail", "bare", [f"/pitch/{i}" for i in ids], "random"), None, bport),
            (Workload("browse-anon", "pitchey", ["/api/pitches/browse"], "random"), None, product.port),
            (
                Workload(
                    "browse-investor", "pitchey", ["/api/pitches/browse"], "random", reader_tokens, "bearer"
                ),
                None,
                product.port,
            ),
            (Workload("browse", "bare", ["/browse"], "random"), None, bport),
            (
                Workload("like", "pitchey", like_paths, "like", tok[2:4], "bearer"),
                Workload("like-warm", "pitchey", like_paths, "like", tok[0:2], "bearer"),
                product.port,
            ),
            (
                Workload("like", "bare", [f"/like/{i}" for i in ids], "like", uid[6:8], "query"),
                Workload("like-warm", "bare", [f"/like/{i}" for i in ids], "like", uid[4:6], "query"),
                bport,
            ),
        ]

    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rnd in range(cfg.rounds):
        for w, warm, port in workloads(rnd):
            _run_wrk(port, script, warm or w, cfg.warmup)
            time.sleep(0.3)
            x0, xid0 = stats.read()
            server_pid = product.pid if w.server == "pitchey" else bare.pid
            r = _run_wrk(
                port, script, w, cfg.seconds, {"server": [server_pid]}, {"postgres": lambda: pg_pids(pg)}
            )
            time.sleep(1.5)  # idle backends flush their statistics within about a second
            x1, xid1 = stats.read()
            r["xacts_per_req"] = (x1 - x0 - 2) / max(1, r["requests"])
            r["writes_per_req"] = (xid1 - xid0) / max(1, r["requests"])
            used = r["cpu"].get("server", 0) + r["cpu"].get("postgres", 0)
            r["cpu_us"] = used / 100 * r["duration_us"] / max(1, r["requests"])
            r["server_us"] = r["cpu"]["server"] / 100 * r["duration_us"] / max(1, r["requests"])
            results.setdefault((w.server, w.key), []).append(r)
            print(
                f"rest {w.server:7s} {w.key:16s} {r['rps']:8,.0f} req/s p50 "
                f"{_pct_ms(r['p50_us']):6.1f} p99 {_pct_ms(r['p99_us']):6.1f} ms  cpu "
                f"{r['cpu']}  xacts/req {r['xacts_per_req']:.2f} writes/req {r['writes_per_req']:.2f} "
                f"cpu/req {r['server_us']:.0f}+{r['cpu_us'] - r['server_us']:.0f} us  load {r['load']}",
                file=sys.stderr,
                flush=True,
            )
    return _rows(cfg, results)


async def _count(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def _med(rs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rs))


def _rows(cfg: Config, results: dict[tuple[str, str], list[dict[str, Any]]]) -> list[Row]:
    def fig(server: str, key: str) -> dict[str, float]:
        rs = results[(server, key)]
        return {
            "rps": _med(rs, "rps"),
            "p99": _med(rs, "p99_us") / 1000,
            "p50": _med(rs, "p50_us") / 1000,
            "xacts": _med(rs, "xacts_per_req"),
            "cpu": _med(rs, "server_us"),
        }

    for (server, key), rs in sorted(results.items()):
        cpu = rs[-1]["cpu"]
        cfg.notes.append(
            f"rest {server} {key}: windows "
            + ", ".join(f"{r['rps']:,.0f}" for r in rs)
            + " req/s; p99 "
            + ", ".join(f"{r['p99_us'] / 1000:.1f}" for r in rs)
            + f" ms; DB transactions/request ~{_med(rs, 'xacts_per_req'):.2f}"
            + f" (write transactions {_med(rs, 'writes_per_req'):.2f})"
            + f"; CPU per request: server {_med(rs, 'server_us'):.0f} us, server+postgres "
            f"{_med(rs, 'cpu_us'):.0f} us"
            + f"; CPU (last window, % of one core) server {cpu.get('server', 0):.0f}, "
            f"postgres {cpu.get('postgres', 0):.0f}, wrk {cpu.get('wrk', 0):.0f}, "
            f"other processes {cpu.get('others', 0):.0f}, whole machine "
            f"{cpu.get('machine', 0):.0f} of 200; load average before each window: "
            + " / ".join(r["load"] for r in rs)
        )
    for key, base in (
        ("detail-anon", "detail"),
        ("detail-investor", "detail"),
        ("browse-anon", "browse"),
        ("browse-investor", "browse"),
        ("like", "like"),
    ):
        pairs = zip(results[("pitchey", key)], results[("bare", base)], strict=True)
        cfg.notes.append(
            f"rest {key}: req/s ratio to bare {base}, per round (paired windows): "
            + ", ".join(f"{p['rps'] / b['rps']:.2f}x" for p, b in pairs)
        )
    for (server, key), rs in results.items():
        if key == "like" and min(r["writes_per_req"] for r in rs) < 0.95:
            cfg.notes.append(
                f"WARNING rest {server} like: some requests changed nothing "
                f"(write transactions/request {[r['writes_per_req'] for r in rs]})"
            )
    n = f"{CONNECTIONS} conns"
    bd, bb, bl = fig("bare", "detail"), fig("bare", "browse"), fig("bare", "like")
    da, di = fig("pitchey", "detail-anon"), fig("pitchey", "detail-investor")
    ba, bi = fig("pitchey", "browse-anon"), fig("pitchey", "browse-investor")
    lk = fig("pitchey", "like")
    bare_pk = "bare aiohttp+asyncpg, same PK SELECT"
    bare_browse = "bare aiohttp+asyncpg, same browse SQL"
    bare_like = "bare aiohttp+asyncpg, same like/unlike transaction"
    rows = [
        Row(
            SUITE,
            f"GET /api/pitches/{{id}} req/s, anonymous (ready answer), {n}",
            da["rps"],
            "req/s",
            bare_pk,
            bd["rps"],
            ">= 2x",
            da["rps"] >= 2 * bd["rps"],
        ),
        Row(
            SUITE,
            "GET /api/pitches/{id} p99, anonymous (ready answer)",
            da["p99"],
            "ms",
            bare_pk,
            bd["p99"],
            "< baseline",
            da["p99"] < bd["p99"],
        ),
        Row(
            SUITE,
            "GET /api/pitches/{id} server CPU per request, anonymous",
            da["cpu"],
            "us",
            bare_pk,
            bd["cpu"],
        ),
        Row(
            SUITE,
            f"GET /api/pitches/{{id}} req/s, signed-in investor (ready answer, view dedup in room), {n}",
            di["rps"],
            "req/s",
            bare_pk,
            bd["rps"],
            ">= 1.5x",
            di["rps"] >= 1.5 * bd["rps"],
        ),
        Row(
            SUITE,
            "GET /api/pitches/{id} p99, signed-in investor",
            di["p99"],
            "ms",
            bare_pk,
            bd["p99"],
            "< baseline",
            di["p99"] < bd["p99"],
        ),
        Row(
            SUITE,
            "GET /api/pitches/{id} server CPU per request, signed-in investor",
            di["cpu"],
            "us",
            bare_pk,
            bd["cpu"],
        ),
        Row(
            SUITE,
            f"GET /api/pitches/browse req/s, anonymous (ready page 1), {n}",
            ba["rps"],
            "req/s",
            bare_browse,
            bb["rps"],
            ">= 2x",
            ba["rps"] >= 2 * bb["rps"],
        ),
        Row(SUITE, "GET /api/pitches/browse p99, anonymous", ba["p99"], "ms", bare_browse, bb["p99"]),
        Row(
            SUITE,
            f"GET /api/pitches/browse req/s, signed-in investor (ready page per caller), {n}",
            bi["rps"],
            "req/s",
            bare_browse,
            bb["rps"],
            ">= 1.0x",
            bi["rps"] >= bb["rps"],
        ),
        Row(
            SUITE,
            "GET /api/pitches/browse p99, signed-in investor",
            bi["p99"],
            "ms",
            bare_browse,
            bb["p99"],
            "<= baseline",
            bi["p99"] <= bb["p99"],
        ),
        Row(
            SUITE,
            "GET /api/pitches/browse server CPU per request, signed-in investor",
            bi["cpu"],
            "us",
            bare_browse,
            bb["cpu"],
        ),
        Row(
            SUITE,
            f"POST/DELETE /api/pitches/{{id}}/like req/s (each one a change), {n}",
            lk["rps"],
            "req/s",
            bare_like,
            bl["rps"],
            ">= 0.8x",
            lk["rps"] >= 0.8 * bl["rps"],
        ),
        Row(SUITE, "POST/DELETE /api/pitches/{id}/like p99", lk["p99"], "ms", bare_like, bl["p99"]),
        Row(
            SUITE,
            "POST/DELETE /api/pitches/{id}/like server CPU per request",
            lk["cpu"],
            "us",
            bare_like,
            bl["cpu"],
        ),
    ]
    return rows


if __name__ == "__main__":
    notes: list[str] = []
    table = format_table(run("--quick" in sys.argv, notes=notes))
    print(table)
    print()
    print("\n".join(f"- {n}" for n in notes))
