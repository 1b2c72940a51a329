"""Pykka actors whose inbox and message loop live on the asyncio event loop.

pykka is extended only where it says implementors may: the three hooks it documents for new
actor types (`_create_actor_inbox`, `_create_future`, `_start_actor_loop`), the public methods
of `ActorRef` and `Future`, and the public messages of `pykka.messages`. Envelopes, the stop
message, the message loop, proxy dispatch and the failure path are this module's own;
tests/test_pykka_contract.py checks that no other private pykka name is used.

A `ThreadingActor` costs one OS thread (about 23 KB of RSS and a slow start), and a
queue-plus-task actor keeps a suspended task and an `asyncio.Queue` alive for every
idle actor (about 6 KB). An idle `AsyncioActor` holds neither: its inbox is a deque
created on the first message and dropped when drained, and it is only ever on the
loop as a `call_soon` callback (sync handlers) or a task (while an awaitable handler
is in flight). That is what lets 10,000+ room actors share one aiohttp process.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import contextvars
import inspect
import logging
import queue
import sys
import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from types import CoroutineType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeAlias, TypeVar, cast, overload

import pykka
from pykka import ActorDeadError, ActorRef, ActorRegistry, Future, Timeout
from pykka.messages import ProxyCall, ProxyGetAttr, ProxySetAttr

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["AsyncioActor", "AsyncioActorRef", "AsyncioFuture", "ask", "stop"]

logger = logging.getLogger("pykka")

T = TypeVar("T")
M = TypeVar("M")
J = TypeVar("J")
R = TypeVar("R")
A = TypeVar("A", bound=pykka.Actor)

OptExcInfo: TypeAlias = "tuple[type[BaseException] | None, BaseException | None, TracebackType | None]"
GetHookFunc: TypeAlias = Callable[[float | None], T]
_Waiter: TypeAlias = "asyncio.Future[None] | _thread.LockType"
_Pending: TypeAlias = Coroutine[Any, Any, None]

# One process-wide lock guards the rare cross-thread hand-offs (a waiter registering
# while a result is set). Uncontended it costs less than a per-future lock would in
# memory, and futures are created once per ask.
_lock = threading.Lock()

_PENDING = 0
_VALUE = 1
_ERROR = 2
_NO_HOOK_RESULT: Any = object()  # a get hook's result not computed yet


class _Stop:
    """The stop message of AsyncioActorRef.stop() (ours: every ref of an AsyncioActor is one)."""

    __slots__ = ()


_STOP = _Stop()
_SPECIAL_MESSAGES = (_Stop, ProxyCall, ProxyGetAttr, ProxySetAttr)


class _Envelope:
    """A message and the future to answer it on (None for a tell); put in the inbox by our ref."""

    __slots__ = ("message", "reply_to")

    def __init__(self, message: Any, reply_to: Future[Any] | None = None) -> None:
        self.message = message
        self.reply_to = reply_to

    def __repr__(self) -> str:
        return f"<_Envelope {self.message!r} reply_to={self.reply_to!r}>"


def _attr_at(root: object, path: Iterable[str]) -> Any:
    """The attribute a proxy message names, from the actor down its `attr_path`."""
    attr = root
    for name in path:
        attr = getattr(attr, name)
    return attr


def _get_running_loop() -> asyncio.AbstractEventLoop | None:
    """The running loop of this thread, or None (asyncio's public call, without the raise)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _is_awaitable(value: object) -> bool:
    return type(value) is CoroutineType or inspect.isawaitable(value)


def _resolve_waiter(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _wake(waiters: list[_Waiter]) -> None:
    """Wake awaiting tasks (on their own loop) and threads blocked in `get()`."""
    running = _get_running_loop()
    for waiter in waiters:
        if isinstance(waiter, asyncio.Future):
            loop = waiter.get_loop()
            if loop is running:
                _resolve_waiter(waiter)
            else:
                with contextlib.suppress(RuntimeError):  # a closed loop has nobody to wake
                    loop.call_soon_threadsafe(_resolve_waiter, waiter)
        else:
            waiter.release()


def _dead_error(what: object) -> OptExcInfo:
    error = ActorDeadError(f"{what} stopped before handling the message")
    return (ActorDeadError, error, None)


def _reject(envelope: _Envelope, what: object) -> None:
    """Answer a message the actor will never handle, as pykka's teardown does."""
    reply_to = envelope.reply_to
    if reply_to is None:
        return
    try:
        if isinstance(envelope.message, _Stop):
            reply_to.set(None)
        else:
            reply_to.set_exception(_dead_error(what))
    except queue.Full:  # already answered before the actor died
        pass


class AsyncioFuture(Future[T]):
    """A pykka future that can be awaited on the event loop without blocking it.

    pykka's `ThreadingFuture.__await__` calls the blocking `get()`, which freezes the
    loop the actor needs to produce the value. Here `await` parks the task on an
    `asyncio.Future` created only when someone actually waits, and `get()` (for other
    threads) parks on a lock created only then; an unawaited future is six slots.
    """

    __slots__ = ("_hook", "_hook_result", "_result", "_sources", "_state", "_waiters")

    _hook: GetHookFunc[T] | None
    _hook_result: Any
    _state: int
    _result: Any
    _waiters: list[_Waiter] | None
    _sources: tuple[Future[Any], ...]

    def __init__(self) -> None:
        # Future.__init__ is skipped on purpose: it allocates a sentinel per future.
        self._hook = None
        self._hook_result = _NO_HOOK_RESULT
        self._state = _PENDING
        self._result = None
        self._waiters = None
        self._sources = ()

    def __repr__(self) -> str:
        state = ("pending", "value", "exception")[self._state]
        return f"<AsyncioFuture {state}>"

    def done(self) -> bool:
        """Whether `get()` would return without waiting (for map()/stop(): the sources)."""
        if self._hook is not None:
            return all(not isinstance(s, AsyncioFuture) or s.done() for s in self._sources)
        return self._state != _PENDING

    def _add_waiter(self, waiter: _Waiter) -> None:
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)

    def _remove_waiter(self, waiter: _Waiter) -> None:
        with _lock:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)

    def _unwrap(self) -> T:
        if self._state == _ERROR:
            raise self._result
        return cast("T", self._result)

    def get(self, *, timeout: float | None = None) -> T:
        """Block until resolved; refuses to block the event loop it is called on."""
        if self._hook is not None:
            if self._hook_result is _NO_HOOK_RESULT:
                self._hook_result = self._hook(timeout)
            return cast("T", self._hook_result)
        if self._state == _PENDING:
            if _get_running_loop() is not None:
                msg = (
                    "AsyncioFuture.get() on an event loop thread would deadlock the loop; "
                    "use `await future` (ask with block=False, or pitchey.actors.ask())"
                )
                raise RuntimeError(msg)
            lock = _thread.allocate_lock()
            lock.acquire()
            with _lock:
                registered = self._state == _PENDING and self._hook is None
                if registered:
                    self._add_waiter(lock)
            if registered:
                wait = -1.0 if timeout is None else max(timeout, 0.0)
                if not lock.acquire(timeout=wait):
                    self._remove_waiter(lock)
                if self._state == _PENDING:
                    if self._hook is not None:
                        return self.get(timeout=timeout)
                    msg = f"{timeout} seconds"
                    raise Timeout(msg)
            elif self._hook is not None:
                return self.get(timeout=timeout)
        return self._unwrap()

    def set(self, value: T | None = None) -> None:
        with _lock:
            if self._state != _PENDING or self._hook is not None:
                raise queue.Full
            self._result = value
            self._state = _VALUE
            waiters, self._waiters = self._waiters, None
        if waiters is not None:
            _wake(waiters)

    def set_exception(self, exc_info: OptExcInfo | None = None) -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        exc_type, exc_value, exc_tb = exc_info
        if exc_value is None:
            assert exc_type is not None, "set_exception() outside an except block"
            exc_value = exc_type()
        if exc_tb is not None and exc_value.__traceback__ is not exc_tb:
            exc_value = exc_value.with_traceback(exc_tb)
        with _lock:
            if self._state != _PENDING or self._hook is not None:
                raise queue.Full
            self._result = exc_value
            self._state = _ERROR
            waiters, self._waiters = self._waiters, None
        if waiters is not None:
            _wake(waiters)

    def set_get_hook(self, func: GetHookFunc[T]) -> None:
        with _lock:
            if self._state != _PENDING:
                raise queue.Full
            self._hook = func
            waiters, self._waiters = self._waiters, None
        if waiters is not None:
            _wake(waiters)

    # map/filter/join/reduce get their value through a get hook, which would call the
    # blocking get() of the source. Remembering the sources lets `await` wait for them
    # first, after which the hook runs without blocking.

    def _derived(self, future: Future[M], sources: tuple[Future[Any], ...]) -> Future[M]:
        if isinstance(future, AsyncioFuture):
            future._sources = sources
        return future

    def map(self, func: Callable[[T], M]) -> Future[M]:
        return self._derived(super().map(func), (self,))

    def filter(self: AsyncioFuture[Iterable[J]], func: Callable[[J], bool]) -> Future[Iterable[J]]:
        return self._derived(super().filter(func), (self,))

    def join(self: AsyncioFuture[Any], *futures: Future[Any]) -> Future[Iterable[Any]]:
        return self._derived(super().join(*futures), (self, *futures))

    def reduce(self: AsyncioFuture[Iterable[J]], func: Callable[[R, J], R], *args: R) -> Future[R]:
        return self._derived(super().reduce(func, *args), (self,))

    def _wait_done(self) -> Generator[Any, None, None]:
        """Suspend the awaiting task until this future (or its hook's sources) resolve."""
        if self._hook is not None:
            for source in self._sources:
                if isinstance(source, AsyncioFuture):
                    yield from source._wait_done()
            return
        if self._state != _PENDING:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with _lock:
            if self._state != _PENDING or self._hook is not None:
                return
            self._add_waiter(waiter)
        try:
            yield from waiter.__await__()
        except BaseException:  # cancelled: do not keep the dead waiter around
            self._remove_waiter(waiter)
            raise

    def __await__(self) -> Generator[Any, None, T]:
        yield from self._wait_done()
        return self.get()

    __iter__ = __await__


