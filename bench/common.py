"""One row format for every benchmark, so each figure sits beside the baseline measured in the same run."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """A measured figure, its baseline from the same run, and the goal it is held to."""

    suite: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    goal: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default), from /proc."""
    with open(f"/proc/{pid or os.getpid()}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize()


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    if abs(v) >= 1000:
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.3g}"
    return f"{s} {unit}".strip()


def format_table(rows: list[Row]) -> str:
    """A Markdown table: paste it into docs/benchmarks.md as printed."""
    head = "| suite | figure | value | baseline | ratio | goal | met |"
    sep = "|---|---|---|---|---|---|---|"
    lines = [head, sep]
    for r in rows:
        base = f"{r.baseline_name}: {_fmt(r.baseline, r.unit)}" if r.baseline_name else "-"
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        lines.append(
            f"| {r.suite} | {r.name} | {_fmt(r.value, r.unit)} | {base} | {ratio} | {r.goal or '-'} | {met} |"
        )
    return "\n".join(lines)
