"""AsyncioActor: pykka lifecycle semantics on the event loop, with no idle tasks."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pykka
import pytest
from pykka import ActorDeadError, ActorRegistry
from pykka.messages import ProxySetAttr

from pitchey.actors import AsyncioActor, AsyncioFuture, ask, stop
from pitchey.actors.asyncio_actor import _Envelope

F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def bounded(test: F) -> F:
    """A broken actor shows up as a future that never resolves: fail, do not hang."""

    @functools.wraps(test)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        async with asyncio.timeout(10):
            await test(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def actor_of(ref: pykka.ActorRef[Any]) -> Any:
    actor = ref._actor_weakref()
    assert actor is not None
    return actor


def drain_handles(loop: asyncio.AbstractEventLoop, actor: Any) -> list[asyncio.Handle]:
    """Callbacks on the loop's ready queue that belong to this actor."""
    ready = loop._ready  # type: ignore[attr-defined]
    owners = (actor, actor.actor_inbox)
    return [h for h in ready if getattr(h._callback, "__self__", None) in owners]


class Recorder(AsyncioActor):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[Any] = []

    def on_receive(self, message: Any) -> Any:
        if message == "log":
            return list(self.log)
        if message == "boom":
            raise ValueError("boom")
        self.log.append(message)
        return message

    def double(self, x: int) -> int:
        return x * 2

    async def slow_double(self, x: int) -> int:
        await asyncio.sleep(0.001)
        return x * 2


@bounded
async def test_messages_are_handled_in_order() -> None:
    ref = Recorder.start()
    for i in range(1000):
        ref.tell(i)
    assert await ref.ask("log", block=False) == list(range(1000))


@bounded
async def test_on_start_runs_before_any_message() -> None:
    class Starter(AsyncioActor):
        def __init__(self) -> None:
            super().__init__()
            self.log: list[str] = []

        async def on_start(self) -> None:
            await asyncio.sleep(0.01)
            self.log.append("started")

        def on_receive(self, message: Any) -> Any:
            self.log.append(message)
            return list(self.log)

    ref = Starter.start()
    ref.tell("a")
    assert await ref.ask("b", block=False) == ["started", "a", "b"]


@bounded
async def test_on_start_failure_stops_the_actor_before_any_message() -> None:
    handled: list[Any] = []

    class BadStart(AsyncioActor):
        async def on_start(self) -> None:
            await asyncio.sleep(0)
            raise RuntimeError("no room today")

        def on_receive(self, message: Any) -> Any:
            handled.append(message)

    ref = BadStart.start()
    queued = ref.ask("never handled", block=False)
    with pytest.raises(ActorDeadError):
        await queued
    assert handled == []
    assert not ref.is_alive()


@bounded
async def test_on_activate_is_awaited_after_on_start_before_any_message() -> None:
    class Activated(AsyncioActor):
        def __init__(self) -> None:
            super().__init__()
            self.log: list[str] = []

        def on_start(self) -> None:
            self.log.append("start")

        async def on_activate(self) -> None:
            await asyncio.sleep(0.01)
            self.log.append("activated")

        def on_receive(self, message: Any) -> Any:
            self.log.append(message)
            return list(self.log)

    ref = Activated.start()
    ref.tell("a")
    assert await ref.ask("b", block=False) == ["start", "activated", "a", "b"]


@bounded
async def test_on_activate_failure_stops_the_actor_before_any_message() -> None:
    handled: list[Any] = []

    class BadActivation(AsyncioActor):
        async def on_activate(self) -> None:
            await asyncio.sleep(0)
            raise RuntimeError("no state today")

        def on_receive(self, message: Any) -> Any:
            handled.append(message)

    ref = BadActivation.start()
    queued = ref.ask("never handled", block=False)
    with pytest.raises(ActorDeadError):
        await queued
    assert handled == []
    assert not ref.is_alive()


@bounded
async def test_input_gate_async_handlers_never_interleave() -> None:
    class Gate(AsyncioActor):
        def __init__(self) -> None:
            super().__init__()
            self.log: list[tuple[str, int]] = []

        async def on_receive(self, message: int) -> int:
            self.log.append(("enter", message))
            await asyncio.sleep(0.001 * (message % 3))
            await asyncio.sleep(0)
            self.log.append(("exit", message))
            return message

        async def visit(self, n: int) -> None:
            self.log.append(("enter", n))
            await asyncio.sleep(0)
            self.log.append(("exit", n))

    ref = Gate.start()
    futures = []
    for i in range(20):
        if i % 2:
            ref.tell(i)
        else:
            futures.append(ref.ask(i, block=False))
    futures.append(ref.proxy().visit(20))
    results = [await f for f in futures]
    assert results == [*range(0, 20, 2), None]
    expected = [(kind, i) for i in range(21) for kind in ("enter", "exit")]
    assert actor_of(ref).log == expected


