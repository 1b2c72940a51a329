"""Two nodes through Redis against one node in process (issue 5).

One embedded PostgreSQL and one `redis-server` (Debian's, on a free loopback port, no persistence)
serve the run. The cluster rig is node A and node B (`pitchey serve` with REDIS_URL and a shared
JWT_SECRET, one database) with the subscribers of one pitch room split between them and the
publisher on node A; the single rig is one node without REDIS_URL, with the same subscribers split
over the same number of load generator processes (bench/loadgen.py). Both rigs stay up for the
whole run and their windows alternate, so a burst of unrelated load hits both alike.

* throughput: the publisher posts `message` commands with 32 in flight (it sends the next when its
  own copy of an event comes back): delivered frames/s summed over every subscriber of both nodes;
* latency: 50 events/s with the publisher's send time (ns) in the text; every delivery's latency,
  p50/p99 over all subscribers (both nodes); and the same recorded while the publisher saturates
  the room, per node (the publisher's node A against node B), and at 1,000 events/s per node (a
  busy room the load generators keep up with: under a saturating publisher this 2-core machine
  is full, and their lag is most of the p99);
* the wait inside each node: its `pitchey_fanout_seconds` histogram (from the moment the node has
  the event, off its Redis subscription or from the publishing turn in process, to the moment the
  last local subscriber has the frame queued), read from /metrics before and after each window;
* Redis cost: INFO commandstats read at the window's start and end (the room's seq, read in the
  same pipeline, counts the events published meanwhile exactly). Commands run inside Lua scripts
  count one each, as Redis counts them; EVALSHA calls are the client round trips of publishing.

    python -m bench.bench_cluster [--quick]
"""

from __future__ import annotations

import array
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.bench_rest import CpuMeter, pg_pids
from bench.common import Row, format_table

SUITE = "cluster"
REDIS_SERVER = shutil.which("redis-server")
SATURATE_WINDOW = 32  # publisher messages in flight, as in bench_realtime
READ_INTERVAL = 0.02  # subscribers read in batches in throughput windows, as in bench_realtime
SCRIPT_COMMANDS = ("evalsha", "eval", "fcall", "evalsha_ro", "eval_ro")


@dataclass
class Config:
    quick: bool
    subscribers: int = 400  # split evenly over the nodes (and over as many client processes)
    users: int = 20
    rounds: int = 3
    seconds: float = 5.0
    warmup: float = 2.0
    latency_rate: float = 50.0
    latency_seconds: float = 5.0
    # A busy room the subscribers' load generators still keep up with on this 2-core machine
    # (under a saturating publisher they do not: the machine is full and their lag dominates).
    busy_rate: float = 1000.0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, quick: bool) -> Config:
        if quick:
            return cls(
                quick=True, subscribers=200, users=10, rounds=1, seconds=3.0, warmup=1.0, latency_seconds=3.0
            )
        return cls(quick=False)


def pct(sorted_values: Any, p: float) -> float:
    if not len(sorted_values):
        return float("nan")
    return float(sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))])


# -- Redis -------------------------------------------------------------------------------------


class RedisProc:
    """A throw-away redis-server on a free loopback port: no RDB snapshots, no AOF."""

    def __init__(self, workdir: Path) -> None:
        import redis

        assert REDIS_SERVER is not None
        self.port = h.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = workdir / f"redis-{self.port}.log"
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--logfile",
                str(self.log_path),
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def sample(self, meta_key: str) -> tuple[dict[str, int], int]:
        """(calls per command so far, the room's seq) in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.info("commandstats")
        pipe.hget(meta_key, "s")
        stats, seq = pipe.execute()
        calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
        return calls, int(seq or 0)

    def close(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def command_delta(c0: dict[str, int], c1: dict[str, int]) -> dict[str, int]:
    """Commands run between two samples, less the sampling's own (one INFO, one HGET)."""
    d = {k: v - c0.get(k, 0) for k, v in c1.items()}
    d.pop("info", None)
    if "hget" in d:
        d["hget"] -= 1
    return {k: v for k, v in d.items() if v > 0}


# -- what each node says about its own fan-out --------------------------------------------------

FANOUT_METRIC = "pitchey_fanout_seconds"


