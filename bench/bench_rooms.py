"""Room actors in bulk: activation time, memory of 10,000 live rooms, passivation back to idle.

Runs in a fresh child process (so no other suite's heap is in its RSS) that builds the app's Hub
directly against a real PostgreSQL: ``Hub(db, InProcessBackplane(), idle_timeout=...)``.

1. warm-up: a throwaway hub activates and passivates 200 rooms (code paths, prepared statements);
   then the idle footprint is taken (gc.collect, RSS).
2. activation: N pitch rooms, one after another, each timed from asking it for `EmitMetrics()`
   until the answer, so it includes constructing the actor, its `on_activate` (the snapshot lookup in
   `room_snapshots`) and one message. RSS after gc.collect, minus idle.
3. passivation: the hub's idle sweeper is started (idle timeout 0.5 s); time until
   `hub.active_rooms() == 0`, then RSS again (these rooms have no history: nothing to save).
4. the same N rooms again, each given 3 published events, passivated one by one by Hub.stop()
   (each saves a snapshot);
5. a new hub activates them from their snapshots (a real state load), timed like 2;
6. the idle sweeper passivates those rooms: every room saves a snapshot, all at once (as after
   any burst of activity). Time, or the rooms still active after 60 s and the room restarts.
   (Phases 4-6 run in this order so the burst of step 6 cannot inflate the figures before it.)

`Room.on_activate` does not read the pitch row (PitchRoom.load only takes the id from the name), but the
N pitches are created anyway so the rooms name real pitches.
"""

from __future__ import annotations

import array
import asyncio
import gc
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.common import Row, rss_bytes

SUITE = "rooms"
IDLE_TIMEOUT = 0.5
EVENTS_PER_ROOM = 3
HISTORY_SWEEP_LIMIT = 60.0


