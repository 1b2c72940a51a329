"""Real-socket suites: fan-out, latency, idle connections and a slow consumer.

Each figure of pitchey is measured against baselines started in the same run, driven by the same
load generator (bench/loadgen.py), over the same number of sockets and the same event size:

* ``aiohttp``  - bench/baseline_aiohttp.py, a bare broadcast loop of ``await ws.send_str(text)``;
* ``socketio`` - bench/baseline_socketio.py, python-socketio's room emit.

Servers of one workload (a "rig": server, subscriber load generators, publisher) stay up for the
whole suite and their measurement windows are interleaved round-robin, so a burst of unrelated load
on the machine hits every server alike instead of one.
"""

from __future__ import annotations

import array
import http.client
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.common import Row

SATURATE_WINDOW = 32  # publisher messages in flight (sent, own echo not yet received)
SLOW_PAD = 2000  # extra characters per message in the slow-consumer suite
READ_INTERVAL = 0.02  # subscribers read in batches every 20 ms in throughput windows


@dataclass
class Config:
    quick: bool
    subscribers: int = 1000
    client_procs: int = 2
    users: int = 20
    fanout_rounds: int = 3
    fanout_seconds: float = 5.0
    warmup: float = 2.0
    latency_rounds: int = 3
    latency_seconds: float = 5.0
    latency_rate: float = 50.0
    connections: int = 10_000
    connection_users: int = 100
    slow_seconds: float = 20.0
    quiet_wait: float = 10.0  # before a window, wait up to this long for other users' load to drop
    notes: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, quick: bool) -> Config:
        if quick:
            return cls(
                quick=True,
                subscribers=100,
                users=5,
                fanout_rounds=1,
                fanout_seconds=3.0,
                warmup=1.0,
                latency_rounds=1,
                latency_seconds=3.0,
                connections=1000,
                connection_users=10,
                slow_seconds=6.0,
                quiet_wait=3.0,
            )
        return cls(quick=False)


def pct(sorted_values: Sequence[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return float(sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))])


