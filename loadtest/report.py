"""The replay report: merged from every process's Stats, written as JSON, a terminal table, HTML.

The JSON schema is documented in docs/replay.md ("The report").
"""

from __future__ import annotations

import base64
import html
import statistics
from typing import Any

from rich.console import Console
from rich.table import Table

from .replay import new_histogram

SCHEMA = "pitchey-replay-report"
VERSION = 1


def _add_counts(into: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def merge(parts: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """One report from the per-process results (Stats.to_json) and the run's settings."""
    hist = new_histogram()
    by_kind: dict[str, list[int]] = {}
    errors: dict[str, int] = {}
    closes: dict[str, int] = {}
    rooms: dict[str, list[int]] = {}
    timeline: dict[int, list[Any]] = {}
    per_sub: list[int] = []
    anomalies: list[dict[str, Any]] = []
    totals = dict.fromkeys(
        (
            "planned",
            "reconnects",
            "recovered",
            "unrecovered",
            "sessionsOpened",
            "sessionsFailed",
            "badFrames",
            "deliveries",
        ),
        0,
    )
    for p in parts:
        for k in totals:
            totals[k] += int(p.get(k, 0))
        if p.get("hist"):
            hist.decode_and_add(base64.b64decode(p["hist"]))
        for name, v in p["byKind"].items():
            cur = by_kind.setdefault(name, [0, 0, 0])
            for i in range(3):
                cur[i] += v[i]
        _add_counts(errors, p["errors"])
        _add_counts(closes, p["closeCodes"])
        for room, v in p["rooms"].items():
            cur = rooms.setdefault(room, [0, 0, 0, 0])
            for i in range(4):
                cur[i] += v[i]
        for sec, (acts, dels, errs, mx, samples) in p["timeline"].items():
            bucket = timeline.setdefault(int(sec), [0, 0, 0, 0, []])
            bucket[0] += acts
            bucket[1] += dels
            bucket[2] += errs
            bucket[3] = max(bucket[3], mx)
            bucket[4].extend(samples)
        per_sub.extend(p["perSubscriber"])
        anomalies.extend(p["anomalies"])
    sent = sum(v[0] for v in by_kind.values())
    acked = sum(v[1] for v in by_kind.values())
    count = hist.get_total_count()

    def ms(us: float) -> float:
        return round(us / 1000, 3)

    def pct(samples: list[int], q: float) -> float:
        if not samples:
            return 0.0
        s = sorted(samples)
        return ms(s[min(len(s) - 1, int(q * len(s)))])

    return {
        "schema": SCHEMA,
        "version": VERSION,
        **meta,
        "setupSeconds": max((float(p.get("setupSeconds", 0)) for p in parts), default=0.0),
        "sessions": {"opened": totals["sessionsOpened"], "failed": totals["sessionsFailed"]},
        "actions": {
            "planned": totals["planned"],
            "sent": sent,
            "acked": acked,
            "failed": sum(v[2] for v in by_kind.values()),
            "byKind": {k: {"sent": v[0], "acked": v[1], "failed": v[2]} for k, v in sorted(by_kind.items())},
        },
        "deliveries": {
            "total": totals["deliveries"],
            "subscribers": len(per_sub),
            "perSubscriber": {
                "min": min(per_sub, default=0),
                "mean": round(statistics.fmean(per_sub), 2) if per_sub else 0,
                "max": max(per_sub, default=0),
            },
        },
        "latencyMs": {
            "count": count,
            "p50": ms(hist.get_value_at_percentile(50)) if count else 0,
            "p95": ms(hist.get_value_at_percentile(95)) if count else 0,
            "p99": ms(hist.get_value_at_percentile(99)) if count else 0,
            "max": ms(hist.get_max_value()) if count else 0,
        },
        "correctness": {
            "gaps": sum(v[2] for v in rooms.values()),
            "duplicates": sum(v[3] for v in rooms.values()),
            "rooms": {
                r: {"subscribers": v[0], "deliveries": v[1], "gaps": v[2], "duplicates": v[3]}
                for r, v in sorted(rooms.items())
            },
            "anomalies": anomalies[:1000],
        },
        "errors": dict(sorted(errors.items())),
        "closeCodes": dict(sorted(closes.items())),
        "reconnects": totals["reconnects"],
        "recoveries": {"recovered": totals["recovered"], "unrecovered": totals["unrecovered"]},
        "badFrames": totals["badFrames"],
        "timeline": [
            {
                "second": s,
                "actions": v[0],
                "deliveries": v[1],
                "errors": v[2],
                "p50Ms": pct(v[4], 0.5),
                "p99Ms": pct(v[4], 0.99),
                "maxMs": ms(v[3]),
            }
            for s, v in sorted(timeline.items())
        ],
    }


def table(report: dict[str, Any]) -> Table:
    t = Table(title=f"pitchey replay of {report['stream']['source']} against {report['target']}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    a, d, lat, c = report["actions"], report["deliveries"], report["latencyMs"], report["correctness"]
    rows = [
        ("speed / scale / workers", f"{report['speed']} / {report['scale']} / {report['workers']}"),
        (
            "duration (of which setup)",
            f"{report['durationSeconds']} s ({report['setupSeconds']} s)"
            + (" (interrupted)" if report["interrupted"] else ""),
        ),
        ("sessions opened / failed", f"{report['sessions']['opened']:,} / {report['sessions']['failed']:,}"),
        ("actions sent / acked / planned", f"{a['sent']:,} / {a['acked']:,} / {a['planned']:,}"),
        *((f"  {k}", f"{v['sent']:,} / {v['acked']:,}") for k, v in a["byKind"].items()),
        ("deliveries", f"{d['total']:,}"),
        (
            "per subscriber min / mean / max",
            f"{d['perSubscriber']['min']} / {d['perSubscriber']['mean']} / {d['perSubscriber']['max']}",
        ),
        ("latency p50 / p95 / p99 / max ms", f"{lat['p50']} / {lat['p95']} / {lat['p99']} / {lat['max']}"),
        ("seq gaps", str(c["gaps"])),
        ("seq duplicates", str(c["duplicates"])),
        ("errors", ", ".join(f"{k}: {v}" for k, v in report["errors"].items()) or "0"),
        ("close codes", ", ".join(f"{k}: {v}" for k, v in report["closeCodes"].items()) or "none"),
        (
            "reconnects / recovered / unrecovered",
            f"{report['reconnects']} / {report['recoveries']['recovered']} / "
            f"{report['recoveries']['unrecovered']}",
        ),
    ]
    for k, v in rows:
        t.add_row(k, v)
    return t


def print_table(report: dict[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(table(report))


def _svg_chart(title: str, series: list[tuple[str, str, list[float]]], unit: str) -> str:
    """A line chart as inline SVG: no script, no CDN, opens anywhere."""
    w, h, pad = 760, 220, 40
    n = max((len(v) for _, _, v in series), default=0)
    top = max((max(v) for _, _, v in series if v), default=0.0) or 1.0
    parts = [
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{html.escape(title)}">',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="#888"/>',
        f'<line x1="{pad}" y1="10" x2="{pad}" y2="{h - pad}" stroke="#888"/>',
        f'<text x="{pad - 4}" y="16" text-anchor="end" font-size="11">{top:g}</text>',
        f'<text x="{pad - 4}" y="{h - pad}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{w - 10}" y="{h - pad + 16}" text-anchor="end" font-size="11">{n} s</text>',
        f'<text x="{pad + 4}" y="{h - 6}" font-size="11">{html.escape(unit)}</text>',
    ]
    for i, (name, colour, values) in enumerate(series):
        if not values:
            continue
        step = (w - pad - 10) / max(1, n - 1)
        pts = " ".join(
            f"{pad + j * step:.1f},{h - pad - (v / top) * (h - pad - 10):.1f}" for j, v in enumerate(values)
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{pts}"/>')
        parts.append(
            f'<text x="{pad + 10 + i * 120}" y="26" font-size="12" fill="{colour}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


def to_html(report: dict[str, Any]) -> str:
    tl = report["timeline"]
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in (
            ("target", report["target"]),
            ("stream", report["stream"]["source"]),
            ("speed / scale / workers", f"{report['speed']} / {report['scale']} / {report['workers']}"),
            ("duration (s)", report["durationSeconds"]),
            ("interrupted", "yes" if report["interrupted"] else "no"),
            ("setup (s)", report["setupSeconds"]),
            ("sessions opened / failed", f"{report['sessions']['opened']} / {report['sessions']['failed']}"),
            ("actions sent / acked", f"{report['actions']['sent']} / {report['actions']['acked']}"),
            ("deliveries", report["deliveries"]["total"]),
            (
                "latency ms p50 / p95 / p99 / max",
                " / ".join(str(report["latencyMs"][k]) for k in ("p50", "p95", "p99", "max")),
            ),
            ("seq gaps", report["correctness"]["gaps"]),
            ("seq duplicates", report["correctness"]["duplicates"]),
            ("errors", _pairs(report["errors"]) or "0"),
            ("close codes", _pairs(report["closeCodes"]) or "none"),
            ("reconnects", report["reconnects"]),
            (
                "recovered / unrecovered",
                f"{report['recoveries']['recovered']} / {report['recoveries']['unrecovered']}",
            ),
        )
    )
    charts = _svg_chart(
        "Throughput per second",
        [
            ("actions/s", "#1f77b4", [float(b["actions"]) for b in tl]),
            ("deliveries/s", "#2ca02c", [float(b["deliveries"]) for b in tl]),
            ("errors/s", "#d62728", [float(b["errors"]) for b in tl]),
        ],
        "per second",
    ) + _svg_chart(
        "Publish-to-delivery latency over time",
        [
            ("p50", "#1f77b4", [b["p50Ms"] for b in tl]),
            ("p99", "#ff7f0e", [b["p99Ms"] for b in tl]),
            ("max", "#d62728", [b["maxMs"] for b in tl]),
        ],
        "milliseconds",
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>pitchey replay report</title><style>body{font:14px system-ui,sans-serif;margin:2em;"
        "max-width:60em}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;"
        "text-align:left}</style></head><body><h1>pitchey replay report</h1>"
        f"<table>{rows}</table>{charts}</body></html>\n"
    )
