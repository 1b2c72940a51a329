"""Suite `scaling`: how the cost of one room grows with its subscribers (issue 16).

For each subscriber count N in 10, 100, 1,000, 10,000 (`--quick`: up to 1,000) a pitchey server
and the bare aiohttp broadcast baseline (bench/baseline_aiohttp.py) are started with N subscribers
of one room plus one publisher, driven by bench/loadgen.py exactly as the fanout suite drives
them (bench/bench_realtime.py), and measured in turn:

* delivered frames/s under a saturating publisher (32 messages in flight);
* server CPU-microseconds per delivered frame in the same window (the figure least disturbed by
  other users of this shared machine);
* publish-to-delivery p99 at a paced rate: 50 events/s, lowered to 50,000 / N events/s for large
  rooms so that every size is asked for the same order of frames/s (10,000 subscribers: 5/s);
* server RSS after the windows, above the RSS of the server before its subscribers connected.

Rows give each N's figures against the baseline's at the same N; the notes give the curve, and
with matplotlib installed (`pip install matplotlib`) a PNG chart is written to
`docs/bench-scaling.png` (`BENCH_SCALING_PNG` overrides the path).

Then the catalog as the pitch table grows, 1,000 to 100,000 pitches (bench/bench_catalog.py:
browse, search and trending latency through `PitchStore`, and their query plans).

Then many rooms: 10, 100, 1,000, 10,000 active rooms of 10 subscribers each (`--quick`: up to
1,000), one event/s per room, pitchey against bench/baseline_aiohttp_rooms.py (rooms as sets of
sockets): N sockets each subscribed to 10 rooms (10,000 rooms x 10 one-room sockets would need
100,000 sockets, beyond the 20,000 open files of this machine), one publisher that is a member of
every room posting to them in turn at N events/s (pitchey: the rooms' creator; each post is
stored). One 5 s window per size: delivered frames/s (10 N asked), server CPU-us per delivered
frame, p50/p99 publish-to-delivery latency, server RSS; chart `docs/bench-scaling-rooms.png`.

The catalog part also measures REST req/s and p99 through the real server with the read cache
bypassed (bench/bench_catalog.py, bench/pitchey_cold.py).

`BENCH_SCALING_PARTS=room,rooms,catalog` (the default: all) runs only some parts.

    python -m bench --only scaling
    python -m bench.bench_scaling [--quick]
"""

from __future__ import annotations

import array
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench import harness as h
from bench.bench_realtime import Config, Rig, pct
from bench.common import Row

SIZES = (10, 100, 1_000, 10_000)
QUICK_SIZES = (10, 100, 1_000)
PROTOS = ("pitchey", "aiohttp")


def _rate(n: int) -> float:
    return min(50.0, 50_000.0 / n)