class _StoppedFlag:
    """Stands in for the per-actor `threading.Event` (about 1 KB with its Condition).

    `ActorRef.is_alive()` only calls `is_set()`; the Event for `wait()` is made lazily.
    """

    __slots__ = ("_event", "_set")

    def __init__(self) -> None:
        self._set = False
        self._event: threading.Event | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        with _lock:
            self._set = True
            event = self._event
        if event is not None:
            event.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._set:
            return True
        if _get_running_loop() is not None:
            msg = "waiting for an AsyncioActor to stop would block the event loop"
            raise RuntimeError(msg)
        with _lock:
            if self._set:
                return True
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        return event.wait(timeout)


class _Inbox:
    """The actor's mailbox and drain-scheduling state.

    Only the loop thread touches the deque and the scheduled flag; other threads hand
    their envelopes over with `call_soon_threadsafe`, so no lock is needed. The inbox
    holds the actor strongly (the `ActorRef` only holds it weakly), so an actor lives
    as long as a ref to it does, even when it has nothing scheduled on the loop.
    """

    __slots__ = ("_actor", "_context", "_loop", "_queue", "_scheduled")

    _actor: AsyncioActor | None
    _loop: asyncio.AbstractEventLoop
    _context: contextvars.Context
    _queue: deque[_Envelope] | None
    _scheduled: bool

    def __init__(self) -> None:
        self._actor = None
        self._queue = None
        self._scheduled = False

    def _bind(self, actor: AsyncioActor, loop: asyncio.AbstractEventLoop) -> None:
        self._actor = actor
        self._loop = loop
        # Handlers run in the actor's own context, not a copy of whichever sender
        # happened to schedule the drain: a room must not inherit one request's scope.
        self._context = contextvars.Context()

    @property
    def scheduled(self) -> bool:
        """Whether a drain callback or task is pending for this actor."""
        return self._scheduled

    def __len__(self) -> int:
        return 0 if self._queue is None else len(self._queue)

    def empty(self) -> bool:
        return not self._queue

    def get(self) -> _Envelope:
        if not self._queue:
            msg = "inbox is empty"
            raise IndexError(msg)
        return self._queue.popleft()

    def take_run(self, accept: Callable[[Any, Future[Any] | None], bool], limit: int) -> list[_Envelope]:
        """Pop the unbroken run of envelopes at the head that `accept(message, reply_to)` takes,
        at most `limit`; the first it refuses, and all behind it, keep their place."""
        q = self._queue
        taken: list[_Envelope] = []
        while q and len(taken) < limit:
            envelope = q[0]
            if not accept(envelope.message, envelope.reply_to):
                break
            taken.append(q.popleft())
        return taken

    def put(self, envelope: _Envelope, /) -> None:
        if _get_running_loop() is self._loop:
            self._put_local(envelope)
            return
        try:
            self._loop.call_soon_threadsafe(self._put_local, envelope, context=self._context)
        except RuntimeError:  # the loop is closed
            if envelope.reply_to is None:
                msg = f"{self._actor}: its event loop is closed"
                raise ActorDeadError(msg) from None
            _reject(envelope, self._actor or "actor")

    def _put_local(self, envelope: _Envelope) -> None:
        actor = self._actor
        if actor is None or actor.actor_stopped._set:
            # Lost a race with stop (a cross-thread send): answer instead of dropping.
            _reject(envelope, actor or "actor")
            return
        q = self._queue
        if q is None:
            q = self._queue = deque()
        q.append(envelope)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(actor._drain, context=self._context)


