"""`GET /ws`: authentication, one session per socket, and the session's send path.

The send path is where fan-out speed is won: rooms hand every subscriber the same pre-encoded
WebSocket frame, the session queues it, and once per loop iteration writes everything queued in one
call. The queue is bounded in bytes; a client that cannot keep up is closed with 4009 instead of
growing this process.

One writer owns each socket: the session. Data frames, its heartbeat pings, the pongs that answer
the peer's pings and the close frame all go through its queue to `request.transport`, in order;
aiohttp's WebSocketResponse only performs the handshake and parses what the peer sends (its
heartbeat, autoping and autoclose are off, so it never writes a frame of its own). The session's
`State` says where the connection stands. tests/test_ws_writer.py pins the aiohttp behaviour this
relies on. The one exception is the 101: aiohttp's writer holds it until the session's first
frames (`connected` and the user room's `subscribed`) and sends them together (`WsSession.open`).

Idle sessions are the common case, so a session owns little: its timers are the node's (one
heartbeat wheel, one expiry timer per token in the registry), and what only a busy session needs
is made on first use (docs/benchmarks.md, connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from enum import Enum
from typing import Any, Final, Self

import orjson
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractStreamWriter
from redis.exceptions import RedisError

from pitchey.protocol import (
    SUBPROTOCOL,
    CloseCode,
    ErrorCode,
    Ping,
    PresenceQuery,
    ProtocolError,
    RoomName,
    SendMessage,
    Subscribe,
    TokenBucket,
    Typing,
    Unsubscribe,
    parse_command,
)
from pitchey.protocol.events import connected, error_frame, pong
from pitchey.protocol.wsframe import close_frame, ping_frame, pong_frame, text_frame
from pitchey.rooms.access import RoomDenied, authorize
from pitchey.rooms.hub import Hub
from pitchey.rooms.messages import Join, Leave, Post, QueryPresence, Subscriber, TypingNotice, Unwatch, Watch
from pitchey.rooms.metrics import OpsMetrics
from pitchey.storage.database import StorageUnavailable

from .auth import Principal
from .errors import Forbidden, Unauthorized, Unavailable
from .observability import report_session_error
from .settings import Settings
from .state import APP_STATE, AppState

log = logging.getLogger("pitchey.ws")

#: Persistent rate-limit violations within this many seconds close the socket with 1008.
VIOLATION_WINDOW = 10.0
MAX_VIOLATIONS = 20
ABORT_AFTER_CLOSE = 2.0
#: How long a policy close waits for the rooms to answer the commands accepted before it.
DRAIN_TIMEOUT = 2.0
#: How long the 101 waits for the own room's `subscribed` to leave with it (WsSession.open).
OPEN_TIMEOUT = 1.0


class TicketStore:
    """One-time tickets for `/ws?ticket=`: a browser that cannot set headers gets one over REST.

    A ticket is useless after its first use or after its short lifetime.
    """

    def __init__(self, ttl: float = 60.0, redis: Any = None) -> None:
        self.ttl = ttl
        self._tickets: dict[str, tuple[Principal, float]] = {}
        # With several nodes a ticket issued on one is redeemed on another: keep them in Redis,
        # where GETDEL makes the first redemption the only one.
        self._redis = redis

    async def issue(self, principal: Principal) -> str:
        ticket = secrets.token_urlsafe(32)
        if self._redis is not None:
            value = orjson.dumps(
                [
                    principal.user_id,
                    principal.email,
                    principal.user_type,
                    str(principal.jti),
                    principal.expires_at,
                ]
            )
            try:
                await self._redis.set(f"pitchey:ticket:{ticket}", value, px=int(self.ttl * 1000))
                return ticket
            except (RedisError, OSError) as exc:
                # Redis away: a ticket this node alone can redeem beats no ticket at all.
                log.warning("ticket store unreachable (%s); issuing a node-local ticket", exc)
        self._purge()
        self._tickets[ticket] = (principal, time.monotonic() + self.ttl)
        return ticket

    async def redeem(self, ticket: str) -> Principal | None:
        if self._redis is not None and ticket not in self._tickets:
            try:
                raw = await self._redis.getdel(f"pitchey:ticket:{ticket}")
            except (RedisError, OSError) as exc:
                raise Unavailable("Tickets cannot be checked right now; try again") from exc
            if raw is None:
                return None
            uid, email, utype, jti, exp = orjson.loads(raw)
            return Principal(uid, email, utype, uuid.UUID(jti), exp, "ticket")
        entry = self._tickets.pop(ticket, None)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def _purge(self) -> None:
        if len(self._tickets) > 1024:
            now = time.monotonic()
            for key in [k for k, (_, exp) in self._tickets.items() if exp < now]:
                del self._tickets[key]


class FlushScheduler:
    """One loop callback per iteration flushes every session that got frames in it.

    A callback per session per event costs a handle, a context copy and a dispatch for each
    delivered frame; one shared callback costs that once per loop iteration.
    """

    __slots__ = ("_loop", "_pending", "_scheduled")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[WsSession] = []
        self._scheduled = False

    def add(self, session: WsSession) -> None:
        self._pending.append(session)
        if not self._scheduled:
            self._scheduled = True
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            self._loop.call_soon(self._run)

    def _run(self) -> None:
        pending, self._pending = self._pending, []
        self._scheduled = False
        for session in pending:
            session._flush()


class Heartbeat:
    """One timer for every session of the node instead of two per session (ping, pong deadline).

    A wheel of SLOTS sets, one visited every `interval / SLOTS` seconds: a session is put in the
    slot the hand reaches last, so it is pinged about `interval` after it opened and then every
    `interval`; a slot visited SLOTS/2 ticks after its pings (half an interval) drops the
    sessions among them that have not answered, as the per-session timers did. Per session that
    is one set entry instead of two TimerHandles with their argument tuples and heap entries
    (idle sessions are the common case: docs/benchmarks.md, connections)."""

    SLOTS = 20

    __slots__ = ("_hand", "_handle", "_loop", "_next", "_size", "_slots", "interval")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._slots: list[set[WsSession]] = [set() for _ in range(self.SLOTS)]
        self._hand = 0
        self._size = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._next = 0.0

    def __len__(self) -> int:
        return self._size

    def add(self, session: WsSession) -> int:
        """Watch `session`; returns its slot (the session keeps it to be removed in O(1))."""
        slot = (self._hand - 1) % self.SLOTS
        self._slots[slot].add(session)
        self._size += 1
        if self._handle is None:
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            self._next = self._loop.time() + self.interval / self.SLOTS
            self._handle = self._loop.call_at(self._next, self._tick)
        return slot

    def remove(self, session: WsSession, slot: int) -> None:
        peers = self._slots[slot]
        if session in peers:
            peers.discard(session)
            self._size -= 1
            if not self._size and self._handle is not None:
                self._handle.cancel()
                self._handle = None

    def _tick(self) -> None:
        slot = self._hand
        self._hand = (slot + 1) % self.SLOTS
        # Pinged half an interval ago and still silent: gone (before this slot's pings, so a
        # session removed here is not pinged).
        late = self._slots[(slot - self.SLOTS // 2) % self.SLOTS]
        for session in [s for s in late if s._awaiting_pong]:
            session._pong_missed()
        for session in list(self._slots[slot]):
            session._ping()
        if not self._size:
            self._handle = None
            return
        assert self._loop is not None
        self._next += self.interval / self.SLOTS
        # Behind schedule (a stalled loop): carry on from now rather than firing a backlog of ticks.
        self._next = max(self._next, self._loop.time())
        self._handle = self._loop.call_at(self._next, self._tick)


class SessionRegistry:
    """Live sessions of this node, by token id: a logout closes them at once, and each token's
    expiry closes them with one timer per token (not one per session)."""

    def __init__(self) -> None:
        self.flusher = FlushScheduler()
        self.sessions: set[WsSession] = set()
        self.ops: OpsMetrics | None = None  # the operators' figures (server/routes/ops.py sets it)
        self._by_jti: dict[uuid.UUID, set[WsSession]] = {}
        self._expiry: dict[uuid.UUID, tuple[asyncio.TimerHandle, float]] = {}
        self._heartbeats: dict[float, Heartbeat] = {}

    def heartbeat(self, interval: float) -> Heartbeat:
        """The node's heartbeat wheel for `interval` (one per setting: in practice one)."""
        wheel = self._heartbeats.get(interval)
        if wheel is None:
            wheel = self._heartbeats[interval] = Heartbeat(interval)
        return wheel

    def add(self, session: WsSession) -> None:
        self.sessions.add(session)
        principal = session.principal
        jti = principal.jti
        peers = self._by_jti.get(jti)
        if peers is None:
            peers = self._by_jti[jti] = set()
        peers.add(session)
        # Every session of a token expires with it. A ticket or a cookie carries the token's own
        # expiry, so the first session's timer is every peer's; an earlier one replaces it.
        timer = self._expiry.get(jti)
        if timer is None or principal.expires_at < timer[1]:
            if timer is not None:
                timer[0].cancel()
            handle = asyncio.get_running_loop().call_later(
                max(0.0, principal.expires_at - time.time()), self._expired, jti
            )
            self._expiry[jti] = (handle, principal.expires_at)

    def remove(self, session: WsSession) -> None:
        self.sessions.discard(session)
        jti = session.principal.jti
        peers = self._by_jti.get(jti)
        if peers is not None:
            peers.discard(session)
            if not peers:
                del self._by_jti[jti]
                timer = self._expiry.pop(jti, None)
                if timer is not None:
                    timer[0].cancel()

    def _expired(self, jti: uuid.UUID) -> None:
        self._expiry.pop(jti, None)
        for session in list(self._by_jti.get(jti, ())):
            session.close_soon(CloseCode.UNAUTHORIZED, "Session expired")

    def expiry_timers(self) -> int:
        """Armed token-expiry timers (one per token with a live session)."""
        return len(self._expiry)

    def revoked(self, jti: uuid.UUID) -> None:
        for session in list(self._by_jti.get(jti, ())):
            session.close_soon(CloseCode.UNAUTHORIZED, "Session revoked")

    async def close_all(self, code: int, reason: str, timeout: float) -> None:
        """Tell every client to go (1012 on restart) and wait, bounded, for the sockets to close."""
        sessions = list(self.sessions)
        for s in sessions:
            s.close_soon(code, reason)
        if sessions:
            await asyncio.wait([s.closed_event() for s in sessions], timeout=timeout)