def _measure(cfg: Config, pg: h.Postgres, workdir: Path, n: int, seconds: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for proto in PROTOS:
        cfg.subscribers = n
        cfg.users = max(5, n // 100)
        cfg.client_procs = 1 if n <= 100 else 2
        rig = Rig(proto, cfg, pg, workdir)
        try:
            thr = rig.window(seconds)
            lat_w = rig.window(seconds, mode="rate", rate=_rate(n), latency=True)
            lat = sorted(lat_w.pop("lat"))
            frames = thr["frames"]
            cpu_s = thr["cpu"]["server"] / 100 * thr["seconds"]
            out[proto] = {
                "fps": thr["fps"],
                "us_per_frame": (cpu_s * 1e6 / frames) if frames else float("nan"),
                "p99": pct(lat, 0.99) / 1e6,
                "p50": pct(lat, 0.50) / 1e6,
                "rss": max(thr["rss"] + lat_w["rss"]),
                "others": thr["cpu"]["others"],
                "server_cpu": thr["cpu"]["server"],
                "deliveries": len(lat),
            }
        finally:
            rig.close()
    return out


# -- many rooms ----------------------------------------------------------------------------------

ROOM_SIZES = (10, 100, 1_000, 10_000)
QUICK_ROOM_SIZES = (10, 100, 1_000)
PER_ROOM = 10  # subscribers of each room, and rooms each socket subscribes to


class RoomsRig:
    """`n` rooms of PER_ROOM subscribers on one server: n sockets, each in PER_ROOM rooms (so the
    server holds as many sockets as rooms: 10,000 rooms of 10 would otherwise need 100,000 sockets,
    beyond this machine's 20,000 open files), and one publisher that is a member of every room and
    posts to them in turn, `n` events/s in all (one per room per second)."""

    def __init__(self, proto: str, n: int, cfg: Config, pg: h.Postgres, workdir: Path) -> None:
        self.proto, self.n, self.cfg, self.pg = proto, n, cfg, pg
        self.subs: list[h.Client] = []
        self.pub: h.Client | None = None
        t0 = time.monotonic()
        if proto == "pitchey":
            dsn = pg.create_database()
            # The publisher is a member of every room; the default cap is 200 rooms per socket.
            self.server = h.start_pitchey(
                pg, workdir, DATABASE_URL=dsn, PITCHEY_WS_MAX_SUBSCRIPTIONS=str(n + 10)
            )
        else:
            port = h.free_port()
            argv = [sys.executable, "-m", "bench.baseline_aiohttp_rooms", str(port)]
            self.server = h.ServerProc("rooms", argv, dict(os.environ), port, workdir)
        try:
            self.rss0 = self.server.rss()
            tokens = pub_tokens = None
            if proto == "pitchey":
                fx = h.pitchey_fixture(self.server, max(5, n // 100))
                rooms = [fx["room"], *asyncio.run(_more_pitches(dsn, fx["creator_id"], n - 1))]
                tokens, pub_tokens = fx["tokens"], [fx["creator"]]
            else:
                rooms = [f"room:{i}" for i in range(n)]
            procs = 1 if n <= 100 else 2
            per = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
            offset = 0
            for k in per:
                self.subs.append(
                    h.Client(
                        {
                            "proto": proto,
                            "port": self.server.port,
                            "n": k,
                            "role": "sub",
                            "rooms": rooms,
                            "per_conn": min(PER_ROOM, n),
                            "tokens": tokens,
                            "token_offset": offset,
                            "concurrency": 64,
                        }
                    )
                )
                offset += k
            ready = [c.wait("ready") for c in self.subs]
            got = sum(r["ready"] for r in ready)
            if got != n:
                raise RuntimeError(
                    f"{proto} rooms: {got} of {n} sockets ready, {[r['fail_reasons'] for r in ready]}"
                )
            self.pub = h.Client(
                {
                    "proto": proto,
                    "port": self.server.port,
                    "n": 1,
                    "role": "pub",
                    "rooms": rooms,
                    "per_conn": n,
                    "tokens": pub_tokens,
                }
            )
            self.pub.wait("ready")
            self.setup_s = time.monotonic() - t0
        except Exception:
            self.close()
            raise

    def window(self, seconds: float) -> dict[str, Any]:
        assert self.pub is not None
        if self.cfg.quiet_wait:
            h.wait_quiet(max_wait=self.cfg.quiet_wait)
        now = time.time()
        t0 = now + self.cfg.warmup
        t1 = t0 + seconds
        self.pub.send(
            cmd="publish",
            mode="rate",
            rate=float(self.n),
            window=0,
            pace="echo",
            pad=0,
            start=now + 0.05,
            end=t1 + 0.3,
        )
        for c in self.subs:
            c.send(cmd="window", start=t0, end=t1, latency=True, read_interval=0.0)
        pids = {
            "server": [self.server.pid],
            "clients": [c.pid for c in self.subs],
            "publisher": [self.pub.pid],
        }
        if self.proto == "pitchey":
            pids["postgres"] = self.pg.pids()
        meter = h.CpuMeter(pids)
        time.sleep(max(0.0, t0 - time.time()))
        meter.start()
        rss = [self.server.rss()]
        while time.time() < t1:
            time.sleep(min(0.5, max(0.0, t1 - time.time())))
            rss.append(self.server.rss())
        cpu = meter.stop()
        results = [c.wait("window") for c in self.subs]
        published = self.pub.wait("published")
        lat: array.array[int] = array.array("q")
        for r in results:
            with open(r["lat_file"], "rb") as f:
                lat.frombytes(f.read())
            os.unlink(r["lat_file"])
        frames = sum(r["frames"] for r in results)
        return {
            "frames": frames,
            "fps": frames / seconds,
            "sent": published["sent"],
            "errors": published["errors"],
            "error_codes": published.get("error_codes", {}),
            "cpu": cpu,
            "rss": max(rss),
            "rss0": self.rss0,
            "lat": sorted(lat[1::2]),
            "seconds": seconds,
        }

    def close(self) -> None:
        h.close_all(self.subs, self.pub)
        self.server.stop()


async def _more_pitches(dsn: str, creator_id: int, count: int) -> list[str]:
    """More published pitches of the fixture's creator, one per room (SQL: the REST write limit
    would take minutes over 10,000 of them)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """INSERT INTO pitches (user_id, title, status)
               SELECT $1, 'Room ' || g, 'published' FROM generate_series(1, $2) g RETURNING id""",
            creator_id,
            count,
        )
    finally:
        await conn.close()
    return [f"pitch:{r['id']}" for r in rows]


def _many_rooms(
    cfg: Config, pg: h.Postgres, workdir: Path, n: int, seconds: float
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for proto in ("pitchey", "rooms"):
        rig = RoomsRig(proto, n, cfg, pg, workdir)
        try:
            w = rig.window(seconds)
        finally:
            rig.close()
        frames = w["frames"]
        cpu_s = w["cpu"]["server"] / 100 * seconds
        out["pitchey" if proto == "pitchey" else "aiohttp"] = {
            "fps": w["fps"],
            "expected": n * PER_ROOM,
            "us_per_frame": (cpu_s * 1e6 / frames) if frames else float("nan"),
            "p99": pct(w["lat"], 0.99) / 1e6,
            "p50": pct(w["lat"], 0.50) / 1e6,
            "rss": w["rss"],
            "rss_subs": w["rss"] - w["rss0"],
            "server_cpu": w["cpu"]["server"],
            "postgres_cpu": w["cpu"].get("postgres", 0.0),
            "clients_cpu": w["cpu"]["clients"],
            "others": w["cpu"]["others"],
            "sent": w["sent"] / (seconds + cfg.warmup + 0.25),
            "errors": w["errors"],
            "error_codes": w["error_codes"],
            "publisher_cpu": w["cpu"]["publisher"],
            "setup_s": rig.setup_s,
        }
    return out


def _chart(
    curves: dict[int, dict[str, dict[str, Any]]],
    path: Path,
    xlabel: str = "subscribers of one room",
    log_y: bool = False,
) -> str:
    """Four panels against N (log x); `log_y` for the frames/s and latency panels (the many-rooms
    curves span four decades). Curves with an "expected" figure also get the frames/s asked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "scaling: matplotlib is not installed; no chart written"
    sizes = sorted(curves)
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.2))
    for ax, key, label, scale in (
        (axes[0], "fps", "delivered frames/s", 1.0),
        (axes[1], "us_per_frame", "server CPU-us per delivered frame", 1.0),
        (axes[2], "p99", "p99 delivery latency (ms), paced", 1.0),
        (axes[3], "rss", "server RSS (MB)", 1e-6),
    ):
        for proto in PROTOS:
            ax.plot(sizes, [curves[n][proto][key] * scale for n in sizes], marker="o", label=proto)
        if key == "fps" and all("expected" in curves[n]["pitchey"] for n in sizes):
            asked = [curves[n]["pitchey"]["expected"] for n in sizes]
            ax.plot(sizes, asked, linestyle="--", color="grey", label="asked")
        ax.set_xscale("log")
        if log_y and key in ("fps", "p99"):
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"scaling: chart written to {path}"


def _rooms_rows(cfg: Config, curves: dict[int, dict[str, dict[str, Any]]]) -> list[Row]:
    rows: list[Row] = []
    base = "bare aiohttp rooms (sets of sockets), same N"
    for n, c in curves.items():
        p, a = c["pitchey"], c["aiohttp"]
        rows += [
            Row(
                "scaling",
                f"delivered frames/s, {n:,} rooms x 10 subscribers, 1 event/s each",
                p["fps"],
                "frames/s",
                base,
                a["fps"],
            ),
            Row(
                "scaling",
                f"server CPU per delivered frame, {n:,} rooms",
                p["us_per_frame"],
                "us",
                base,
                a["us_per_frame"],
            ),
            Row("scaling", f"p99 delivery, {n:,} rooms, 1 event/s each", p["p99"], "ms", base, a["p99"]),
            Row("scaling", f"server RSS, {n:,} rooms", p["rss"] / 1e6, "MB", base, a["rss"] / 1e6),
        ]
        for proto in PROTOS:
            x = c[proto]
            cfg.notes.append(
                f"scaling rooms {proto} {n:,} rooms ({n:,} sockets x 10 rooms, "
                f"{x['expected']:,} frames/s asked): "
                f"{x['fps']:,.0f} frames/s delivered, publisher sent {x['sent']:,.0f} events/s "
                f"(error frames {x['errors']} {x['error_codes'] or ''}, publisher CPU "
                f"{x['publisher_cpu']:.0f}%); server {x['server_cpu']:.0f}% "
                f"({x['us_per_frame']:.2f} us/frame), "
                f"postgres {x['postgres_cpu']:.0f}%, subscriber load generators {x['clients_cpu']:.0f}%; "
                f"p50 {x['p50']:.2f} ms p99 {x['p99']:.2f} ms; RSS {x['rss'] / 1e6:.1f} MB "
                f"({x['rss_subs'] / 1e6:.1f} MB above the idle server); set-up {x['setup_s']:.0f} s; "
                f"other users' processes {x['others']:.0f}% of 200%"
            )
    return rows


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    cfg = Config.make(quick)
    if notes is not None:
        cfg.notes = notes
    # BENCH_SCALING_PARTS=room,rooms,catalog (default: all three) runs only some parts.
    parts = set(os.environ.get("BENCH_SCALING_PARTS", "room,rooms,catalog").split(","))
    sizes = (QUICK_SIZES if quick else SIZES) if "room" in parts else ()
    room_sizes = (QUICK_ROOM_SIZES if quick else ROOM_SIZES) if "rooms" in parts else ()
    nofile = h.raise_nofile()
    # Each process (server, load generator) holds at most one side of every connection.
    if sizes and nofile < max(sizes) * 1.1:
        sizes = tuple(n for n in sizes if n * 1.1 <= nofile)
        cfg.notes.append(f"scaling: open-files limit {nofile}; sizes limited to {sizes}")
    if room_sizes and nofile < max(room_sizes) * 1.1:
        room_sizes = tuple(n for n in room_sizes if n * 1.1 <= nofile)
        cfg.notes.append(f"scaling: open-files limit {nofile}; room counts limited to {room_sizes}")
    seconds = 3.0 if quick else 5.0
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-scaling-"))
    pg = h.Postgres()
    curves: dict[int, dict[str, dict[str, Any]]] = {}
    room_curves: dict[int, dict[str, dict[str, Any]]] = {}
    try:
        for n in sizes:
            curves[n] = _measure(cfg, pg, workdir, n, seconds)
        for n in room_sizes:
            try:
                room_curves[n] = _many_rooms(cfg, pg, workdir, n, seconds)
            except Exception as exc:  # one size failing keeps the others' figures
                cfg.notes.append(f"scaling rooms: {n:,} rooms FAILED: {exc!r}")
    finally:
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)
    rows: list[Row] = []
    base = "bare aiohttp send_str, same N"
    for n, c in curves.items():
        p, a = c["pitchey"], c["aiohttp"]
        rows.append(
            Row(
                "scaling",
                f"delivered frames/s, one room, {n:,} subscribers",
                p["fps"],
                "frames/s",
                base,
                a["fps"],
            )
        )
        rows.append(
            Row(
                "scaling",
                f"server CPU per delivered frame, {n:,} subscribers",
                p["us_per_frame"],
                "us",
                base,
                a["us_per_frame"],
            )
        )
        rows.append(
            Row(
                "scaling",
                f"p99 delivery, {n:,} subscribers, {_rate(n):g} events/s",
                p["p99"],
                "ms",
                base,
                a["p99"],
            )
        )
        rows.append(
            Row("scaling", f"server RSS, {n:,} subscribers", p["rss"] / 1e6, "MB", base, a["rss"] / 1e6)
        )
        for proto in PROTOS:
            x = c[proto]
            cfg.notes.append(
                f"scaling {proto} N={n:,}: {x['fps']:,.0f} frames/s at server {x['server_cpu']:.0f}% "
                f"({x['us_per_frame']:.2f} us/frame), paced p50 {x['p50']:.2f} ms p99 {x['p99']:.2f} ms "
                f"({x['deliveries']:,} deliveries), RSS {x['rss'] / 1e6:.1f} MB; "
                f"other users' processes {x['others']:.0f}% of 200%"
            )
    png = Path(
        os.environ.get(
            "BENCH_SCALING_PNG", Path(__file__).resolve().parent.parent / "docs" / "bench-scaling.png"
        )
    )
    if curves:
        cfg.notes.append(_chart(curves, png))
    rows += _rooms_rows(cfg, room_curves)
    if room_curves:
        rooms_png = png.with_name(png.stem + "-rooms" + png.suffix)
        xlabel = "active rooms (10 subscribers each, 1 event/s each)"
        cfg.notes.append(_chart(room_curves, rooms_png, xlabel, log_y=True))
    if "catalog" in parts:
        from bench import bench_catalog

        rows += bench_catalog.run(quick, cfg.notes)
    return rows


if __name__ == "__main__":
    from bench.common import format_table

    notes: list[str] = []
    print(format_table(run("--quick" in sys.argv[1:], notes)))
    print()
    for line in notes:
        print(f"- {line}")