class AsyncioActorRef(ActorRef[A]):
    """An `ActorRef` whose futures can be awaited on the loop; it puts our envelopes in the inbox."""

    actor_inbox: _Inbox  # type: ignore[assignment]  # see AsyncioActor.actor_inbox

    def tell(self, message: Any) -> None:
        # Same as ActorRef.tell, one call shorter: tells are the hot path for rooms.
        if self.actor_stopped.is_set():
            msg = f"{self} not found"
            raise ActorDeadError(msg)
        self.actor_inbox.put(_Envelope(message))

    @overload
    def ask(self, message: Any, *, block: Literal[False], timeout: float | None = None) -> Future[Any]: ...

    @overload
    def ask(self, message: Any, *, block: Literal[True], timeout: float | None = None) -> Any: ...

    @overload
    def ask(self, message: Any, *, block: bool = True, timeout: float | None = None) -> Any | Future[Any]: ...

    def ask(self, message: Any, *, block: bool = True, timeout: float | None = None) -> Any | Future[Any]:
        # ActorRef.ask's documented behaviour, with our envelope: a dead actor answers at once.
        future = self.actor_class._create_future()
        if self.actor_stopped.is_set():
            future.set_exception((ActorDeadError, ActorDeadError(f"{self} not found"), None))
        else:
            self.actor_inbox.put(_Envelope(message, reply_to=future))
        if block:
            return future.get(timeout=timeout)
        return future

    @overload
    def stop(self, *, block: Literal[True], timeout: float | None = None) -> bool: ...

    @overload
    def stop(self, *, block: Literal[False], timeout: float | None = None) -> Future[bool]: ...

    @overload
    def stop(self, *, block: bool = True, timeout: float | None = None) -> bool | Future[bool]: ...

    def stop(self, *, block: bool = True, timeout: float | None = None) -> bool | Future[bool]:
        ask_future = self.ask(_STOP, block=False)

        def _stop_result_converter(timeout: float | None) -> bool:
            try:
                ask_future.get(timeout=timeout)
            except ActorDeadError:
                return False
            return True

        converted: AsyncioFuture[bool] = AsyncioFuture()
        converted._sources = (ask_future,)
        converted.set_get_hook(_stop_result_converter)
        if block:
            return converted.get(timeout=timeout)
        return converted