class Rig:
    """A server under test with `n` subscribers of one room and one publisher (also a member)."""

    def __init__(self, proto: str, cfg: Config, pg: h.Postgres, workdir: Path, **env: str) -> None:
        self.proto = proto
        self.cfg = cfg
        self.pg = pg
        self.subs: list[h.Client] = []
        self.pub: h.Client | None = None
        if proto == "pitchey":
            self.server = h.start_pitchey(pg, workdir, **env)
        else:
            self.server = h.start_baseline(proto, workdir)
        try:
            room = tokens = pub_tokens = None
            if proto == "pitchey":
                fx = h.pitchey_fixture(self.server, cfg.users)
                room, tokens, pub_tokens = fx["room"], fx["tokens"], [fx["creator"]]
            self.subs = h.spawn_clients(
                proto, self.server.port, cfg.subscribers, cfg.client_procs, room=room, tokens=tokens
            )
            ready = [c.wait("ready") for c in self.subs]
            self.ready = sum(r["ready"] for r in ready)
            failed = sum(r["failed"] for r in ready)
            if failed or self.ready != cfg.subscribers:
                raise RuntimeError(
                    f"{proto}: {self.ready} of {cfg.subscribers} subscribers "
                    f"ready, failures {[r['fail_reasons'] for r in ready]}"
                )
            self.pub = h.Client(
                {
                    "proto": proto,
                    "port": self.server.port,
                    "n": 1,
                    "role": "pub",
                    "room": room,
                    "tokens": pub_tokens,
                }
            )
            self.pub.wait("ready")
        except Exception:
            self.close()
            raise

    def pids(self) -> dict[str, list[int]]:
        pids = {
            "server": [self.server.pid],
            "clients": [c.pid for c in self.subs],
            "publisher": [self.pub.pid] if self.pub else [],
        }
        if self.proto == "pitchey":
            pids["postgres"] = self.pg.pids()
        return pids

    def window(
        self,
        seconds: float,
        *,
        mode: str = "saturate",
        rate: float = 0.0,
        pace: str = "echo",
        window: int = SATURATE_WINDOW,
        pad: int = 0,
        latency: bool = False,
        warmup: float | None = None,
        sample_rss: bool = False,
    ) -> dict[str, Any]:
        assert self.pub is not None
        warm = self.cfg.warmup if warmup is None else warmup
        if self.cfg.quiet_wait:
            h.wait_quiet(max_wait=self.cfg.quiet_wait)
        now = time.time()
        t0 = now + warm
        t1 = t0 + seconds
        self.pub.send(
            cmd="publish",
            mode=mode,
            window=window,
            rate=rate,
            pace=pace,
            pad=pad,
            start=now + 0.05,
            end=t1 + 0.3,
        )
        for c in self.subs:
            c.send(
                cmd="window",
                start=t0,
                end=t1,
                latency=latency,
                read_interval=0.0 if latency else READ_INTERVAL,
            )
        meter = h.CpuMeter(self.pids())
        per_client = [h.CpuMeter({"c": [c.pid]}) for c in self.subs]
        time.sleep(max(0.0, t0 - time.time()))
        for m in (meter, *per_client):
            m.start()
        rss: list[int] = [self.server.rss()]
        while time.time() < t1:
            time.sleep(min(0.5, max(0.0, t1 - time.time())))
            if sample_rss:
                rss.append(self.server.rss())
        cpu = meter.stop()
        cpu["max_client"] = max(m.stop()["c"] for m in per_client)
        rss.append(self.server.rss())
        results = [c.wait("window") for c in self.subs]
        published = self.pub.wait("published")
        frames = sum(r["frames"] for r in results)
        out: dict[str, Any] = {
            "frames": frames,
            "fps": frames / seconds,
            "payload": (sum(r["bytes"] for r in results) / frames) if frames else 0.0,
            "open": sum(r["open"] for r in results),
            "closed_in_window": sum(r["closed_in_window"] for r in results),
            "sent": published["sent"],
            "errors": published["errors"],
            "acked": published["acked"],
            "cpu": cpu,
            "rss": rss,
            "seconds": seconds,
        }
        if latency:
            pairs: array.array[int] = array.array("q")
            for r in results:
                with open(r["lat_file"], "rb") as f:
                    pairs.frombytes(f.read())
                os.unlink(r["lat_file"])
            out["lat"] = pairs[1::2]
            # Per event: the first delivery's latency is the delay before fan-out began (parse,
            # storage, scheduling); the rest of an event's spread is the fan-out itself.
            first: dict[int, int] = {}
            for sent, lat in zip(pairs[0::2], pairs[1::2], strict=True):
                if lat < first.get(sent, 1 << 62):
                    first[sent] = lat
            out["first"] = array.array("q", first.values())
        return out

    def close(self) -> None:
        h.close_all(self.subs, self.pub)
        self.server.stop()


def _cpu_note(name: str, w: dict[str, Any]) -> str:
    cpu = w["cpu"]
    parts = [f"server {cpu['server']:.0f}%"]
    if "postgres" in cpu:
        parts.append(f"postgres {cpu['postgres']:.0f}%")
    parts.append(f"subscriber load generators {cpu['clients']:.0f}% total (busiest {cpu['max_client']:.0f}%)")
    parts.append(f"publisher {cpu['publisher']:.0f}%")
    parts.append(f"other users' processes {cpu['others']:.0f}% (of 200%)")
    return f"{name}: " + ", ".join(parts)


class Rigs:
    """Rigs shared by the suites of one run (fan-out, latency and slow consumer reuse them)."""

    def __init__(self, cfg: Config, pg: h.Postgres, workdir: Path) -> None:
        self.cfg, self.pg, self.workdir = cfg, pg, workdir
        self._rigs: dict[str, Rig] = {}

    def get(self, proto: str) -> Rig:
        if proto not in self._rigs:
            self._rigs[proto] = Rig(proto, self.cfg, self.pg, self.workdir)
        return self._rigs[proto]

    def drop(self, proto: str) -> None:
        rig = self._rigs.pop(proto, None)
        if rig is not None:
            rig.close()

    def close(self) -> None:
        for proto in list(self._rigs):
            self.drop(proto)