class _Barrier:
    """A stand-in subscriber that resolves when a room answers it. A room handles its messages
    one turn at a time, in order, so when it answers a query told after the session's commands,
    it has answered those commands (to the session) already."""

    __slots__ = ("done", "max_buffer", "session_id", "user_id", "user_type")

    def __init__(self, session: WsSession) -> None:
        self.session_id, self.user_id, self.user_type = session.session_id, session.user_id, session.user_type
        self.max_buffer = session.max_buffer
        self.done: asyncio.Future[None] = session._loop.create_future()

    def deliver(self, frame: bytes) -> bool:
        if not self.done.done():
            self.done.set_result(None)
        return True

    def evicted(self, room: RoomName) -> None:
        return None


class _NoRooms(set[RoomName]):
    """The empty room set shared by every session that watches nothing (most of them): reads
    and removals work as on any empty set; adding is a bug (give the session a set of its own)."""

    __slots__ = ()

    def add(self, element: RoomName) -> None:
        raise TypeError("NOT_WATCHING is shared: assign a new set first")

    def update(self, *others: Iterable[RoomName]) -> None:
        raise TypeError("NOT_WATCHING is shared: assign a new set first")

    def __ior__(self, other: AbstractSet[RoomName]) -> Self:  # type: ignore[override,misc]
        raise TypeError("NOT_WATCHING is shared: assign a new set first")


