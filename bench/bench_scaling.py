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

Not yet measured here (open in issue 16): many rooms of 10 subscribers each, and REST req/s (not
only query latency) as the table grows.

    python -m bench --only scaling
    python -m bench.bench_scaling [--quick]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

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


def _chart(curves: dict[int, dict[str, dict[str, Any]]], path: Path) -> str:
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
        ax.set_xscale("log")
        ax.set_xlabel("subscribers of one room")
        ax.set_title(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"scaling: chart written to {path}"


def run(quick: bool = False, notes: list[str] | None = None) -> list[Row]:
    cfg = Config.make(quick)
    if notes is not None:
        cfg.notes = notes
    sizes = QUICK_SIZES if quick else SIZES
    nofile = h.raise_nofile()
    # Each process (server, load generator) holds at most one side of every connection.
    if nofile < max(sizes) * 1.1:
        sizes = tuple(n for n in sizes if n * 1.1 <= nofile)
        cfg.notes.append(f"scaling: open-files limit {nofile}; sizes limited to {sizes}")
    seconds = 3.0 if quick else 5.0
    workdir = Path(tempfile.mkdtemp(prefix="pitchey-bench-scaling-"))
    pg = h.Postgres()
    curves: dict[int, dict[str, dict[str, Any]]] = {}
    try:
        for n in sizes:
            curves[n] = _measure(cfg, pg, workdir, n, seconds)
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