class AsyncioActor(pykka.Actor):
    """A pykka actor run by the event loop it was started on, with no thread or idle task.

    Must be started on the loop thread. Handlers (`on_receive`, proxied methods,
    `on_start`, `on_stop`, `on_failure`) may be plain or `async`; an awaitable result
    is awaited before the next message is handled, so one actor's messages never
    interleave (an input gate). `on_activate` is the typed place for async start-up work
    (pykka declares `on_start` as returning None): awaited after `on_start`, before the
    first message. Consequently an actor must not await an ask to
    itself from a handler: it would wait for its own input gate forever.

    On the loop use `await ref.ask(msg, block=False)` (or `await ask(ref, msg)`) and
    `await ref.stop(block=False)`; the blocking forms raise RuntimeError there unless
    the answer is already known. Other threads may use the blocking forms.
    """

    __slots__ = (
        "_ref",
        "_registered",
        "_started",
        "_task",
        "actor_inbox",
        "actor_stopped",
        "actor_urn",
    )

    register_globally: ClassVar[bool] = False
    """Whether `start()` puts the actor in pykka's global `ActorRegistry`.

    Off by default: the registry is a list under a lock with O(n) unregister, and
    the room manager already is the registry for rooms. Read once, by `start()`.
    """

    drain_batch: ClassVar[int] = 128
    """Messages handled per loop callback before yielding, so a flooded actor cannot
    starve sockets and other actors."""

    # pykka's ActorInbox protocol is typed with pykka's private Envelope; ours carries our own
    # envelopes, which only our ref puts there. Hence this ignore and the one on the hook.
    actor_inbox: _Inbox  # type: ignore[assignment]
    _ref: AsyncioActorRef[Any]
    # pykka declares a threading.Event; ours offers the part pykka's ActorRef uses (is_set) and
    # costs no lock. A deliberate narrowing of pykka's base class, hence the ignore.
    actor_stopped: _StoppedFlag  # type: ignore[assignment]
    _task: asyncio.Task[None] | None
    _started: bool
    _registered: bool

    def take_queued(
        self, accept: Callable[[Any, Future[Any] | None], bool], limit: int
    ) -> list[tuple[Any, Future[Any] | None]]:
        """The hook for coalescing (a room's group commit): take the messages queued right behind
        the current one, for this turn to handle together, as (message, reply_to) pairs.

        Only the unbroken run at the head of the inbox that `accept(message, reply_to)` takes, at
        most `limit`: nothing is reordered (the first message refused, and all behind it, keep
        their place), and a stopping actor takes nothing. The caller answers every `reply_to` it
        took. Call it only from the actor's own handler, on its loop."""
        if limit <= 0 or self.actor_stopped.is_set():
            return []
        return [(e.message, e.reply_to) for e in self.actor_inbox.take_run(accept, limit)]

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        # pykka's Actor.__init__ is not called: it allocates a threading.Event (about 1 KB) and a
        # plain ActorRef. This sets the fields pykka documents it as setting (actor_urn,
        # actor_inbox, actor_stopped, actor_ref) itself; the contract test pins that list.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            msg = (
                f"{type(self).__name__} must be started on the event loop thread "
                "(from a coroutine or loop callback); from another thread use "
                "asyncio.run_coroutine_threadsafe() or loop.call_soon_threadsafe()"
            )
            raise RuntimeError(msg) from None
        self.actor_urn = uuid.uuid4().urn
        inbox = self._create_actor_inbox()
        inbox._bind(self, loop)
        self.actor_inbox = inbox
        self.actor_stopped = _StoppedFlag()
        self._task = None
        self._started = False
        self._registered = False
        self._ref = AsyncioActorRef(self)

    @property
    def actor_ref(self) -> AsyncioActorRef[Self]:
        """The actor's ref (pykka's documented property, backed by our own slot)."""
        return self._ref

    @classmethod
    def start(cls, *args: Any, **kwargs: Any) -> ActorRef[Self]:
        obj = cls(*args, **kwargs)
        if getattr(obj, "_ref", None) is None:
            msg = f"{cls.__name__}.__init__() did not call super().__init__()"
            raise TypeError(msg)
        if cls.register_globally:
            ActorRegistry.register(obj.actor_ref)
            obj._registered = True
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(f"Starting {obj}")
        obj._start_actor_loop()
        return obj.actor_ref

    @staticmethod
    def _create_actor_inbox() -> _Inbox:  # type: ignore[override]
        return _Inbox()

    @staticmethod
    def _create_future() -> Future[Any]:
        return AsyncioFuture()

    def stop(self) -> None:
        """Stop after the messages already queued (pykka's Actor.stop, with our stop message)."""
        self.actor_ref.tell(_STOP)

    async def on_activate(self) -> None:
        """Async start-up (load state): awaited after `on_start`, before the first message.

        An exception in it fails the actor as one in `on_start` does."""

    def _start_actor_loop(self) -> None:
        cls = type(self)
        if cls.on_start is pykka.Actor.on_start and cls.on_activate is AsyncioActor.on_activate:
            # Nothing to run before the first message: stay off the loop entirely.
            self._started = True
            return
        inbox = self.actor_inbox
        if not inbox._scheduled:
            inbox._scheduled = True
            inbox._loop.call_soon(self._drain, context=inbox._context)

    # The drain: a call_soon callback handles messages synchronously; only when a
    # handler returns an awaitable does a task take over (until the inbox is empty or
    # the batch is spent), so the common sync case costs no Task per message.

    def _drain(self) -> None:
        try:
            step = self._step(self.drain_batch)
            if step is not None:
                inbox = self.actor_inbox
                self._task = inbox._loop.create_task(self._drain_async(*step), context=inbox._context)
        except BaseException:
            self._die()
            raise

    async def _drain_async(self, pending: _Pending, budget: int) -> None:
        try:
            while True:
                await pending
                step = self._step(budget)
                if step is None:
                    return
                pending, budget = step
        except BaseException:
            # Typically CancelledError at loop shutdown: fail every waiting future
            # rather than leave it hanging.
            self._die()
            raise
        finally:
            self._task = None

    def _step(self, budget: int) -> tuple[_Pending, int] | None:
        """Handle messages until one returns an awaitable, the budget runs out, or none are left."""
        inbox = self.actor_inbox
        stopped = self.actor_stopped
        if not self._started:
            self._started = True
            pending = self._start_hooks()
            if pending is not None:
                return pending, budget
        q = inbox._queue
        while q and not stopped._set:
            if budget <= 0:
                inbox._loop.call_soon(self._drain, context=inbox._context)
                return None
            budget -= 1
            envelope = q.popleft()
            message = envelope.message
            # Inlined hot path (one call per message fewer than via _dispatch).
            try:
                if isinstance(message, _SPECIAL_MESSAGES):
                    result = self._dispatch(message)
                else:
                    result = self.on_receive(message)
            except Exception:
                pending = self._handle_error(envelope)
                if pending is not None:
                    return pending, budget
                continue
            except BaseException:
                if envelope.reply_to is not None:
                    _reject(envelope, self.actor_ref)
                raise
            if result is not None and type(message) is not ProxyGetAttr and _is_awaitable(result):
                return self._finish(envelope, result), budget
            if envelope.reply_to is not None:
                envelope.reply_to.set(result)
        if stopped._set:
            self._teardown()
        else:
            inbox._queue = None  # an idle actor keeps no deque
            inbox._scheduled = False
        return None

    def _start_hooks(self) -> _Pending | None:
        """on_start, then on_activate (if overridden) unless on_start failed the actor."""
        pending = self._call_hook(self.on_start)
        if type(self).on_activate is AsyncioActor.on_activate:
            return pending
        if pending is None:
            return None if self.actor_stopped._set else self._call_hook(self.on_activate)
        return self._activate_after(pending)

    async def _activate_after(self, pending: _Pending) -> None:
        await pending
        if not self.actor_stopped._set:
            activation = self._call_hook(self.on_activate)
            if activation is not None:
                await activation

    async def _finish(self, envelope: _Envelope, awaitable: Awaitable[Any]) -> None:
        try:
            result = await awaitable
        except Exception:
            pending = self._handle_error(envelope)
            if pending is not None:
                await pending
            return
        except BaseException:
            if envelope.reply_to is not None:
                _reject(envelope, self.actor_ref)
            raise
        if envelope.reply_to is not None:
            envelope.reply_to.set(result)

    def _handle_error(self, envelope: _Envelope) -> _Pending | None:
        """Route the exception being handled: to the asker, or fail the actor (pykka)."""
        reply_to = envelope.reply_to
        if reply_to is not None:
            if logger.isEnabledFor(logging.INFO):
                logger.info(f"Exception returned from {self} to caller:", exc_info=True)
            reply_to.set_exception()
            return None
        exc_type, exc_value, exc_tb = sys.exc_info()
        self._fail(exc_type, exc_value, exc_tb)
        return self._call_hook(self.on_failure, exc_type, exc_value, exc_tb)

    def _call_hook(self, hook: Callable[..., object], *args: Any) -> _Pending | None:
        """Run a lifecycle hook; like pykka, an exception in it fails the actor."""
        try:
            result = hook(*args)
        except Exception:
            self._fail(*sys.exc_info())
            return None
        if result is not None and _is_awaitable(result):
            return self._await_hook(cast("Awaitable[object]", result))
        return None

    async def _await_hook(self, awaitable: Awaitable[object]) -> None:
        try:
            await awaitable
        except Exception:
            self._fail(*sys.exc_info())

    def _dispatch(self, message: Any) -> Any:
        """Our stop message and pykka's public proxy messages (as pykka's own loop handles them)."""
        if isinstance(message, _Stop):
            return self._begin_stop()
        if isinstance(message, ProxyCall):
            return _attr_at(self, message.attr_path)(*message.args, **message.kwargs)
        if isinstance(message, ProxyGetAttr):
            return _attr_at(self, message.attr_path)
        if isinstance(message, ProxySetAttr):
            parent = _attr_at(self, message.attr_path[:-1])
            return setattr(parent, message.attr_path[-1], message.value)
        return self.on_receive(message)

    def _begin_stop(self) -> _Pending | None:
        self._unregister()
        self.actor_stopped.set()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(f"Stopped {self}")
        return self._call_hook(self.on_stop)

    def _unregister(self) -> None:
        # ActorRegistry.unregister is an O(n) scan under a lock: skip it unless needed.
        if self._registered:
            self._registered = False
            ActorRegistry.unregister(self.actor_ref)

    def _fail(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exception_type is not None and exception_value is not None:
            logger.error(
                f"Unhandled exception in {self}:",
                exc_info=(exception_type, exception_value, traceback),
            )
        else:
            logger.error(f"Unhandled exception in {self}")
        self._unregister()
        self.actor_stopped.set()

    def _teardown(self) -> None:
        """Answer what is left in the inbox and go idle for good."""
        inbox = self.actor_inbox
        q, inbox._queue = inbox._queue, None
        inbox._scheduled = False
        inbox._actor = None  # break the inbox<->actor cycle; late sends are rejected
        ref = self.actor_ref
        while q:
            _reject(q.popleft(), ref)

    def _die(self) -> None:
        """A BaseException escaped a handler: stop without on_stop, fail all futures."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(f"{sys.exc_info()[1]!r} in {self}. Stopping it.")
        self._unregister()
        self.actor_stopped.set()
        self._teardown()


# The timeout keyword mirrors pykka's ask()/stop() signatures, hence ASYNC109.
async def ask(
    ref: ActorRef[Any],
    message: Any,
    *,
    timeout: float | None = None,
) -> Any:
    """Ask without blocking the loop; raises ActorDeadError, or TimeoutError on timeout."""
    future = ref.ask(message, block=False)
    if not isinstance(future, AsyncioFuture):
        # Another actor type (e.g. ThreadingActor): its futures only block.
        try:
            return await asyncio.to_thread(future.get, timeout=timeout)
        except Timeout as e:
            raise TimeoutError(str(e)) from e
    if timeout is None:
        return await future
    async with asyncio.timeout(timeout):
        return await future


async def stop(
    ref: ActorRef[Any],
    *,
    timeout: float | None = None,
) -> bool:
    """Stop and wait for on_stop; False if the actor was already dead."""
    future = ref.stop(block=False)
    if not isinstance(future, AsyncioFuture):
        return await asyncio.to_thread(future.get, timeout=timeout)
    converted = cast("AsyncioFuture[bool]", future)
    if timeout is None:
        return await converted
    async with asyncio.timeout(timeout):
        return await converted