NOT_WATCHING: Final[set[RoomName]] = _NoRooms()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _HeldWebSocketResponse(web.WebSocketResponse):
    """aiohttp's WebSocketResponse with the 101 held in its writer until the first write through
    it, as aiohttp's own `web.Response` holds its headers for the body (the knob is
    StreamResponse's `_send_headers_immediately`; tests/test_ws_sessions.py pins it): the
    session's first frames leave with the 101 in one send (`WsSession.open`)."""

    _send_headers_immediately = False


class State(Enum):
    """Where a session's connection stands (as websockets' protocol.State)."""

    OPEN = "open"
    """Frames flow both ways."""
    CLOSING = "closing"
    """Our close frame is written (or the transport is closing): nothing more is sent, and what
    the peer still sends is read and dropped until its close frame (closing a socket with unread
    data would reset it, and the peer would lose our last frames: 1006). The peer has
    ABORT_AFTER_CLOSE seconds to answer."""
    CLOSED = "closed"
    """The connection is gone and the session has left its rooms."""


class WsSession:
    """One WebSocket connection of one signed-in user, and the only writer of its socket."""

    # An idle session is the common case (thousands per node, most of them silent): what only a
    # busy one needs (the rate bucket, the send queue, the watch set, the closed future) is
    # created on first use, and its timers are the node's (Heartbeat, the registry's expiry).
    __slots__ = (
        "__weakref__",
        "_abort_handle",
        "_awaiting_pong",
        "_backlog",
        "_closed",
        "_drain",
        "_flush_scheduled",
        "_hb_slot",
        "_heartbeat",
        "_loop",
        "_opening",
        "_out",
        "_out_bytes",
        "_pending_close",
        "_settings",
        "_violations",
        "_window_start",
        "bucket",
        "close_code",
        "close_reason",
        "flusher",
        "hub",
        "max_buffer",
        "ops",
        "principal",
        "rooms",
        "session_id",
        "state",
        "transport",
        "user_id",
        "user_type",
        "watching",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        principal: Principal,
        hub: Hub,
        settings: Settings,
        flusher: FlushScheduler | None = None,
    ) -> None:
        self.transport = transport
        self.principal = principal
        self.user_id = principal.user_id
        self.user_type = principal.user_type
        self.session_id = secrets.token_hex(8)
        self.hub = hub
        self.max_buffer = settings.ws_send_buffer
        self._settings = settings
        # Made at the first command: a bucket made at connect would be just as full by then.
        self.bucket: TokenBucket | None = None
        # Rooms as parsed at the edge (a RoomName hashes by value): one spelling per room.
        self.rooms: set[RoomName] = set()
        self.watching: set[RoomName] = NOT_WATCHING  # a set of its own at the first watch
        self.ops: OpsMetrics | None = None
        self._loop = asyncio.get_running_loop()
        self._out: list[bytes] = []  # frames queued this loop iteration (emptied, not replaced)
        self._out_bytes = 0
        self._backlog = 0
        self.flusher = flusher or FlushScheduler()
        self._flush_scheduled = False
        self.state = State.OPEN
        self.close_code: int | None = None
        self.close_reason = ""
        self._closed: asyncio.Future[None] | None = None
        self._violations = 0
        self._window_start = 0.0
        self._abort_handle: asyncio.TimerHandle | None = None
        self._drain: asyncio.Task[None] | None = None
        self._heartbeat: Heartbeat | None = None
        self._hb_slot = 0
        self._awaiting_pong = False
        # Set by hold_open() until open() sent the 101 (see there); a close asked meanwhile waits.
        self._opening: asyncio.Future[None] | None = None
        self._pending_close: tuple[int, str] | None = None

    def __hash__(self) -> int:
        return id(self)

    # -- the send path (called by rooms, on the loop) --------------------------------------

    def deliver(self, frame: bytes) -> bool:
        if self.state is not State.OPEN:
            return False
        self._out.append(frame)
        self._out_bytes += len(frame)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            opening = self._opening
            if opening is None:
                self.flusher.add(self)
            elif not opening.done():
                opening.set_result(None)  # open() writes it, with the 101
        # The transport's own backlog was read at the last flush; frames queued since add to it.
        if self._out_bytes + self._backlog > self.max_buffer:
            self._slow_consumer()
            return False
        return True

    def greet(self, frame: bytes) -> None:
        """Queue the `connected` greeting of a new session without a flush of its own: it leaves
        with the next frame, in practice the own room's `subscribed` a moment later (the room
        answers a Join with that or an error), in one write."""
        assert not self._out, "greet() comes first"
        self._out.append(frame)
        self._out_bytes = len(frame)

    def hold_open(self) -> None:
        """From now until `open()`, nothing is written: aiohttp's writer still holds the 101."""
        self._opening = self._loop.create_future()

    async def open(self, writer: AbstractStreamWriter, timeout: float) -> None:
        """Send the 101 (held by `_HeldWebSocketResponse`) with the first frames in one write:
        the greeting and the own room's `subscribed`, once the room answered or `timeout`
        passed. A loopback send costs tens of microseconds, and a handshake made three of them
        (101, `connected`, `subscribed`); the bare server makes two. A close asked meanwhile
        (revocation, expiry, shutdown) follows at once."""
        opening = self._opening
        assert opening is not None, "hold_open() first"
        if not opening.done() and self._pending_close is None:
            timer = self._loop.call_later(timeout, _resolve, opening)
            try:
                await opening
            finally:
                timer.cancel()
        self._opening = None
        self._flush_scheduled = False
        data = b"".join(self._out)
        self._out.clear()
        self._out_bytes = 0
        with contextlib.suppress(ConnectionError):  # the peer left meanwhile: the read loop ends
            await writer.write(data)
        if not self.transport.is_closing():
            self._backlog = self.transport.get_write_buffer_size()
        pending, self._pending_close = self._pending_close, None
        if pending is not None:
            self.close_soon(*pending)

    def _flush(self) -> None:
        self._flush_scheduled = False
        frames = self._out
        if self.state is not State.OPEN or not frames:
            return
        # One write for everything queued this iteration: one syscall instead of one per frame.
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        frames.clear()
        self._out_bytes = 0
        if self.transport.is_closing():
            self.close_soon(CloseCode.GOING_AWAY, "")
            return
        self.transport.write(data)
        self._backlog = self.transport.get_write_buffer_size()
        if self._backlog > self.max_buffer:
            self._slow_consumer()

    def _slow_consumer(self) -> None:
        if self.state is not State.OPEN:
            return
        self.hub.metrics.slow_consumer_closes.inc()
        log.info("closing slow consumer session=%s user=%s", self.session_id, self.user_id)
        self._out.clear()
        self._out_bytes = 0
        self._close_now(CloseCode.SLOW_CONSUMER, "Slow consumer")
        self.leave_all()  # now, not when the abort fires: no ghost presence meanwhile

    # -- closing ---------------------------------------------------------------------------

    def close_soon(self, code: int, reason: str) -> None:
        """Flush what is queued, send a close frame, and give the peer a moment to answer it."""
        if self.state is not State.OPEN:
            return
        if self._opening is None:  # else open() writes the queue after the 101, then closes
            self._flush()
        self._close_now(code, reason, linger=True)

    def close_after_replies(self, code: int, reason: str) -> None:
        """Close once every command accepted so far has its answer: take no more commands, let
        each room this session talks to answer a query told after them (its turns are in order),
        then `close_soon`. Bounded by DRAIN_TIMEOUT."""
        if self.state is not State.OPEN or self._drain is not None:
            return
        self._drain = self._loop.create_task(self._drain_then_close(code, reason))

    @property
    def draining(self) -> bool:
        return self._drain is not None

    async def _drain_then_close(self, code: int, reason: str) -> None:
        barriers: list[asyncio.Future[None]] = []
        for room in [*self.rooms, *(w.target for w in self.watching)]:
            barrier = _Barrier(self)
            # Subscriber is a protocol: the barrier is one as far as the room can tell.
            stand_in: Subscriber = barrier
            self.hub.tell(room, QueryPresence(stand_in))
            barriers.append(barrier.done)
        if barriers:
            await asyncio.wait(barriers, timeout=DRAIN_TIMEOUT)
        self.close_soon(code, reason)

    def _close_now(self, code: int, reason: str, *, send_frame: bool = True, linger: bool = False) -> None:
        """OPEN -> CLOSING: the close frame (unless the peer is unresponsive), then the transport:
        at once, or (`linger`) when the peer answers our close, reading until then."""
        if self.state is not State.OPEN:
            return
        opening = self._opening
        if opening is not None:  # the 101 has not left: open() sends it, then closes
            if self._pending_close is None:
                self._pending_close = (code, reason)
            if not opening.done():
                opening.set_result(None)
            return
        self.state = State.CLOSING
        self.close_code, self.close_reason = code, reason
        self._stop_heartbeat()
        transport = self.transport
        if transport.is_closing():
            return
        if send_frame:
            with contextlib.suppress(Exception):
                transport.write(close_frame(code, reason))
        # A peer that does not answer our close (or reads nothing at all) is cut off.
        self._abort_handle = self._loop.call_later(ABORT_AFTER_CLOSE, transport.abort)
        if not (send_frame and linger):
            transport.close()

    def peer_closed(self, code: int | None) -> None:
        """The peer sent its close frame: answer it (1000, as aiohttp's autoclose did) unless it
        answers ours, and close the transport (nothing unread is left behind it)."""
        log.debug("peer closed session=%s code=%s", self.session_id, code)
        if self.state is State.OPEN:
            self._flush()
            self._close_now(CloseCode.NORMAL, "")
        if not self.transport.is_closing():
            self.transport.close()

    def closed_event(self) -> asyncio.Future[None]:
        """Resolved once the handler is done with the socket (made on demand: shutdown asks)."""
        if self._closed is None:
            self._closed = self._loop.create_future()
            if self.state is State.CLOSED:  # finished() ran already (it follows CLOSED at once)
                self._closed.set_result(None)
        return self._closed

    def connection_lost(self) -> None:
        """The handler is done with the socket (any reason): CLOSED, and nothing more is sent."""
        self.state = State.CLOSED
        self._stop_heartbeat()

    def finished(self) -> None:
        self.connection_lost()
        if self._drain is not None:
            self._drain.cancel()
        # The handler is done: the transport goes now (aiohttp's write_eof then adds nothing).
        if not self.transport.is_closing():
            self.transport.close()
        if self._abort_handle is not None:
            self._abort_handle.cancel()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    # -- heartbeat (ours, on the same writer; aiohttp's is off) ----------------------------

    def start_heartbeat(self, wheel: Heartbeat | float) -> None:
        """Ping every `wheel.interval` seconds; a peer that has not answered within half of it
        is dropped (as aiohttp's heartbeat did: no close frame to a peer that does not read).
        Give the node's wheel (`SessionRegistry.heartbeat`); an interval alone gets this
        session a wheel of its own."""
        if isinstance(wheel, float | int):
            wheel = Heartbeat(float(wheel))
        if self.state is State.OPEN and self._heartbeat is None:
            self._heartbeat = wheel
            self._hb_slot = wheel.add(self)

    def _ping(self) -> None:
        """The wheel's hand reached this session's slot."""
        if self.state is not State.OPEN:
            return
        self.deliver(ping_frame())
        self._awaiting_pong = True

    def pong_received(self) -> None:
        self._awaiting_pong = False

    def answer_ping(self, payload: bytes) -> None:
        self.deliver(pong_frame(payload[:125]))

    def _pong_missed(self) -> None:
        self._awaiting_pong = False
        log.info("no pong from session=%s user=%s; dropping it", self.session_id, self.user_id)
        self._close_now(CloseCode.GOING_AWAY, "", send_frame=False)

    def _stop_heartbeat(self) -> None:
        wheel = self._heartbeat
        if wheel is not None:
            self._heartbeat = None
            wheel.remove(self, self._hb_slot)
        self._awaiting_pong = False

    # -- commands --------------------------------------------------------------------------

    def send_error(self, code: str, message: str, id: Any = None, room: str | None = None) -> None:
        self.deliver(text_frame(error_frame(code, message, id=id, room=room)))

    def _rate_ok(self) -> bool:
        bucket = self.bucket
        if bucket is None:
            bucket = self.bucket = TokenBucket(self._settings.ws_rate, self._settings.ws_burst)
        if bucket.take():
            return True
        now = time.monotonic()
        if now - self._window_start > VIOLATION_WINDOW:
            self._window_start, self._violations = now, 0
        self._violations += 1
        if self._violations > MAX_VIOLATIONS:
            self.close_after_replies(CloseCode.POLICY_VIOLATION, "Rate limit exceeded")
        return False

    def _accepting(self) -> bool:
        """Commands are taken only while OPEN and not draining toward a close; the rest of a
        burst after the limit closed the connection is read and dropped, unanswered."""
        return self.state is State.OPEN and self._drain is None

    async def handle_text(self, raw: str) -> None:
        if not self._accepting():
            return
        try:
            command = parse_command(raw)
        except ProtocolError as exc:
            # Bad frames count against the limit too, or flooding them would bypass it.
            if self._rate_ok():
                self.send_error(exc.code, exc.message, exc.id)
            else:
                self._rate_limited(exc.id)
            return
        self.hub.metrics.commands.labels(type(command).__name__.lower()).inc()
        if not self._rate_ok():
            self._rate_limited(command.id)
            return
        match command:
            case Ping(id=cid):
                self.deliver(text_frame(pong(cid)))
            case Subscribe():
                await self.subscribe(command)
            case Unsubscribe(room=room, id=cid):
                self.unsubscribe(room, cid)
            case SendMessage(room=room, text=text, id=cid):
                if self._require(room, cid):
                    self.hub.tell(room, Post(self, text, cid))
            case PresenceQuery(room=room, id=cid):
                if self._require(room, cid):
                    self.hub.tell(room, QueryPresence(self, cid))
            case Typing(room=room, id=cid):
                if self._require(room, cid):
                    self.hub.tell(room, TypingNotice(self, cid))

    def _rate_limited(self, cid: Any) -> None:
        if self.draining:  # the command that tripped the close: the close frame answers it
            return
        assert self.bucket is not None  # _rate_ok made it
        self.deliver(
            text_frame(
                error_frame(
                    ErrorCode.RATE_LIMITED, "Too many commands", id=cid, retry_after=self.bucket.retry_after()
                )
            )
        )

    def handle_binary(self) -> None:
        if not self._accepting():
            return
        if self._rate_ok():
            self.send_error(ErrorCode.BAD_FRAME, "Frames must be JSON text")
        else:
            self._rate_limited(None)

    def _require(self, room: RoomName, cid: Any) -> bool:
        if room.metrics or room not in self.rooms:
            self.send_error(ErrorCode.NOT_SUBSCRIBED, "Subscribe to the room first", cid, str(room))
            return False
        return True

    async def subscribe(self, cmd: Subscribe) -> None:
        room = cmd.room
        name = str(room)
        limit = self._settings.ws_max_subscriptions
        taken = len(self.rooms) + len(self.watching)
        if taken >= limit and room not in self.rooms and room not in self.watching:
            self.send_error("LIMIT", f"At most {limit} subscriptions", cmd.id, name)
            return
        if room.kind == "ops":  # metrics:ops, operators only: not a room actor (rooms/metrics.py)
            if self.ops is not None:
                await self.ops.watch(self, cmd.id)
            return
        privileged = False
        try:
            await authorize(cmd.room, self.user_id, self.user_type, self.hub.pitches)
        except RoomDenied as exc:
            # An operator may watch any existing room's metrics (the /ops room view).
            if not (room.metrics and exc.code == "FORBIDDEN" and self.ops and await self.ops.may_watch(self)):
                self.send_error(exc.code, str(exc), cmd.id, name)
                return
            privileged = True
        except StorageUnavailable:
            self.send_error("UNAVAILABLE", "Try again shortly", cmd.id, name)
            return
        if self.state is not State.OPEN:
            return
        if room.metrics:
            if self.watching is NOT_WATCHING:
                self.watching = set()
            self.watching.add(room)
            self.hub.tell(room.target, Watch(self, cmd.id))
            if privileged and self.ops is not None:
                self.ops.privileged_watch(self, room)  # taken back if the role is
        else:
            self.rooms.add(room)
            self.hub.tell(room, Join(self, cmd.since, cmd.epoch, cmd.id))

    def join_own_room(self) -> None:
        room = RoomName.user(self.user_id)
        self.rooms.add(room)
        self.hub.tell(room, Join(self))

    def unsubscribe(self, room: RoomName, cid: Any) -> None:
        if room.kind == "ops" and self.ops is not None and self.ops.unwatch(self, cid):
            return
        if room.metrics:
            if room in self.watching:
                self.watching.discard(room)
                self.hub.tell(room.target, Unwatch(self, cid, reply=True))
                return
        elif room in self.rooms:
            self.rooms.discard(room)
            self.hub.tell(room, Leave(self, cid, reply=True))
            return
        self.send_error(ErrorCode.NOT_SUBSCRIBED, "Not subscribed", cid, str(room))

    def evicted(self, room: RoomName) -> None:
        self.rooms.discard(room)

    def leave_all(self) -> None:
        for room in self.rooms:
            self.hub.tell(room, Leave(self))
        for room in self.watching:
            self.hub.tell(room.target, Unwatch(self))
        self.rooms.clear()
        self.watching = NOT_WATCHING
        if self.ops is not None:
            self.ops.forget(self)