# -- fan-out -----------------------------------------------------------------------------------


def fanout(cfg: Config, rigs: Rigs) -> list[Row]:
    protos = ("pitchey", "aiohttp", "socketio")
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in protos}
    for p in protos:
        rigs.get(p)
    for _ in range(cfg.fanout_rounds):
        for p in protos:
            runs[p].append(rigs.get(p).window(cfg.fanout_seconds))
    med = {p: statistics.median(w["fps"] for w in runs[p]) for p in protos}
    # Frames per second of server CPU: how much work each server does per frame, whatever share
    # of the machine it got (other users' load on this shared machine shifts frames/s, not this).
    eff = {
        p: statistics.median(w["fps"] / max(1e-3, w["cpu"]["server"] / 100) for w in runs[p]) for p in protos
    }
    n = cfg.subscribers
    for p in protos:
        w = max(runs[p], key=lambda w: w["fps"])
        each = ", ".join(f"{x['fps']:,.0f}" for x in runs[p])
        others = ", ".join(f"{x['cpu']['others']:.0f}%" for x in runs[p])
        cfg.notes.append(
            f"fan-out {p}: windows {each} frames/s (other users' processes {others} of 200%); "
            f"event payload {w['payload']:.0f} B; {w['frames'] / w['seconds'] / n:,.0f} events/s "
            f"delivered; closed during windows {sum(x['closed_in_window'] for x in runs[p])}; "
            f"best window: " + _cpu_note("CPU", w).removeprefix("CPU: ")
        )
    name = f"delivered frames/s, {n:,} subscribers, 1 saturating publisher"
    per_cpu = "frames per server CPU-second (same windows)"
    return [
        Row(
            "fanout",
            name,
            med["pitchey"],
            "frames/s",
            "bare aiohttp send_str",
            med["aiohttp"],
            ">= 1.0x",
            med["pitchey"] >= med["aiohttp"],
        ),
        Row(
            "fanout",
            name,
            med["pitchey"],
            "frames/s",
            "python-socketio room emit",
            med["socketio"],
            ">= 3x",
            med["pitchey"] >= 3 * med["socketio"],
        ),
        Row("fanout", per_cpu, eff["pitchey"], "frames/s", "bare aiohttp send_str", eff["aiohttp"]),
        Row("fanout", per_cpu, eff["pitchey"], "frames/s", "python-socketio room emit", eff["socketio"]),
    ]


# -- latency -----------------------------------------------------------------------------------


def latency(cfg: Config, rigs: Rigs) -> list[Row]:
    protos = ("pitchey", "aiohttp")
    lat: dict[str, array.array[int]] = {p: array.array("q") for p in protos}
    first_lat: dict[str, array.array[int]] = {p: array.array("q") for p in protos}
    for p in protos:
        rigs.get(p)
    windows: dict[str, list[dict[str, Any]]] = {p: [] for p in protos}
    for _ in range(cfg.latency_rounds):
        for p in protos:
            w = rigs.get(p).window(cfg.latency_seconds, mode="rate", rate=cfg.latency_rate, latency=True)
            lat[p].extend(w.pop("lat"))
            first_lat[p].extend(w.pop("first"))
            windows[p].append(w)
    stats: dict[str, dict[str, float]] = {}
    for p in protos:
        s = sorted(lat[p])
        stats[p] = {
            "n": len(s),
            "p50": pct(s, 0.50) / 1e6,
            "p99": pct(s, 0.99) / 1e6,
            "max": (s[-1] / 1e6) if s else float("nan"),
        }
        w = windows[p][-1]
        expected = cfg.latency_rate * cfg.latency_seconds * cfg.subscribers * cfg.latency_rounds
        first = sorted(first_lat[p])
        others = ", ".join(f"{x['cpu']['others']:.0f}%" for x in windows[p])
        cfg.notes.append(
            f"latency {p}: {stats[p]['n']:,} deliveries (expected ~{expected:,.0f}); "
            f"p50 {stats[p]['p50']:.2f} ms, p99 {stats[p]['p99']:.2f} ms, "
            f"max {stats[p]['max']:.1f} ms; first delivery of each event (the delay before "
            f"fan-out starts) p50 {pct(first, 0.5) / 1e6:.2f} ms, p99 {pct(first, 0.99) / 1e6:.2f}"
            f" ms; other users' processes {others} of 200%; last window: "
            + _cpu_note("CPU", w).removeprefix("CPU: ")
        )
    n = cfg.subscribers
    rate = f"{cfg.latency_rate:.0f} events/s"
    base = "bare aiohttp send_str"
    ps, pa = stats["pitchey"], stats["aiohttp"]
    return [
        Row(
            "latency", f"publish-to-delivery p50, {n:,} subscribers, {rate}", ps["p50"], "ms", base, pa["p50"]
        ),
        Row(
            "latency",
            f"publish-to-delivery p99, {n:,} subscribers, {rate}",
            ps["p99"],
            "ms",
            base,
            pa["p99"],
            "<= 1.5x",
            ps["p99"] <= 1.5 * pa["p99"],
        ),
    ]


