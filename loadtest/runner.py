"""Run a replay in this process or spread over worker processes; progress line; Ctrl-C; report.

With ``--workers K`` the stream's copies (``--scale``) go round-robin to K forked processes, each
an independent Replay on its own event loop; they send a progress snapshot twice a second and
their Stats at the end, and the parent merges them into one report. No cluster protocol of our
own beyond one machine: the Locust file (loadtest/locustfile.py) does that.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import queue
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from .replay import Options, Replay, SetupError, Stats
from .report import merge
from .stream import Stream


@dataclass(slots=True)
class Snapshot:
    ready: bool = False
    sent: int = 0
    errors: int = 0
    deliveries: int = 0
    sessions: int = 0


def _snap(r: Replay) -> Snapshot:
    s = r.stats
    return Snapshot(r.ready, s.sent_total, s.error_total, s.deliveries, s.sessions_open)


def speed_label(speed: float) -> str:
    return "max" if speed <= 0 else f"{speed:g}x"


class Progress:
    """The live line: rate, errors, ETA."""

    def __init__(self, console: Console, planned: int, duration: float, speed: float) -> None:
        self.console = console
        self.planned = planned
        self.duration = duration
        self.speed = speed
        self.t_ready: float | None = None
        self.last = (time.monotonic(), 0)
        self.rate = 0.0

    def render(self, snaps: list[Snapshot]) -> Text:
        ready = all(s.ready for s in snaps) and bool(snaps)
        sent = sum(s.sent for s in snaps)
        if not ready:
            return Text("replay: registering accounts and creating pitches...")
        now = time.monotonic()
        if self.t_ready is None:
            self.t_ready = now
        t0, n0 = self.last
        if now - t0 >= 1.0:
            self.rate = (sent - n0) / (now - t0)
            self.last = (now, sent)
        elapsed = now - self.t_ready
        if self.speed > 0:
            eta = max(0.0, self.duration / self.speed - elapsed)
        else:
            eta = (self.planned - sent) / self.rate if self.rate > 0 else 0.0
        pct = 100 * sent / self.planned if self.planned else 100.0
        return Text(
            f"replay {elapsed:6.1f}s  actions {sent:,}/{self.planned:,} ({pct:4.1f}%)  "
            f"{self.rate:7.0f}/s  sessions {sum(s.sessions for s in snaps):,}  "
            f"deliveries {sum(s.deliveries for s in snaps):,}  errors {sum(s.errors for s in snaps):,}  "
            f"ETA {eta:5.0f}s"
        )


def _meta(
    stream: Stream, opts: Options, workers: int, started: str, seconds: float, stopped: bool
) -> dict[str, Any]:
    return {
        "target": opts.url,
        "stream": {
            "source": stream.header.source,
            "version": stream.header.version,
            "actors": len(stream.header.actors),
            "pitches": len(stream.header.pitches),
            "actions": len(stream.actions),
            "durationSeconds": round(stream.duration, 3),
        },
        "speed": speed_label(opts.speed),
        "scale": opts.scale,
        "workers": workers,
        "startedAt": started,
        "durationSeconds": round(seconds, 2),
        "interrupted": stopped,
    }


def run_replay(
    stream: Stream, opts: Options, workers: int = 1, console: Console | None = None, live: bool = True
) -> dict[str, Any]:
    """Replay and return the merged report; SetupError when the target cannot be used."""
    console = console or Console(stderr=True)
    started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    t0 = time.monotonic()
    workers = max(1, min(workers, opts.scale))
    progress = Progress(console, len(stream.actions) * opts.scale, stream.duration, opts.speed)
    if workers == 1:
        parts, interrupted = _in_process(stream, opts, progress, live)
    else:
        parts, interrupted = _in_workers(stream, opts, workers, progress, live)
    return merge(parts, _meta(stream, opts, workers, started, time.monotonic() - t0, interrupted))


def _in_process(
    stream: Stream, opts: Options, progress: Progress, live: bool
) -> tuple[list[dict[str, Any]], bool]:
    interrupted = False

    async def main() -> Stats:
        nonlocal interrupted
        replay = Replay(stream, opts, list(range(opts.scale)))
        loop = asyncio.get_running_loop()

        def on_sigint() -> None:
            nonlocal interrupted
            interrupted = True
            replay.stop()

        loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            with (
                Live(progress.render([]), console=progress.console, transient=False, auto_refresh=False)
                if live
                else contextlib.nullcontext() as display
            ):
                task = asyncio.create_task(replay.run())
                while not task.done():
                    await asyncio.wait([task], timeout=0.5)
                    if display is not None:
                        display.update(progress.render([_snap(replay)]), refresh=True)
                return await task
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    stats = asyncio.run(main())
    return [stats.to_json()], interrupted


def _worker(index: int, stream: Stream, opts: Options, copies: list[int], out: Any) -> None:
    """A worker process: its copies, progress snapshots, then its Stats (or the setup error)."""

    async def main() -> None:
        replay = Replay(stream, opts, copies)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, replay.stop)
        loop.add_signal_handler(signal.SIGTERM, replay.stop)
        task = asyncio.create_task(replay.run())
        while not task.done():
            await asyncio.wait([task], timeout=0.5)
            out.put(("progress", (index, _snap(replay))))
        try:
            stats = await task
        except SetupError as exc:
            out.put(("error", str(exc)))
            return
        out.put(("result", stats.to_json()))

    asyncio.run(main())


def _in_workers(
    stream: Stream, opts: Options, workers: int, progress: Progress, live: bool
) -> tuple[list[dict[str, Any]], bool]:
    ctx = mp.get_context("fork")  # the stream is already parsed: children inherit it
    out: Any = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker, args=(w, stream, opts, list(range(w, opts.scale, workers)), out), daemon=True
        )
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    snaps = [Snapshot() for _ in procs]
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    interrupted = False
    display = Live(progress.render([]), console=progress.console, auto_refresh=False) if live else None
    if display is not None:
        display.start()
    try:
        while len(results) + len(errors) < workers:
            try:
                kind, payload = out.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    errors.append("a worker process died")
                    break
                continue
            except KeyboardInterrupt:
                interrupted = True
                for p in procs:  # a kill -INT of the parent alone reaches the workers this way
                    if p.pid is not None and p.is_alive():
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(p.pid, signal.SIGINT)
                continue
            if kind == "progress":
                index, snap = payload
                snaps[index] = snap
                if display is not None:
                    display.update(progress.render(snaps), refresh=True)
            elif kind == "result":
                results.append(payload)
            else:
                errors.append(payload)
    finally:
        if display is not None:
            display.stop()
        for p in procs:
            p.join(timeout=10)
    if errors and not results:
        raise SetupError(errors[0])
    return results, interrupted
