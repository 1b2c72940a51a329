"""`python -m bench`: every benchmark suite, one Markdown table, then the notes behind it.

    python -m bench                      # every suite (the six realtime/rooms/actors ones: 5-7 min)
    python -m bench --quick              # a smoke run: 100 subscribers, 1,000 sessions/rooms
    python -m bench --only fanout,latency

Suites: fanout, latency, slow, connections, rooms, actors, roomrate, scaling, and rest, cluster,
web and coedit where their modules exist. Servers under test and baselines run as separate
processes, driven by bench/loadgen.py processes; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.common import Row, format_table

SUITES = (
    "fanout",
    "latency",
    "slow",
    "connections",
    "rooms",
    "actors",
    "roomrate",
    "scaling",
    "rest",
    "cluster",
    "web",
    "coedit",
)
# Suites kept in their own modules by their owners: `run(quick, notes) -> list[Row]` (actors:
# `run() -> list[Row]`); skipped with a note when the module is not there.
EXTERNAL = {
    "roomrate": "bench.bench_roomrate",
    "scaling": "bench.bench_scaling",
    "rest": "bench.bench_rest",
    "cluster": "bench.bench_cluster",
    "web": "bench.bench_web",
    "coedit": "bench.bench_coedit",
}


def _versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for dist in ("aiohttp", "python-socketio", "python-engineio", "asyncpg", "pgserver"):
        try:
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist} missing")
    return ", ".join(parts)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _on_term(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # run the finally blocks: stop servers, clients and PostgreSQL


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small smoke version (~2 min)")
    parser.add_argument(
        "--only", default=",".join(SUITES), help=f"comma-separated suites out of: {', '.join(SUITES)}"
    )
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    signal.signal(signal.SIGTERM, _on_term)

    from bench import bench_realtime as rt

    nofile = h.raise_nofile()
    cfg = rt.Config.make(args.quick)
    if "connections" in only and nofile < cfg.connections * 1.1:
        print(
            f"bench: open-files limit {nofile} is too low for {cfg.connections:,} sessions", file=sys.stderr
        )
        return 2
    started = time.monotonic()
    rows: list[Row] = []
    failures: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-"))
    cfg.notes.append(
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), load average at start {h.loadavg()}; {_versions()}"
    )
    pg: h.Postgres | None = None
    rigs: rt.Rigs | None = None
    try:
        needs_pg = any(s in only for s in ("fanout", "latency", "slow", "connections", "rooms"))
        pg = h.Postgres() if needs_pg else None
        rigs = rt.Rigs(cfg, pg, workdir) if pg is not None else None
        for suite in SUITES:
            if suite not in only:
                continue
            t0 = time.monotonic()
            print(f"bench: {suite} ...", file=sys.stderr, flush=True)
            try:
                if suite == "fanout":
                    assert rigs is not None
                    rows += rt.fanout(cfg, rigs)
                elif suite == "latency":
                    assert rigs is not None
                    rows += rt.latency(cfg, rigs)
                    if "slow" not in only:
                        rigs.close()
                elif suite == "slow":
                    assert rigs is not None
                    rigs.drop("aiohttp")
                    rigs.drop("socketio")
                    rows += rt.slow_consumer(cfg, rigs)
                    rigs.close()
                elif suite == "connections":
                    assert pg is not None and rigs is not None
                    rigs.close()
                    rows += rt.connections(cfg, pg, workdir)
                elif suite == "rooms":
                    assert pg is not None
                    from bench import bench_rooms

                    rows += bench_rooms.run(pg.create_database(), args.quick, cfg.notes)
                elif suite in EXTERNAL:
                    try:
                        module = importlib.import_module(EXTERNAL[suite])
                    except ImportError:
                        cfg.notes.append(f"{suite}: {EXTERNAL[suite]} not present, skipped")
                    else:
                        rows += module.run(args.quick, cfg.notes)
                elif suite == "actors":
                    try:
                        from bench import bench_actors
                    except ImportError:
                        cfg.notes.append("actors: bench/bench_actors.py not present, skipped")
                    else:
                        rows += bench_actors.run()
            except Exception as exc:
                failures.append(f"{suite}: {exc!r}")
                traceback.print_exc()
                if rigs is not None:
                    rigs.close()
            print(f"bench: {suite} done in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        failures.append("interrupted")
    finally:
        if rigs is not None:
            rigs.close()
        if pg is not None:
            pg.close()
        shutil.rmtree(workdir, ignore_errors=True)
    cfg.notes.append(
        f"load average at end {h.loadavg()}; whole run "
        f"{time.monotonic() - started:.0f} s" + (" (--quick)" if args.quick else "")
    )
    print(format_table(rows))
    print()
    for note in cfg.notes:
        print(f"- {note}")
    for failure in failures:
        print(f"- FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