def fanout_histogram(port: int) -> dict[str, float]:
    """The node's fan-out histogram from /metrics: cumulative bucket counts by upper bound (as
    text, "+Inf" included), with "sum" and "count"."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith(FANOUT_METRIC):
            continue
        name, _, value = line.rpartition(" ")
        if name.startswith(f"{FANOUT_METRIC}_bucket"):
            out[name.split('le="', 1)[1].split('"', 1)[0]] = float(value)
        elif name == f"{FANOUT_METRIC}_sum":
            out["sum"] = float(value)
        elif name == f"{FANOUT_METRIC}_count":
            out["count"] = float(value)
    return out


def room_events(port: int) -> float:
    """Room events this node has received so far (`pitchey_room_events`)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("pitchey_room_events_total "):
                return float(line.rpartition(" ")[2])
    return 0.0


def fanout_delta(h0: dict[str, float], h1: dict[str, float]) -> dict[str, float]:
    return {k: v - h0.get(k, 0.0) for k, v in h1.items()}


def fanout_summary(d: dict[str, float]) -> str:
    """Mean and the bucket holding the median of one node's fan-out waits over some windows."""
    n = d.get("count", 0.0)
    if n <= 0:
        return "no events"
    bounds = sorted((float(k), v) for k, v in d.items() if k not in ("sum", "count"))
    median = next((b for b, c in bounds if c >= n / 2), float("inf"))
    return f"mean {d['sum'] / n * 1e3:.2f} ms, median <= {median * 1e3:g} ms over {n:,.0f} events"


# -- a rig: nodes, subscribers, a publisher ------------------------------------------------------


class Rig:
    """`cfg.subscribers` subscribers of one pitch room, split over `nodes` (one load generator
    process per entry), and a publisher (the pitch's creator) on the first node."""

    def __init__(
        self,
        name: str,
        nodes: list[h.ServerProc],
        cfg: Config,
        pg: h.Postgres,
        redis: RedisProc | None = None,
    ) -> None:
        self.name = name
        self.nodes = nodes
        self.cfg = cfg
        self.pg = pg
        self.redis = redis
        self.subs: list[h.Client] = []
        self.pub: h.Client | None = None
        try:
            fx = h.pitchey_fixture(nodes[0], cfg.users)
            self.room: str = fx["room"]
            per = cfg.subscribers // len(nodes)
            for node in nodes:
                self.subs += h.spawn_clients(
                    "pitchey", node.port, per, 1, room=self.room, tokens=fx["tokens"]
                )
            ready = [c.wait("ready") for c in self.subs]
            self.ready = sum(r["ready"] for r in ready)
            if self.ready != per * len(nodes):
                raise RuntimeError(
                    f"{name}: {self.ready} of {per * len(nodes)} subscribers "
                    f"ready: {[r['fail_reasons'] for r in ready]}"
                )
            self.pub = h.Client(
                {
                    "proto": "pitchey",
                    "port": nodes[0].port,
                    "n": 1,
                    "role": "pub",
                    "room": self.room,
                    "tokens": [fx["creator"]],
                }
            )
            self.pub.wait("ready")
        except Exception:
            self.close()
            raise

    def pids(self) -> dict[str, list[int]]:
        pids: dict[str, list[int]] = {}
        for i, node in enumerate(self.nodes):
            key = f"node{'AB'[i]}" if len({n.pid for n in self.nodes}) > 1 else "node"
            pids.setdefault(key, []).append(node.pid)
        pids = {k: sorted(set(v)) for k, v in pids.items()}
        if self.redis is not None:
            pids["redis"] = [self.redis.pid]
        pids["clients"] = [c.pid for c in self.subs]
        pids["publisher"] = [self.pub.pid] if self.pub else []
        return pids

    def window(
        self, seconds: float, *, mode: str = "saturate", rate: float = 0.0, latency: bool = False
    ) -> dict[str, Any]:
        assert self.pub is not None
        now = time.time()
        t0 = now + self.cfg.warmup
        t1 = t0 + seconds
        self.pub.send(
            cmd="publish", mode=mode, window=SATURATE_WINDOW, rate=rate, start=now + 0.05, end=t1 + 0.3
        )
        for c in self.subs:
            c.send(
                cmd="window",
                start=t0,
                end=t1,
                latency=latency,
                read_interval=0.0 if latency else READ_INTERVAL,
            )
        meter = CpuMeter(self.pids(), {"postgres": lambda: pg_pids(self.pg)})
        per_client = [CpuMeter({"c": [c.pid]}) for c in self.subs]
        meta_key = f"pitchey:{{{self.room}}}:m"
        ports = sorted({n.port for n in self.nodes}, key=[n.port for n in self.nodes].index)
        time.sleep(max(0.0, t0 - time.time()))
        r0 = self.redis.sample(meta_key) if self.redis else None
        f0 = [fanout_histogram(p) for p in ports]
        meter.start()
        for m in per_client:
            m.start()
        time.sleep(max(0.0, t1 - time.time()))
        r1 = self.redis.sample(meta_key) if self.redis else None
        f1 = [fanout_histogram(p) for p in ports]
        cpu = meter.stop()
        cpu["max_client"] = max(m.stop()["c"] for m in per_client)
        results = [c.wait("window") for c in self.subs]
        published = self.pub.wait("published")
        frames = sum(r["frames"] for r in results)
        out: dict[str, Any] = {
            "frames": frames,
            "fps": frames / seconds,
            "seconds": seconds,
            "per_proc": [r["frames"] for r in results],
            "closed_in_window": sum(r["closed_in_window"] for r in results),
            "sent": published["sent"],
            "errors": published["errors"],
            "cpu": cpu,
            "load": h.loadavg(),
            "fanout": [fanout_delta(a, b) for a, b in zip(f0, f1, strict=True)],
        }
        if r0 is not None and r1 is not None:
            out["commands"] = command_delta(r0[0], r1[0])
            out["events"] = r1[1] - r0[1]
        else:
            out["events"] = frames / max(1, self.ready)
        if latency:
            lat: array.array[int] = array.array("q")
            out["lat_by_proc"] = []
            for r in results:
                pairs: array.array[int] = array.array("q")
                with open(r["lat_file"], "rb") as f:
                    pairs.frombytes(f.read())
                os.unlink(r["lat_file"])
                lat.extend(pairs[1::2])
                out["lat_by_proc"].append(pairs[1::2])
            out["lat"] = lat
        self.settle()
        return out

    def settle(self, quiet: float = 0.3, limit: float = 30.0) -> None:
        """Wait until the room stops receiving events: posts a rig could not keep up with are
        still queued after the publisher stopped, and would otherwise land in the next window."""
        port = self.nodes[-1].port
        deadline = time.monotonic() + limit
        last = room_events(port)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = room_events(port)
            if now == last:
                return
            last = now

    def close(self) -> None:
        h.close_all(self.subs, self.pub)