def _offered_protocols(request: web.Request) -> list[str]:
    header = request.headers.get("Sec-WebSocket-Protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


async def authenticate_ws(request: web.Request, state: AppState, tickets: TicketStore) -> Principal:
    """Bearer subprotocol, one-time ticket, or same-origin session cookie; never a token in a URL."""
    for proto in _offered_protocols(request):
        if proto.startswith("bearer."):
            return state.tokens.verify(proto[len("bearer.") :], "subprotocol")
    ticket = request.query.get("ticket")
    if ticket is not None:
        principal = await tickets.redeem(ticket)
        if principal is None:
            raise Unauthorized("Invalid, expired or already used ticket")
        if state.revocations.is_revoked(principal.jti) or principal.expires_at <= time.time():
            raise Unauthorized("Session no longer valid")
        return principal
    cookie = request.cookies.get(state.settings.cookie_name)
    if cookie:
        principal = state.tokens.verify(cookie, "cookie")
        origin = request.headers.get("Origin")
        if origin is not None:
            origin = origin.rstrip("/")
            host_origins = {f"http://{request.host}", f"https://{request.host}"}
            if origin not in host_origins and origin not in state.settings.cors_origins:
                raise Forbidden("Cross-origin WebSocket with a session cookie")
        return principal
    raise Unauthorized("Send a token as the 'bearer.<token>' subprotocol, a ticket or a cookie")


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    state = request.app[APP_STATE]
    realtime = state.realtime
    principal = await authenticate_ws(request, state, realtime.tickets)
    settings = state.settings
    # aiohttp handshakes and parses; it writes nothing after the handshake: the session is the
    # socket's one writer (pings, pongs and the close frame included), so aiohttp's heartbeat,
    # autoping and autoclose are off.
    ws = _HeldWebSocketResponse(
        protocols=(SUBPROTOCOL,),
        heartbeat=None,
        autoping=False,
        autoclose=False,
        max_msg_size=64 * 1024,
        compress=False,
    )
    writer = await ws.prepare(request)  # the 101 waits in `writer` for session.open()
    transport = request.transport
    assert transport is not None
    registry: SessionRegistry = realtime.sessions
    session = WsSession(transport, principal, realtime.hub, settings, registry.flusher)
    session.hold_open()
    registry.add(session)  # from here its token's expiry or revocation closes it (4001)
    session.ops = registry.ops
    metrics = realtime.hub.metrics
    metrics.connections.inc()
    try:
        try:
            if realtime.draining:
                session.close_soon(CloseCode.SERVICE_RESTART, "Server restarting")
            else:
                # No local for the JSON: the handler's frame lives as long as the session, and
                # orjson's bytes keep their whole buffer (4 KB per idle session, measured).
                session.greet(
                    text_frame(connected(principal.user_id, principal.user_type, session.session_id))
                )
                session.join_own_room()
        finally:
            await session.open(writer, OPEN_TIMEOUT)  # whatever happened: the 101 goes
        session.start_heartbeat(registry.heartbeat(settings.ws_heartbeat))
        while True:
            msg = await ws.receive()
            match msg.type:
                case WSMsgType.TEXT:
                    await session.handle_text(msg.data)
                case WSMsgType.BINARY:
                    session.handle_binary()
                case WSMsgType.PING:
                    session.answer_ping(msg.data)
                case WSMsgType.PONG:
                    session.pong_received()
                case WSMsgType.CLOSE:
                    session.peer_closed(msg.data)
                    break
                case _:  # CLOSING, CLOSED, ERROR: the connection is gone
                    break
    except Exception as exc:
        # The socket is upgraded, so the middleware's 500 could not reach this client: report
        # the bug here (request id, room) and close with 1011 so the client reconnects.
        log.exception("websocket session=%s failed", session.session_id)
        report_session_error(exc, request, session)
        session.close_soon(CloseCode.INTERNAL_ERROR, "Internal error")
    finally:
        session.connection_lost()
        session.leave_all()
        registry.remove(session)
        metrics.connections.dec()
        session.finished()
    return ws
