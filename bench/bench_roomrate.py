"""Suite `roomrate`: how many messages one pitch room takes per second on one node (issue 16).

Two pitchey servers of the same build run side by side against one embedded PostgreSQL (default
settings: `fsync` and `synchronous_commit` on, so every commit waits for its WAL flush):

* coalesced   - the shipped default: a room turn stores every post queued behind it in one
  multi-row INSERT (one commit), then publishes and acknowledges them in order;
* one-by-one  - `PITCHEY_ROOM_POST_BATCH=1`: a commit per post, the path before issue 16.

Each has `SUBSCRIBERS` subscribers of one pitch room plus the pitch's creator as publisher (also a
member), driven by bench/loadgen.py. The publisher keeps `WINDOW` messages in flight (the next is
sent when its own copy of an earlier one comes back), so the room always has posts waiting: the
figure is stored-and-delivered messages per second, counted by the subscribers inside the window
(each message counted once: frames / subscribers). The two servers' windows are interleaved
round-robin, so a burst of other users' load on this shared machine hits both alike; the ratio of
the two in the same run is the steadier figure. A latency round at 50 events/s checks that
coalescing costs a quiet room nothing (its batches are one post long).

    python -m bench --only roomrate
    python -m bench.bench_roomrate [--quick]
"""

from __future__ import annotations

import array
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.bench_realtime import Config, Rig, pct
from bench.common import Row

SUBSCRIBERS = 10
WINDOW = 1024  # publisher messages in flight (a room at 3,000 msg/s with 100+ ms commits needs 300+)
GOAL = 3000.0  # messages/s into one room on one node (issue 16)


def _note(name: str, ws: list[dict[str, Any]], n: int) -> str:
    rates = ", ".join(f"{w['frames'] / w['seconds'] / n:,.0f}" for w in ws)
    others = ", ".join(f"{w['cpu']['others']:.0f}%" for w in ws)
    best = max(ws, key=lambda w: w["frames"])
    cpu = best["cpu"]
    return (
        f"roomrate {name}: windows {rates} messages/s (other users' processes {others} of 200%); "
        f"publisher errors {sum(w['errors'] for w in ws)}; best window: server {cpu['server']:.0f}%, "
        f"postgres {cpu.get('postgres', 0):.0f}%, subscribers {cpu['clients']:.0f}%, "
        f"publisher {cpu['publisher']:.0f}%"
    )


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    cfg = Config.make(quick)
    if notes is not None:
        cfg.notes = notes
    cfg.subscribers = SUBSCRIBERS
    cfg.client_procs = 1
    cfg.users = 5
    rounds = 1 if quick else 3
    seconds = 3.0 if quick else 5.0
    h.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-roomrate-"))
    pg = h.Postgres()
    rigs: dict[str, Rig] = {}
    try:
        rigs["coalesced"] = Rig("pitchey", cfg, pg, workdir)
        rigs["one-by-one"] = Rig("pitchey", cfg, pg, workdir, PITCHEY_ROOM_POST_BATCH="1")
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in rigs}
        for _ in range(rounds):
            for k, rig in rigs.items():
                runs[k].append(rig.window(seconds, window=WINDOW))
        n = cfg.subscribers
        rate = {k: statistics.median(w["frames"] / w["seconds"] / n for w in runs[k]) for k in rigs}
        per_cpu = {
            k: statistics.median(
                w["frames"] / n / max(1e-3, w["cpu"]["server"] / 100 * w["seconds"]) for w in runs[k]
            )
            for k in rigs
        }
        for k in rigs:
            cfg.notes.append(_note(k, runs[k], n))
        lat: dict[str, list[int]] = {}
        for k, rig in rigs.items():
            got: array.array[int] = array.array("q")
            for _ in range(rounds):
                w = rig.window(seconds, mode="rate", rate=50.0, latency=True)
                got.extend(w.pop("lat"))
            lat[k] = sorted(got)
        p99 = {k: pct(lat[k], 0.99) / 1e6 for k in rigs}
        p50 = {k: pct(lat[k], 0.50) / 1e6 for k in rigs}
        cfg.notes.append(
            "roomrate latency at 50 events/s: "
            + "; ".join(
                f"{k} p50 {p50[k]:.2f} ms, p99 {p99[k]:.2f} ms ({len(lat[k]):,} deliveries)" for k in rigs
            )
        )
        base = "same build, PITCHEY_ROOM_POST_BATCH=1 (a commit per post)"
        what = f"messages/s into one pitch room, {n} subscribers, {WINDOW} in flight, stored + delivered"
        c, o = "coalesced", "one-by-one"
        return [
            Row("roomrate", what, rate[c], "msg/s", base, rate[o], f">= {GOAL:,.0f} msg/s", rate[c] >= GOAL),
            Row(
                "roomrate",
                "messages per server CPU-second (same windows)",
                per_cpu[c],
                "msg/s",
                base,
                per_cpu[o],
            ),
            Row(
                "roomrate",
                f"publish-to-delivery p99, {n} subscribers, 50 events/s",
                p99[c],
                "ms",
                base,
                p99[o],
                "no worse (<= 1.2x, shared machine)",
                p99[c] <= 1.2 * p99[o],
            ),
        ]
    finally:
        for rig in rigs.values():
            rig.close()
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    from bench.common import format_table

    notes: list[str] = []
    rows = run("--quick" in sys.argv[1:], notes)
    print(format_table(rows))
    print()
    for line in notes:
        print(f"- {line}")