@bounded
async def test_ask_returns_value_via_await_and_helper() -> None:
    ref = Recorder.start()
    future = ref.ask("hello", block=False)
    assert isinstance(future, AsyncioFuture)
    assert await future == "hello"
    assert future.get() == "hello"  # resolved: get() on the loop is fine
    assert await ask(ref, "again", timeout=1) == "again"


@bounded
async def test_ask_exception_goes_to_caller_and_actor_lives() -> None:
    class Failing(Recorder):
        async def async_boom(self) -> None:
            await asyncio.sleep(0)
            raise KeyError("async boom")

    ref = Failing.start()
    with pytest.raises(ValueError, match="boom"):
        await ref.ask("boom", block=False)
    with pytest.raises(KeyError, match="async boom"):
        await ref.proxy().async_boom()
    assert ref.is_alive()
    assert await ref.ask("still here", block=False) == "still here"


@pytest.mark.parametrize("async_hook", [False, True])
@bounded
async def test_tell_exception_calls_on_failure_and_stops(async_hook: bool) -> None:
    failures: list[BaseException | None] = []

    class Fragile(Recorder):
        if async_hook:

            async def on_failure(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
                await asyncio.sleep(0)
                failures.append(exc_value)

        else:

            def on_failure(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
                failures.append(exc_value)

        def on_stop(self) -> None:
            failures.append(None)  # must not be called on failure

    ref = Fragile.start()
    ref.tell("boom")
    queued = ref.ask("queued behind the failure", block=False)
    with pytest.raises(ActorDeadError):
        await queued
    assert len(failures) == 1
    assert isinstance(failures[0], ValueError)
    assert not ref.is_alive()
    with pytest.raises(ActorDeadError):
        await ref.ask("later", block=False)
    with pytest.raises(ActorDeadError):
        await ask(ref, "later")
    with pytest.raises(ActorDeadError):
        ref.tell("later")


@pytest.mark.parametrize("async_hook", [False, True])
@bounded
async def test_stop_calls_on_stop_and_fails_pending_asks(async_hook: bool) -> None:
    events: list[str] = []

    class Stoppable(Recorder):
        if async_hook:

            async def on_stop(self) -> None:
                events.append("stopping")
                await asyncio.sleep(0.01)
                events.append("stopped")

        else:

            def on_stop(self) -> None:
                events.append("stopped")

    ref = Stoppable.start()
    before = ref.ask("before", block=False)
    stopping = ref.stop(block=False)
    after = ref.ask("after", block=False)  # queued behind the stop message
    assert await before == "before"
    assert await stopping is True
    assert events[-1] == "stopped"
    with pytest.raises(ActorDeadError):
        await after
    assert not ref.is_alive()
    assert await ref.stop(block=False) is False
    assert await stop(ref) is False


@bounded
async def test_async_on_stop_rejects_messages_sent_while_stopping() -> None:
    release = asyncio.Event()

    class SlowStop(Recorder):
        async def on_stop(self) -> None:
            await release.wait()

    ref = SlowStop.start()
    stopping = ref.stop(block=False)
    await asyncio.sleep(0.01)
    assert not ref.is_alive()
    with pytest.raises(ActorDeadError):
        await ref.ask("too late", block=False)
    assert isinstance(stopping, AsyncioFuture)
    assert not stopping.done()
    release.set()
    assert await stopping is True


@bounded
async def test_tell_and_ask_from_another_thread() -> None:
    ref = Recorder.start()
    results: dict[str, Any] = {}

    def worker() -> None:
        try:
            ref.tell("told")
            results["blocking"] = ref.ask("asked", timeout=5)
            results["future"] = ref.ask("future", block=False).get(timeout=5)
            results["proxy"] = ref.proxy().double(21).get(timeout=5)
            results["async proxy"] = ref.proxy().slow_double(4).get(timeout=5)
        except BaseException as e:
            results["error"] = e

    thread = threading.Thread(target=worker)
    thread.start()
    await asyncio.to_thread(thread.join, 10)
    assert "error" not in results, results.get("error")
    assert results == {
        "blocking": "asked",
        "future": "future",
        "proxy": 42,
        "async proxy": 8,
    }
    assert await ref.ask("log", block=False) == ["told", "asked", "future"]


@bounded
async def test_get_timeout_from_another_thread_then_value() -> None:
    release = asyncio.Event()

    class Waiting(AsyncioActor):
        async def on_receive(self, message: Any) -> Any:
            await release.wait()
            return message

    ref = Waiting.start()
    future = ref.ask("late", block=False)
    outcome: list[Any] = []
    first_wait_over = threading.Event()

    def worker() -> None:
        started = time.monotonic()
        try:
            future.get(timeout=0.05)
        except pykka.Timeout:
            outcome.append(("timeout", time.monotonic() - started))
        first_wait_over.set()
        outcome.append(future.get(timeout=5))

    thread = threading.Thread(target=worker)
    thread.start()
    assert await asyncio.to_thread(first_wait_over.wait, 5)
    assert outcome and outcome[0][0] == "timeout"
    assert outcome[0][1] < 1
    release.set()
    await asyncio.to_thread(thread.join, 10)  # keeps the loop free for the actor
    assert outcome[1] == "late"


@bounded
async def test_get_on_loop_thread_while_pending_raises() -> None:
    ref = Recorder.start()
    future = ref.ask("x", block=False)
    # The timeouts only matter if the guard is broken: then get() blocks the loop.
    with pytest.raises(RuntimeError, match="deadlock"):
        future.get(timeout=0.5)
    with pytest.raises(RuntimeError, match="deadlock"):
        ref.ask("blocking on the loop", timeout=0.5)
    assert await future == "x"
    assert future.get() == "x"


@bounded
async def test_idle_actor_leaves_no_task_and_no_handle() -> None:
    loop = asyncio.get_running_loop()
    release = asyncio.Event()

    class Mixed(AsyncioActor):
        async def on_start(self) -> None:
            await asyncio.sleep(0)

        async def on_receive(self, message: Any) -> Any:
            if message == "wait":
                await release.wait()
            return message

        def sync(self) -> str:
            return "sync"

    before = asyncio.all_tasks()
    ref = Mixed.start()
    actor = actor_of(ref)
    waiting = ref.ask("wait", block=False)
    await asyncio.sleep(0.01)
    # While an async handler is in flight the actor does own a task: the check can fail.
    assert actor._task is not None
    assert asyncio.all_tasks() - before == {actor._task}
    release.set()
    assert await waiting == "wait"
    assert await ref.proxy().sync() == "sync"
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before
    assert actor._task is None
    assert actor.actor_inbox.scheduled is False
    assert actor.actor_inbox._queue is None
    assert drain_handles(loop, actor) == []


@bounded
async def test_sync_actor_uses_one_callback_per_burst_then_goes_idle() -> None:
    loop = asyncio.get_running_loop()
    before = asyncio.all_tasks()
    ref = Recorder.start()
    actor = actor_of(ref)
    assert actor.actor_inbox.scheduled is False  # no on_start: nothing scheduled at all
    future = ref.ask("x", block=False)
    assert actor.actor_inbox.scheduled is True
    assert len(drain_handles(loop, actor)) == 1
    assert await future == "x"
    await asyncio.sleep(0)
    assert actor.actor_inbox.scheduled is False
    assert drain_handles(loop, actor) == []
    assert asyncio.all_tasks() == before


@bounded
async def test_ten_thousand_actors_each_answer_one_ask() -> None:
    class Room(AsyncioActor):
        def __init__(self, n: int) -> None:
            super().__init__()
            self.n = n

        def on_receive(self, message: Any) -> Any:
            return self.n + message

    before = asyncio.all_tasks()
    refs = [Room.start(i) for i in range(10_000)]
    futures = [ref.ask(1, block=False) for ref in refs]
    answers = [await f for f in futures]
    assert answers == [i + 1 for i in range(10_000)]
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before
    assert not any(actor_of(r).actor_inbox.scheduled for r in refs)


@bounded
async def test_proxy_calls_return_awaitable_asyncio_futures() -> None:
    ref = Recorder.start()
    proxy = ref.proxy()
    future = proxy.double(5)
    assert isinstance(future, AsyncioFuture)
    assert await future == 10
    assert await proxy.slow_double(6) == 12
    assert await proxy.log == []
    proxy.double.defer(1)  # tell semantics
    assert await proxy.double(2) == 4
    # Setting through a proxy blocks (pykka's ActorProxy.__setattr__); the public message does not.
    assert await ref.ask(ProxySetAttr(("log",), ["set"]), block=False) is None
    assert await proxy.log == ["set"]


@bounded
async def test_future_map_and_join_can_be_awaited() -> None:
    ref = Recorder.start()
    mapped = ref.ask(20, block=False).map(lambda v: v + 1)
    joined = ref.ask(1, block=False).join(ref.ask(2, block=False))
    assert await mapped == 21
    assert await joined == [1, 2]
    resolved: AsyncioFuture[int] = AsyncioFuture()
    resolved.set(3)
    assert resolved.map(lambda v: v * 3).get() == 9


@bounded
async def test_fairness_flooded_actor_does_not_starve_the_loop() -> None:
    class Counter(AsyncioActor):
        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        def on_receive(self, message: Any) -> Any:
            self.n += 1
            return self.n

    ref = Counter.start()
    actor = actor_of(ref)
    observed: list[int] = []

    async def ticker() -> None:
        while True:
            observed.append(actor.n)
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    for i in range(100_000):
        ref.tell(i)
    total = await ref.ask("last", block=False)
    task.cancel()
    assert total == 100_001
    midway = [n for n in observed if 0 < n < 100_000]
    assert len(midway) > 10, "the ticker never ran while the flood was being handled"


@bounded
async def test_ask_helper_timeout_and_dead_actor() -> None:
    class Never(AsyncioActor):
        async def on_receive(self, message: Any) -> Any:
            await asyncio.Event().wait()

    ref = Never.start()
    with pytest.raises(TimeoutError):
        await ask(ref, "x", timeout=0.02)
    dead = Recorder.start()
    assert await stop(dead) is True
    with pytest.raises(ActorDeadError):
        await ask(dead, "x")


@bounded
async def test_cancelled_drain_task_fails_all_futures() -> None:
    class Stuck(AsyncioActor):
        async def on_receive(self, message: Any) -> Any:
            await asyncio.Event().wait()

    ref = Stuck.start()
    first = ref.ask(1, block=False)
    second = ref.ask(2, block=False)
    await asyncio.sleep(0.01)
    task = actor_of(ref)._task
    assert task is not None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    with pytest.raises(ActorDeadError):
        await first
    with pytest.raises(ActorDeadError):
        await second
    assert not ref.is_alive()


def test_start_off_the_loop_raises_clear_error() -> None:
    with pytest.raises(RuntimeError, match="event loop thread"):
        Recorder.start()


@bounded
async def test_registry_is_opt_in_and_unregister_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    class Registered(Recorder):
        register_globally = True

    caplog.set_level(logging.DEBUG, logger="pykka")
    plain = Recorder.start()
    registered = Registered.start()
    assert plain not in ActorRegistry.get_all()
    assert registered in ActorRegistry.get_all()
    plain.tell("boom")  # failure path unregisters too
    assert await stop(registered) is True
    assert await stop(plain) is False
    assert registered not in ActorRegistry.get_all()
    assert not [r for r in caplog.records if "not found in registry" in r.getMessage()]


@bounded
async def test_actor_stopped_flag_can_be_waited_on_from_a_thread() -> None:
    ref = Recorder.start()
    waited: list[bool] = []
    thread = threading.Thread(target=lambda: waited.append(ref.actor_stopped.wait(5)))
    thread.start()
    await asyncio.sleep(0.01)
    assert waited == []
    with pytest.raises(RuntimeError):
        ref.actor_stopped.wait(0.01)  # would block the loop
    await stop(ref)
    await asyncio.to_thread(thread.join, 10)  # keeps the loop free for the actor
    assert waited == [True]


@bounded
async def test_cross_thread_send_racing_stop_is_answered() -> None:
    ref = Recorder.start()
    inbox = actor_of(ref).actor_inbox
    await stop(ref)
    late: AsyncioFuture[Any] = AsyncioFuture()
    thread = threading.Thread(target=lambda: inbox.put(_Envelope("late", reply_to=late)))
    thread.start()
    thread.join()
    with pytest.raises(ActorDeadError):
        await asyncio.wait_for(late, 1)


@bounded
async def test_take_queued_takes_only_the_accepted_run_at_the_head() -> None:
    """The coalescing hook: a turn takes the run of accepted messages right behind it, at most
    `limit`, and leaves the first refused message and everything behind it in order."""
    handled: list[object] = []

    class Batcher(AsyncioActor):
        def on_receive(self, message: Any) -> Any:
            if message == "go":
                taken = self.take_queued(lambda m, reply: reply is None and isinstance(m, int), 2)
                handled.append([m for m, _ in taken])
            else:
                handled.append(message)
            return None

    ref = Batcher.start()
    for message in ("go", 1, 2, 3, "stop-here", 4):
        ref.tell(message)
    assert await ask(ref, "go") is None  # queued behind: everything above has been handled
    assert handled == [
        [1, 2],
        3,
        "stop-here",
        4,
        [],
    ]
    await stop(ref)