# -- the suite ---------------------------------------------------------------------------------


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    cfg = Config.make(quick)
    if notes is not None:
        cfg.notes = notes
    if REDIS_SERVER is None:
        cfg.notes.append(
            "cluster: redis-server is not installed (Debian package `redis-server`); suite skipped"
        )
        print(cfg.notes[-1], file=sys.stderr)
        return []
    h.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-cluster-"))
    pg = h.Postgres()
    servers: list[h.ServerProc] = []
    rigs: list[Rig] = []
    redis: RedisProc | None = None
    try:
        redis = RedisProc(workdir)
        secret = secrets.token_urlsafe(48)
        shared_db = pg.create_database()
        for _ in range(2):
            servers.append(
                h.start_pitchey(pg, workdir, DATABASE_URL=shared_db, REDIS_URL=redis.url, JWT_SECRET=secret)
            )
        single = h.start_pitchey(pg, workdir, JWT_SECRET=secret)
        servers.append(single)
        rigs.append(Rig("cluster", servers[:2], cfg, pg, redis))
        rigs.append(Rig("single", [single, single], cfg, pg))
        return _measure(cfg, rigs[0], rigs[1])
    finally:
        for rig in rigs:
            rig.close()
        for s in servers:
            s.stop()
        if redis is not None:
            redis.close()
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _log(rig: Rig, kind: str, w: dict[str, Any]) -> None:
    extra = ""
    if "lat" in w:
        s = sorted(w["lat"])
        extra = f" p50 {pct(s, 0.5) / 1e6:.2f} p99 {pct(s, 0.99) / 1e6:.2f} ms"
    if "commands" in w:
        extra += f" redis cmds/event {sum(w['commands'].values()) / max(1, w['events']):.2f}"
    print(
        f"cluster {rig.name:7s} {kind:10s} {w['fps']:9,.0f} frames/s events {w['events']:,.0f}"
        f"{extra} cpu {w['cpu']} load {w['load']}",
        file=sys.stderr,
        flush=True,
    )


