"""AsyncioActor against the two designs it replaces, measured in the same run.

Baselines: pykka's ThreadingActor (one OS thread per actor; only 1,000 are started to
keep the run short, and per-10,000 figures are scaled from them, as the row names say)
and the queue+task prototype (an asyncio.Queue, a waiting Task and a threading.Event
per actor). Start time and memory are measured in a fresh child process per design,
so one design's freed-but-retained heap does not flatter the next one's RSS delta.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

import pykka
from pykka._envelope import Envelope
from pykka.messages import _ActorStop

from bench.common import Row, format_table, rss_bytes
from pitchey.actors import AsyncioActor, AsyncioFuture

SUITE = "actors"
N_ACTORS = 10_000
N_THREAD_ACTORS = 1_000  # thread baseline: 10,000 threads take seconds and ~230 MB
N_TELLS = 200_000
N_THREAD_TELLS = 50_000
N_ASKS = 20_000
N_THREAD_ASKS = 5_000


class _Done:
    """Counts handled tells; resolves a loop future when the last one is in."""

    def __init__(self, total: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.left = total
        self.future: asyncio.Future[None] | None = loop.create_future() if loop else None
        self.event = threading.Event()
        self.lock = None if loop else threading.Lock()  # thread actors count concurrently

    def hit(self) -> None:
        if self.lock is not None:
            with self.lock:
                self.left -= 1
        else:
            self.left -= 1
        if self.left == 0:
            if self.future is not None:
                self.future.set_result(None)
            self.event.set()


class Room(AsyncioActor):
    """A minimal room: counts messages and echoes asks."""

    done: _Done | None = None

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_receive(self, message: Any) -> Any:
        self.count += 1
        if message is None and Room.done is not None:
            Room.done.hit()
        return message


class AsyncStartRoom(Room):
    async def on_start(self) -> None:
        await asyncio.sleep(0)


class ThreadRoom(pykka.ThreadingActor):
    use_daemon_thread = True
    done: _Done | None = None

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_receive(self, message: Any) -> Any:
        self.count += 1
        if message is None and ThreadRoom.done is not None:
            ThreadRoom.done.hit()
        return message


class _QueueInbox(asyncio.Queue[Envelope[Any]]):
    """asyncio.Queue as a pykka inbox: ActorRef calls a synchronous put()."""

    def put(self, item: Envelope[Any]) -> None:  # type: ignore[override]
        self.put_nowait(item)


class QueueTaskActor(pykka.Actor):
    """The prototype being replaced: same pykka API, but an asyncio.Queue inbox, a
    long-running task per actor and pykka's per-actor threading.Event."""

    done: _Done | None = None

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.task: asyncio.Task[None] | None = None

    @staticmethod
    def _create_actor_inbox() -> _QueueInbox:
        return _QueueInbox()

    @staticmethod
    def _create_future() -> pykka.Future[Any]:
        return AsyncioFuture()  # awaitable without blocking, as AsyncioActor's

    def _start_actor_loop(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        inbox = cast("_QueueInbox", self.actor_inbox)
        self.on_start()
        while not self.actor_stopped.is_set():
            envelope = await inbox.get()
            try:
                result = self._handle_receive(envelope.message)
            except Exception:
                if envelope.reply_to is None:
                    raise
                envelope.reply_to.set_exception()
            else:
                if envelope.reply_to is not None:
                    envelope.reply_to.set(result)

    def on_receive(self, message: Any) -> Any:
        self.count += 1
        if message is None and QueueTaskActor.done is not None:
            QueueTaskActor.done.hit()
        return message


# --- start time and memory, one child process per design ---------------------------


async def _child_asyncio(async_start: bool) -> dict[str, float]:
    cls = AsyncStartRoom if async_start else Room
    warm = [cls.start() for _ in range(10)]
    for r in warm:
        await r.ask(1, block=False)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    refs = [cls.start() for _ in range(N_ACTORS)]
    if async_start:  # started means on_start has run: an ask is answered after it
        for r in refs:
            await r.ask(0, block=False)
    else:
        await asyncio.sleep(0)
    start_s = time.perf_counter() - t0
    for r in refs:  # each room has handled a message, then sits idle
        await r.ask(1, block=False)
    gc.collect()
    per_actor = (rss_bytes() - rss0) / N_ACTORS
    assert len(refs) == N_ACTORS
    return {"start_s": start_s, "bytes_per_actor": per_actor}


async def _child_queue_task() -> dict[str, float]:
    warm = [QueueTaskActor.start() for _ in range(10)]
    for r in warm:
        await r.ask(1, block=False)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    refs = [QueueTaskActor.start() for _ in range(N_ACTORS)]
    await asyncio.sleep(0)  # every task runs to its first `await queue.get()`
    start_s = time.perf_counter() - t0
    for r in refs:
        await r.ask(1, block=False)
    gc.collect()
    per_actor = (rss_bytes() - rss0) / N_ACTORS
    return {"start_s": start_s, "bytes_per_actor": per_actor}


def _child_threading() -> dict[str, float]:
    warm = [ThreadRoom.start() for _ in range(10)]
    for r in warm:
        r.ask(1)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    refs = [ThreadRoom.start() for _ in range(N_THREAD_ACTORS)]
    start_s = time.perf_counter() - t0
    for r in refs:
        r.ask(1)
    gc.collect()
    per_actor = (rss_bytes() - rss0) / N_THREAD_ACTORS
    pykka.ActorRegistry.stop_all()
    return {"start_s": start_s * (N_ACTORS / N_THREAD_ACTORS), "bytes_per_actor": per_actor}


def _child(kind: str) -> dict[str, float]:
    if kind == "asyncio":
        return asyncio.run(_child_asyncio(async_start=False))
    if kind == "asyncio-async-start":
        return asyncio.run(_child_asyncio(async_start=True))
    if kind == "queue-task":
        return asyncio.run(_child_queue_task())
    if kind == "threading":
        return _child_threading()
    raise ValueError(kind)


def _in_child(kind: str) -> dict[str, float]:
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_actors", "--child", kind],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- throughput, in this process -------------------------------------------------


async def _asyncio_throughput() -> dict[str, float]:
    loop = asyncio.get_running_loop()
    one = Room.start()
    Room.done = _Done(N_TELLS, loop)
    t0 = time.perf_counter()
    for _ in range(N_TELLS):
        one.tell(None)
    await Room.done.future  # type: ignore[misc]
    tells_one = N_TELLS / (time.perf_counter() - t0)

    refs = [Room.start() for _ in range(N_ACTORS)]
    Room.done = _Done(N_TELLS, loop)
    t0 = time.perf_counter()
    for i in range(N_TELLS):
        refs[i % N_ACTORS].tell(None)
    await Room.done.future  # type: ignore[misc]
    tells_spread = N_TELLS / (time.perf_counter() - t0)
    Room.done = None

    t0 = time.perf_counter()
    for i in range(N_ASKS):
        await one.ask(i, block=False)
    asks = N_ASKS / (time.perf_counter() - t0)
    for r in [one, *refs]:
        r.stop(block=False)
    await asyncio.sleep(0)
    return {"tells_one": tells_one, "tells_spread": tells_spread, "asks": asks}


async def _queue_task_throughput() -> dict[str, float]:
    loop = asyncio.get_running_loop()
    one = QueueTaskActor.start()
    QueueTaskActor.done = _Done(N_TELLS, loop)
    t0 = time.perf_counter()
    for _ in range(N_TELLS):
        one.tell(None)
    await QueueTaskActor.done.future  # type: ignore[misc]
    tells_one = N_TELLS / (time.perf_counter() - t0)

    refs = [QueueTaskActor.start() for _ in range(N_ACTORS)]
    await asyncio.sleep(0)
    QueueTaskActor.done = _Done(N_TELLS, loop)
    t0 = time.perf_counter()
    for i in range(N_TELLS):
        refs[i % N_ACTORS].tell(None)
    await QueueTaskActor.done.future  # type: ignore[misc]
    tells_spread = N_TELLS / (time.perf_counter() - t0)
    QueueTaskActor.done = None

    t0 = time.perf_counter()
    for i in range(N_ASKS):
        await one.ask(i, block=False)
    asks = N_ASKS / (time.perf_counter() - t0)
    for r in [one, *refs]:  # leaves pykka's global registry empty again
        await r.ask(_ActorStop(), block=False)  # plain ActorRef.stop() would block
    return {"tells_one": tells_one, "tells_spread": tells_spread, "asks": asks}


def _threading_throughput() -> dict[str, float]:
    one = ThreadRoom.start()
    ThreadRoom.done = _Done(N_THREAD_TELLS)
    t0 = time.perf_counter()
    for _ in range(N_THREAD_TELLS):
        one.tell(None)
    ThreadRoom.done.event.wait(120)
    tells_one = N_THREAD_TELLS / (time.perf_counter() - t0)

    refs = [ThreadRoom.start() for _ in range(N_THREAD_ACTORS)]
    ThreadRoom.done = _Done(N_THREAD_TELLS)
    t0 = time.perf_counter()
    for i in range(N_THREAD_TELLS):
        refs[i % N_THREAD_ACTORS].tell(None)
    ThreadRoom.done.event.wait(120)
    tells_spread = N_THREAD_TELLS / (time.perf_counter() - t0)
    ThreadRoom.done = None

    t0 = time.perf_counter()
    for i in range(N_THREAD_ASKS):
        one.ask(i)
    asks = N_THREAD_ASKS / (time.perf_counter() - t0)
    for r in pykka.ActorRegistry.get_by_class(ThreadRoom):
        r.stop()
    return {"tells_one": tells_one, "tells_spread": tells_spread, "asks": asks}


def run() -> list[Row]:
    mem_asyncio = _in_child("asyncio")
    mem_async_start = _in_child("asyncio-async-start")
    mem_queue = _in_child("queue-task")
    mem_thread = _in_child("threading")
    thr_thread = _threading_throughput()
    thr_asyncio = asyncio.run(_asyncio_throughput())
    thr_queue = asyncio.run(_queue_task_throughput())

    qt = "queue+task pykka prototype"
    th = f"ThreadingActor ({N_THREAD_ACTORS:,} measured)"
    start = mem_asyncio["start_s"]
    mem = mem_asyncio["bytes_per_actor"]
    rows = [
        Row(SUITE, f"start {N_ACTORS:,} AsyncioActors", start, "s", qt, mem_queue["start_s"],
            "< 0.8 s", start < 0.8),
        Row(SUITE, f"start {N_ACTORS:,} AsyncioActors (threads scaled x10)", start, "s", th,
            mem_thread["start_s"]),
        Row(SUITE, f"start {N_ACTORS:,} AsyncioActors with async on_start, until all ran",
            mem_async_start["start_s"], "s", qt, mem_queue["start_s"], "< 0.8 s",
            mem_async_start["start_s"] < 0.8),
        Row(SUITE, "memory per idle AsyncioActor (RSS delta / 10,000, after 1 ask)", mem, "B",
            qt, mem_queue["bytes_per_actor"], "< 1,536 B (well under 6 KB)", mem < 1536),
        Row(SUITE, "memory per idle AsyncioActor vs thread", mem, "B", th,
            mem_thread["bytes_per_actor"]),
        Row(SUITE, f"tells/s, 1 sender -> 1 actor ({N_TELLS:,})", thr_asyncio["tells_one"],
            "msg/s", qt, thr_queue["tells_one"], ">= queue+task",
            thr_asyncio["tells_one"] >= thr_queue["tells_one"]),
        Row(SUITE, f"tells/s, 1 sender -> 1 actor (threads: {N_THREAD_TELLS:,})",
            thr_asyncio["tells_one"], "msg/s", th, thr_thread["tells_one"]),
        Row(SUITE, f"tells/s, 1 sender -> {N_ACTORS:,} actors ({N_TELLS:,})",
            thr_asyncio["tells_spread"], "msg/s", qt, thr_queue["tells_spread"],
            ">= queue+task", thr_asyncio["tells_spread"] >= thr_queue["tells_spread"]),
        Row(SUITE,
            f"tells/s, spread (threads: {N_THREAD_TELLS:,} over {N_THREAD_ACTORS:,} actors)",
            thr_asyncio["tells_spread"], "msg/s", th, thr_thread["tells_spread"]),
        Row(SUITE, f"ask round trips/s, await, sequential ({N_ASKS:,})", thr_asyncio["asks"],
            "rt/s", qt, thr_queue["asks"], ">= queue+task",
            thr_asyncio["asks"] >= thr_queue["asks"]),
        Row(SUITE, f"ask round trips/s (threads: blocking get(), {N_THREAD_ASKS:,})",
            thr_asyncio["asks"], "rt/s", th, thr_thread["asks"]),
    ]  # fmt: skip
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2])))
    else:
        print(format_table(run()))