# -- slow consumer -----------------------------------------------------------------------------


def _metric(port: int, name: str) -> float:
    """One sample of pitchey's Prometheus metrics (served to loopback)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return float("nan")


def slow_consumer(cfg: Config, rigs: Rigs) -> list[Row]:
    """One subscriber stops reading; the others' throughput and the server's RSS are watched.

    Runs on the pitchey rig last (it leaves one subscriber closed): first a window with everyone
    reading (the baseline, same sockets, same run), then the same workload with one stalled.
    """
    rig = rigs.get("pitchey")
    # 2 KB messages, so the stalled socket fills the kernel's buffers and then the session's
    # send buffer (PITCHEY_WS_SEND_BUFFER, 1 MB) within the window, as a real stall would.
    before = rig.window(cfg.fanout_seconds, sample_rss=True, pad=SLOW_PAD)
    closes0 = _metric(rig.server.port, "pitchey_slow_consumer_closes_total")
    conns0 = _metric(rig.server.port, "pitchey_ws_connections")
    rig.subs[0].send(cmd="stall", count=1)
    stalled = rig.window(cfg.slow_seconds, sample_rss=True, warmup=0.5, pad=SLOW_PAD)
    closes = _metric(rig.server.port, "pitchey_slow_consumer_closes_total") - closes0
    dropped = conns0 - _metric(rig.server.port, "pitchey_ws_connections")
    rig.subs[0].send(cmd="unstall")
    report = rig.subs[0].wait("unstalled")["conns"][0]
    per_before = before["fps"] / max(1, before["open"])
    per_stalled = stalled["fps"] / max(1, stalled["open"])
    growth = (max(stalled["rss"]) - stalled["rss"][0]) / 2**20
    growth_before = (max(before["rss"]) - before["rss"][0]) / 2**20
    closed = report["close_code"]
    cfg.notes.append(
        f"slow consumer ({before['payload']:,.0f} B events): {stalled['open']} of "
        f"{cfg.subscribers} kept reading; the stalled socket "
        f"had {report['bytes_buffered'] / 2**20:.1f} MB waiting in kernel buffers when read "
        f"again (close frame seen: {closed if closed is not None else 'none'}); the server "
        f"counted {closes:.0f} slow-consumer close(s) (4009) and {dropped:.0f} session(s) gone "
        f"during the stalled window"
        + (
            ""
            if dropped <= closes
            else " (gone without a 4009: closed by the 10 s WebSocket heartbeat, which got no pong)"
        )
        + "; "
        f"server RSS {stalled['rss'][0] / 2**20:.0f} MB at start of the stalled window, max "
        f"{max(stalled['rss']) / 2**20:.0f} MB (no-stall window grew {growth_before:.1f} MB); "
        f"windows {before['fps']:,.0f} vs {stalled['fps']:,.0f} frames/s"
    )
    rigs.drop("pitchey")
    return [
        Row(
            "slow",
            "frames/s per reading subscriber, 1 of them stalled",
            per_stalled,
            "frames/s",
            "same rig, nobody stalled",
            per_before,
            ">= 0.9x",
            per_stalled >= 0.9 * per_before,
        ),
        Row(
            "slow",
            f"server RSS growth over {cfg.slow_seconds:.0f} s with a stalled client",
            growth,
            "MB",
            "same rig, nobody stalled",
            growth_before,
            "flat (<= 2 MB, the 1 MB send buffer + noise)",
            growth <= 2.0,
        ),
    ]


# -- idle connections --------------------------------------------------------------------------


def _open_idle(
    server: h.ServerProc, proto: str, n: int, procs: int, tokens: list[str] | None
) -> dict[str, Any]:
    # Warm the server's code paths first, so the RSS baseline is a server that has served.
    warm = h.spawn_clients(proto, server.port, 50, 1, tokens=tokens)
    warm[0].wait("ready")
    h.close_all(warm)
    time.sleep(1.0)
    rss0 = server.rss()
    start_at = time.time() + 1.0
    clients = h.spawn_clients(proto, server.port, n, procs, tokens=tokens, concurrency=64, start_at=start_at)
    try:
        cpu = h.CpuMeter({"server": [server.pid], "clients": [c.pid for c in clients]})
        time.sleep(max(0.0, start_at - time.time()))
        cpu.start()
        ready = [c.wait("ready", timeout=600) for c in clients]
        used = cpu.stop()
        seconds = max(r["finished_at"] for r in ready) - start_at
        ok = sum(r["ready"] for r in ready)
        if ok != n:
            raise RuntimeError(
                f"{proto}: {ok} of {n} idle sessions opened: {[r['fail_reasons'] for r in ready]}"
            )
        time.sleep(3.0)  # let the server settle (heartbeat timers armed, buffers released)
        rss1 = server.rss()
        for c in clients:
            c.send(cmd="stats")
        still = sum(c.wait("stats")["open"] for c in clients)
    finally:
        h.close_all(clients)
    return {
        "seconds": seconds,
        "per_session": (rss1 - rss0) / n,
        "rss0": rss0,
        "rss1": rss1,
        "open_after": still,
        "cpu": used,
    }


def connections(cfg: Config, pg: h.Postgres, workdir: Path) -> list[Row]:
    n = cfg.connections
    res: dict[str, dict[str, Any]] = {}
    server = h.start_pitchey(pg, workdir)
    try:
        fx = h.pitchey_fixture(server, cfg.connection_users)
        res["pitchey"] = _open_idle(server, "pitchey", n, cfg.client_procs, fx["tokens"])
    finally:
        server.stop()
    server = h.start_baseline("aiohttp", workdir)
    try:
        res["aiohttp"] = _open_idle(server, "aiohttp", n, cfg.client_procs, None)
    finally:
        server.stop()
    for p, r in res.items():
        cfg.notes.append(
            f"connections {p}: RSS {r['rss0'] / 2**20:.0f} -> {r['rss1'] / 2**20:.0f} MB for "
            f"{n:,} sessions ({r['open_after']:,} still open after settling); opening took "
            f"{r['seconds']:.1f} s at server CPU {r['cpu']['server']:.0f}%, clients "
            f"{r['cpu']['clients']:.0f}%"
        )
    ps, pa = res["pitchey"], res["aiohttp"]
    users = f"{cfg.connection_users} users"
    return [
        Row(
            "connections",
            f"server memory per idle session ({n:,}, {users}, user room joined)",
            ps["per_session"] / 1024,
            "KB",
            "bare aiohttp idle socket",
            pa["per_session"] / 1024,
            "<= 1.2x",  # issue 16 (was 1.5x)
            ps["per_session"] <= 1.2 * pa["per_session"],
        ),
        Row(
            "connections",
            f"time to open {n:,} sessions (2 clients x 64 handshakes in flight)",
            ps["seconds"],
            "s",
            "bare aiohttp",
            pa["seconds"],
            "<= 1.2x",  # issue 16
            ps["seconds"] <= 1.2 * pa["seconds"],
        ),
    ]