def _measure(cfg: Config, cluster: Rig, single: Rig) -> list[Row]:
    rigs = (cluster, single)
    thr: dict[str, list[dict[str, Any]]] = {r.name: [] for r in rigs}
    lat: dict[str, list[dict[str, Any]]] = {r.name: [] for r in rigs}
    busy: dict[str, list[dict[str, Any]]] = {r.name: [] for r in rigs}
    fast: dict[str, list[dict[str, Any]]] = {r.name: [] for r in rigs}
    for _ in range(cfg.rounds):
        for rig in rigs:
            w = rig.window(cfg.seconds)
            _log(rig, "saturate", w)
            thr[rig.name].append(w)
        for rig in rigs:
            w = rig.window(cfg.latency_seconds, mode="rate", rate=cfg.latency_rate, latency=True)
            _log(rig, "latency", w)
            lat[rig.name].append(w)
        for rig in rigs:
            # Latency while the publisher saturates the room (every socket read at once, no
            # batching): where an event waits when posts queue up, per node.
            w = rig.window(cfg.latency_seconds, latency=True)
            _log(rig, "busy-lat", w)
            busy[rig.name].append(w)
        for rig in rigs:
            w = rig.window(cfg.latency_seconds, mode="rate", rate=cfg.busy_rate, latency=True)
            _log(rig, "fast-lat", w)
            fast[rig.name].append(w)

    fps = {k: statistics.median(w["fps"] for w in v) for k, v in thr.items()}
    eps = {k: statistics.median(w["events"] / w["seconds"] for w in v) for k, v in thr.items()}
    lats: dict[str, dict[str, float]] = {}
    for k, ws in lat.items():
        s = sorted(x for w in ws for x in w["lat"])
        lats[k] = {
            "n": len(s),
            "p50": pct(s, 0.5) / 1e6,
            "p99": pct(s, 0.99) / 1e6,
            "max": s[-1] / 1e6 if s else float("nan"),
        }
    busy_p50: dict[str, list[float]] = {}
    busy_p99: dict[str, list[float]] = {}
    for k, ws in busy.items():
        busy_p50[k], busy_p99[k] = [], []
        for i in range(len(ws[0]["lat_by_proc"])):
            s = sorted(x for w in ws for x in w["lat_by_proc"][i])
            busy_p50[k].append(pct(s, 0.5) / 1e6)
            busy_p99[k].append(pct(s, 0.99) / 1e6)
            where = f"node {'AB'[i]}" if k == "cluster" else f"client process {i + 1}"
            cfg.notes.append(
                f"cluster latency with a saturating publisher, {k}, {where}: p50 "
                f"{pct(s, 0.5) / 1e6:.1f} ms, p99 {pct(s, 0.99) / 1e6:.1f} ms "
                f"({statistics.median(w['events'] / w['seconds'] for w in ws):,.0f} events/s); "
                "other processes (% of one core) per window "
                + ", ".join(f"{w['cpu']['others']:.0f}" for w in ws)
            )
        for j in range(len(ws[0]["fanout"])):
            total: dict[str, float] = {}
            for w in ws:
                for key, v in w["fanout"][j].items():
                    total[key] = total.get(key, 0.0) + v
            where = f"node {'AB'[j]}" if k == "cluster" else "the node"
            cfg.notes.append(
                f"cluster wait inside {where} ({k}, saturating publisher), from having the event "
                f"to the last local subscriber queued: {fanout_summary(total)}"
            )
    fast_p50: dict[str, list[float]] = {}
    fast_p99: dict[str, list[float]] = {}
    for k, ws in fast.items():
        fast_p50[k], fast_p99[k] = [], []
        for i in range(len(ws[0]["lat_by_proc"])):
            s = sorted(x for w in ws for x in w["lat_by_proc"][i])
            fast_p50[k].append(pct(s, 0.5) / 1e6)
            fast_p99[k].append(pct(s, 0.99) / 1e6)
            where = f"node {'AB'[i]}" if k == "cluster" else f"client process {i + 1}"
            cfg.notes.append(
                f"cluster latency at {cfg.busy_rate:,.0f} events/s, {k}, {where}: p50 "
                f"{pct(s, 0.5) / 1e6:.2f} ms, p99 {pct(s, 0.99) / 1e6:.2f} ms "
                f"({statistics.median(w['events'] / w['seconds'] for w in ws):,.0f} events/s, "
                f"{len(s):,} deliveries); other processes (% of one core) per window "
                + ", ".join(f"{w['cpu']['others']:.0f}" for w in ws)
                + "; CPU of the last window: "
                + ", ".join(f"{g} {v:.0f}" for g, v in ws[-1]["cpu"].items())
            )
    busy_single = statistics.median(busy_p50["single"])
    busy_single99 = statistics.median(busy_p99["single"])
    # Redis cost per event: over every cluster window (throughput and latency alike).
    cmds_thr = _redis_cost(thr["cluster"])
    cmds_lat = _redis_cost(lat["cluster"])
    n = cfg.subscribers
    for k in thr:
        w = max(thr[k], key=lambda x: x["fps"])
        cpu = w["cpu"]
        cfg.notes.append(
            f"cluster throughput {k}: windows "
            + ", ".join(f"{x['fps']:,.0f}" for x in thr[k])
            + f" frames/s ({statistics.median(x['events'] / x['seconds'] for x in thr[k]):,.0f} "
            f"events/s); closed during windows {sum(x['closed_in_window'] for x in thr[k])}; "
            f"publisher errors {sum(x['errors'] for x in thr[k])}; frames per load generator "
            f"{w['per_proc']}; CPU of the best window (% of one core): "
            + ", ".join(f"{g} {v:.0f}" for g, v in cpu.items())
            + "; load average after each window: "
            + " / ".join(x["load"] for x in thr[k])
        )
        cpu = lat[k][-1]["cpu"]
        expected = cfg.latency_rate * cfg.latency_seconds * n * cfg.rounds
        by_proc = []
        for i in range(len(lat[k][0]["lat_by_proc"])):
            s = sorted(x for w in lat[k] for x in w["lat_by_proc"][i])
            where = f"node {'AB'[i]}" if k == "cluster" else f"client process {i + 1}"
            by_proc.append(f"{where} p50 {pct(s, 0.5) / 1e6:.2f} / p99 {pct(s, 0.99) / 1e6:.2f}")
        cfg.notes.append(
            f"cluster latency {k}: {lats[k]['n']:,} deliveries (expected ~{expected:,.0f}); "
            f"p50 {lats[k]['p50']:.2f} ms, p99 {lats[k]['p99']:.2f} ms, max "
            f"{lats[k]['max']:.1f} ms ({'; '.join(by_proc)} ms); p99 per window "
            + ", ".join(f"{pct(sorted(w['lat']), 0.99) / 1e6:.1f}" for w in lat[k])
            + " ms; CPU of the last window: "
            + ", ".join(f"{g} {v:.0f}" for g, v in cpu.items())
        )
    cfg.notes.append(
        "cluster frames/s ratio (2 nodes / 1 node) per round (paired windows): "
        + ", ".join(f"{c['fps'] / s['fps']:.2f}x" for c, s in zip(thr["cluster"], thr["single"], strict=True))
        + "; other processes on the machine (% of one core) in those windows: "
        + ", ".join(
            f"{c['cpu']['others']:.0f}/{s['cpu']['others']:.0f}"
            for c, s in zip(thr["cluster"], thr["single"], strict=True)
        )
    )
    for label, c in (("throughput", cmds_thr), ("50 events/s", cmds_lat)):
        top = sorted(c["per_event"].items(), key=lambda kv: -kv[1])[:10]
        cfg.notes.append(
            f"cluster Redis commands per event ({label} windows, {c['events']:,} events): "
            f"{c['total']:.2f} in all, {c['scripts']:.2f} script calls (EVALSHA: the client "
            f"round trips of publishing); by command: " + ", ".join(f"{k} {v:.2f}" for k, v in top)
        )
    both = "2 nodes via Redis"
    one = "1 node in process"
    split = f"{n // 2}+{n // 2}"
    rate = f"{cfg.latency_rate:.0f} events/s"
    busy = f"{cfg.busy_rate:,.0f} events/s"
    return [
        Row(
            SUITE,
            f"delivered frames/s, {n} subscribers ({split} on {both}), saturating publisher",
            fps["cluster"],
            "frames/s",
            f"{one}, {n} subscribers",
            fps["single"],
        ),
        Row(
            SUITE,
            "published events/s, saturating publisher (posts are serial per room)",
            eps["cluster"],
            "events/s",
            one,
            eps["single"],
        ),
        Row(
            SUITE,
            f"delivery latency p50, {n} subscribers, {rate}",
            lats["cluster"]["p50"],
            "ms",
            one,
            lats["single"]["p50"],
        ),
        Row(
            SUITE,
            f"delivery latency p99, {n} subscribers, {rate}",
            lats["cluster"]["p99"],
            "ms",
            one,
            lats["single"]["p99"],
        ),
        Row(
            SUITE,
            "delivery latency p50, saturating publisher: subscribers on the publisher's node (A)",
            busy_p50["cluster"][0],
            "ms",
            one,
            busy_single,
        ),
        Row(
            SUITE,
            "delivery latency p50, saturating publisher: subscribers on the other node (B)",
            busy_p50["cluster"][1],
            "ms",
            one,
            busy_single,
        ),
        Row(
            SUITE,
            "delivery latency p99, saturating publisher: subscribers on the publisher's node (A)",
            busy_p99["cluster"][0],
            "ms",
            one,
            busy_single99,
        ),
        Row(
            SUITE,
            "delivery latency p99, saturating publisher: subscribers on the other node (B)",
            busy_p99["cluster"][1],
            "ms",
            one,
            busy_single99,
        ),
        # Issue 16: the publisher's node no slower than the other (same windows, same events).
        Row(
            SUITE,
            "delivery latency p50, saturating publisher: publisher's node (A) against the other (B)",
            busy_p50["cluster"][0],
            "ms",
            "node B, same windows",
            busy_p50["cluster"][1],
            "<= 1.0x",
            busy_p50["cluster"][0] <= busy_p50["cluster"][1],
        ),
        Row(
            SUITE,
            f"delivery latency p50, {busy}: subscribers on the publisher's node (A)",
            fast_p50["cluster"][0],
            "ms",
            one,
            statistics.median(fast_p50["single"]),
        ),
        Row(
            SUITE,
            f"delivery latency p50, {busy}: subscribers on the other node (B)",
            fast_p50["cluster"][1],
            "ms",
            one,
            statistics.median(fast_p50["single"]),
        ),
        Row(
            SUITE,
            f"delivery latency p99, {busy}: subscribers on the publisher's node (A)",
            fast_p99["cluster"][0],
            "ms",
            one,
            statistics.median(fast_p99["single"]),
        ),
        Row(
            SUITE,
            f"delivery latency p99, {busy}: subscribers on the other node (B)",
            fast_p99["cluster"][1],
            "ms",
            one,
            statistics.median(fast_p99["single"]),
        ),
        Row(
            SUITE,
            f"delivery latency p50, {busy}: publisher's node (A) against the other (B)",
            fast_p50["cluster"][0],
            "ms",
            "node B, same windows",
            fast_p50["cluster"][1],
            "<= 1.0x",
            fast_p50["cluster"][0] <= fast_p50["cluster"][1],
        ),
        Row(
            SUITE,
            "Redis commands per published event (saturating; incl. inside Lua)",
            cmds_thr["total"],
            "cmds",
        ),
        Row(
            SUITE,
            "Redis script calls (round trips) per published event (saturating)",
            cmds_thr["scripts"],
            "calls",
        ),
        Row(
            SUITE,
            f"Redis commands per delivered frame (saturating, {n} subscribers)",
            cmds_thr["total"] / n,
            "cmds",
        ),
        Row(
            SUITE, f"Redis commands per published event ({rate}; incl. background)", cmds_lat["total"], "cmds"
        ),
    ]


def _redis_cost(windows: list[dict[str, Any]]) -> dict[str, Any]:
    events = sum(w["events"] for w in windows)
    total: dict[str, int] = {}
    for w in windows:
        for k, v in w["commands"].items():
            total[k] = total.get(k, 0) + v
    per = {k: v / max(1, events) for k, v in total.items()}
    return {
        "events": events,
        "per_event": per,
        "total": sum(per.values()),
        "scripts": sum(v for k, v in per.items() if k in SCRIPT_COMMANDS),
    }


if __name__ == "__main__":
    notes: list[str] = []
    table = format_table(run("--quick" in sys.argv, notes=notes))
    print(table)
    print()
    print("\n".join(f"- {n}" for n in notes))