def _pct(values: Sequence[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def _footprint() -> tuple[int, int]:
    gc.collect()
    return rss_bytes(), sys.getallocatedblocks()


async def _child(dsn: str, n: int) -> dict[str, Any]:
    from pitchey.actors import ask
    from pitchey.protocol import parse_room
    from pitchey.protocol.events import Event, EventType
    from pitchey.rooms.backplane import InProcessBackplane
    from pitchey.rooms.hub import Hub
    from pitchey.rooms.messages import EmitMetrics
    from pitchey.storage.database import Database

    db = await Database.connect(dsn, min_size=2, max_size=10)
    await db.migrate()
    owner = await db.fetchval(
        "INSERT INTO users (email, user_type, password_hash) "
        "VALUES ('rooms-bench@bench.example.com', 'creator', 'x') RETURNING id"
    )
    ids = [
        r["id"]
        for r in await db.fetch(
            "INSERT INTO pitches (user_id, title, status) "
            "SELECT $1, 'Pitch ' || g, 'published' FROM generate_series(1, $2) g RETURNING id",
            owner,
            n + 200,
        )
    ]
    names = [f"pitch:{i}" for i in ids[:n]]

    async def activate(hub: Hub, rooms: list[str]) -> array.array[float]:
        times = array.array("d")  # no float object per sample in the measured heap
        for name in rooms:
            t0 = time.perf_counter()
            await ask(hub.ref(parse_room(name)), EmitMetrics())  # answered once the room is up
            times.append(time.perf_counter() - t0)
        return times

    async def passivate(hub: Hub, limit: float) -> tuple[float, bool]:
        """Start the idle sweeper; seconds until no room is active (or False at the limit)."""
        hub.idle_timeout = IDLE_TIMEOUT
        t0 = time.perf_counter()
        await hub.start()  # the sweeper tells every room idle for IDLE_TIMEOUT to passivate
        while hub.active_rooms():
            if time.perf_counter() - t0 > limit:
                return time.perf_counter() - t0, False
            await asyncio.sleep(0.02)
        return time.perf_counter() - t0, True

    # 1. warm-up, then the idle footprint
    warm = Hub(db, InProcessBackplane(), idle_timeout=3600)
    await activate(warm, [f"pitch:{i}" for i in ids[n:]])
    await warm.stop()
    del warm
    rss_idle, blocks_idle = _footprint()

    # 2. activation of N fresh rooms (no sweeper yet: nothing passivates while we measure)
    hub = Hub(db, InProcessBackplane(), idle_timeout=3600)
    fresh = await activate(hub, names)
    assert hub.active_rooms() == n
    rss_active, blocks_active = _footprint()

    # 3. passivation of those rooms (nothing to save: they never published)
    passivate_s, ok = await passivate(hub, 120)
    assert ok, f"{hub.active_rooms()} rooms did not passivate"
    await hub.stop()
    del hub
    rss_passive, blocks_passive = _footprint()

    # 4. the same rooms again, each given a short history, then Hub.stop(): one room after the
    # other passivates and saves its snapshot.
    hub = Hub(db, InProcessBackplane(), idle_timeout=3600)
    await activate(hub, names)
    rss_reactivated, _ = _footprint()
    for name in names:
        await hub.broker.publish(name, Event(EventType.MESSAGE, {"text": "x" * 40, "userId": owner}))
        await hub.broker.publish(name, Event(EventType.VIEW_UPDATE, {"views": 1, "userId": owner}))
        await hub.broker.publish(name, Event(EventType.LIKE_UPDATE, {"likes": 1, "userId": owner}))
    await hub.stop()
    del hub
    saved = await db.fetchval("SELECT count(*) FROM room_snapshots")
    rss_before_restore, blocks_before_restore = _footprint()

    # 5. activation from those snapshots (a real state load), timed like 2.
    hub = Hub(db, InProcessBackplane(), idle_timeout=3600)
    restored = await activate(hub, names)
    rss_restored, blocks_restored = _footprint()

    # 6. the idle sweeper passivates the restored rooms: every room saves its snapshot, all at
    # once (as after any burst of activity). If the sweep does not finish, Hub.stop() passivates
    # the rest one at a time.
    history_s, history_ok = await passivate(hub, HISTORY_SWEEP_LIMIT)
    left = hub.active_rooms()
    restarts = hub.metrics.room_restarts._value.get()
    await hub.stop()
    del hub
    await db.close()
    mb = 2**20
    return {
        "n": n,
        "rss_idle_mb": rss_idle / mb,
        "active_mb": (rss_active - rss_idle) / mb,
        "restored_mb": (rss_restored - rss_before_restore) / mb,
        "blocks_restored": blocks_restored - blocks_before_restore,
        "passive_mb": (rss_passive - rss_idle) / mb,
        "reactivated_mb": (rss_reactivated - rss_idle) / mb,
        "blocks_active": blocks_active - blocks_idle,
        "blocks_passive": blocks_passive - blocks_idle,
        "fresh_p50_ms": _pct(fresh, 0.5) * 1e3,
        "fresh_p99_ms": _pct(fresh, 0.99) * 1e3,
        "fresh_max_ms": max(fresh) * 1e3,
        "fresh_total_s": sum(fresh),
        "restored_p50_ms": _pct(restored, 0.5) * 1e3,
        "restored_p99_ms": _pct(restored, 0.99) * 1e3,
        "passivate_s": passivate_s,
        "history_s": history_s,
        "history_ok": history_ok,
        "history_left": left,
        "history_restarts": restarts,
        "snapshots": saved,
    }


def run(dsn: str, quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    n = 1_000 if quick else 10_000
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_rooms", dsn, str(n)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"rooms child failed:\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if notes is not None:
        sweep = (
            f"took {r['history_s']:.1f} s"
            if r["history_ok"]
            else f"did NOT finish in {r['history_s']:.0f} s: {r['history_left']:,} rooms still "
            f"active, {r['history_restarts']:,.0f} room restarts (failed passivations)"
        )
        notes.append(
            f"rooms: idle process {r['rss_idle_mb']:.0f} MB; {n:,} rooms +{r['active_mb']:.1f} MB "
            f"({r['blocks_active'] / n:.0f} live allocator blocks per room), activation p50 "
            f"{r['fresh_p50_ms']:.2f} ms, max {r['fresh_max_ms']:.1f} ms, all {n:,} in "
            f"{r['fresh_total_s']:.1f} s; after passivation +{r['passive_mb']:.1f} MB RSS with "
            f"{r['blocks_passive']:,} live allocator blocks left (objects freed, memory kept by "
            f"the allocator); activating the {n:,} rooms again: +{r['reactivated_mb']:.1f} MB; "
            f"sweeping {n:,} rooms with a {EVENTS_PER_ROOM}-event history {sweep}; "
            f"{r['snapshots']:,} snapshots saved; restoring them took +{r['restored_mb']:.1f} MB "
            f"RSS ({r['blocks_restored'] / n:.0f} blocks per room), activation p50 "
            f"{r['restored_p50_ms']:.2f} ms"
        )
    return [
        Row(
            SUITE,
            f"memory of {n:,} active rooms (RSS above idle)",
            r["active_mb"],
            "MB",
            goal="<= 50 MB",
            met=r["active_mb"] <= 50,
        ),
        Row(
            SUITE,
            "activation p99, incl. snapshot lookup (none saved)",
            r["fresh_p99_ms"],
            "ms",
            goal="<= 2 ms",
            met=r["fresh_p99_ms"] <= 2,
        ),
        Row(
            SUITE,
            f"activation p99, restoring a {EVENTS_PER_ROOM}-event snapshot",
            r["restored_p99_ms"],
            "ms",
            goal="<= 2 ms",
            met=r["restored_p99_ms"] <= 2,
        ),
        Row(
            SUITE,
            "RSS above idle after passivation",
            r["passive_mb"],
            "MB",
            f"{n:,} rooms active",
            r["active_mb"],
            "back to idle (<= 10% of active)",
            r["passive_mb"] <= 0.1 * r["active_mb"],
        ),
        Row(SUITE, f"time to passivate {n:,} idle rooms (incl. 0.5 s idle timeout)", r["passivate_s"], "s"),
        Row(
            SUITE,
            f"time to passivate {n:,} rooms saving snapshots",
            r["history_s"],
            "s",
            goal="all passivate, no restarts",
            met=bool(r["history_ok"]) and r["history_restarts"] == 0,
        ),
    ]


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = asyncio.run(_child(sys.argv[1], int(sys.argv[2])))
    print(json.dumps(result))
