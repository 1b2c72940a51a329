"""The Redis backplane: one total order per room across every node, as Centrifugo does it.

`publish` runs one Lua script that assigns the room's next seq, appends the event to the room's
bounded stream (its recovery history) and PUBLISHes it, atomically, so every node receives every
room's events in seq order. Each node subscribes only to the rooms it has subscribers in.

While Redis is unreachable a node keeps serving its own clients through a local fallback stream
whose epoch marks it as local; when Redis answers again every attached room is resynced, so a
history that could not be shared shows as an epoch change and `recovered: false`, never as a
silent gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from pitchey.protocol.events import encode_event, utc_timestamp
from pitchey.protocol.wsframe import text_frame
from pitchey.storage.rooms import RoomSnapshot

from .backplane import (
    HistoryLimits,
    InProcessBackplane,
    Listener,
    Publication,
    Recovery,
    new_epoch,
)

log = logging.getLogger("pitchey.rooms.redis")

# Keys use a hash tag so one room's keys live on one Redis Cluster slot.
PREFIX = "pitchey"
META_TTL = 7 * 24 * 3600  # seq and epoch outlive the history: seq never restarts silently
_SENTINEL = 918273645546372819

_PUBLISH = """
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'e', epoch)
  redis.call('DEL', KEYS[2])
end
local seq = redis.call('HINCRBY', KEYS[1], 's', 1)
local payload = ARGV[3] .. seq .. ARGV[4]
local maxlen = tonumber(ARGV[5])
if maxlen > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', maxlen, '0-' .. seq, 't', ARGV[7], 'p', payload)
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('PUBLISH', ARGV[1], epoch .. '\\n' .. seq .. '\\n' .. payload)
return {seq, epoch}
"""

_POSITION = """
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
local seq = redis.call('HGET', KEYS[1], 's') or '0'
return {tonumber(seq), epoch}
"""


def meta_key(room: str) -> str:
    return f"{PREFIX}:{{{room}}}:m"


def stream_key(room: str) -> str:
    return f"{PREFIX}:{{{room}}}:x"


def channel(room: str) -> str:
    return f"{PREFIX}:ch:{room}"


def split_event(type: str, room: str, data: Any) -> tuple[bytes, bytes]:
    """The encoded event around its seq, so Redis can put the seq it assigns in the middle."""
    full = encode_event(type, room=room, seq=_SENTINEL, data=data, timestamp=utc_timestamp())
    marker = b'"seq":%d' % _SENTINEL
    head, _, tail = full.partition(marker)
    return head + b'"seq":', tail


class RedisBackplane:
    """Backplane over Redis (pub/sub for delivery, a stream per room for history)."""

    def __init__(self, url: str, limits: HistoryLimits | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.limits = limits or HistoryLimits()
        self._clock = clock
        # One quick retry replaces a pooled connection that died with a Redis restart.
        self.redis = aioredis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=10,
            retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError],
        )
        self._publish = self.redis.register_script(_PUBLISH)
        self._position = self.redis.register_script(_POSITION)
        self._listeners: list[Listener] = []
        self._rooms: set[str] = set()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._fallback = InProcessBackplane(self.limits, clock)
        self._fallback.listen(self._dispatch)
        self.healthy = True
        self.on_resync: Callable[[str], None] | None = None
        self._stream_ttl = max(1, int(self.limits.max_age) + 60)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="redis-backplane")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()

    async def readiness(self) -> str:
        """'ok', or 'degraded' while Redis is unreachable (the node still serves its clients)."""
        if not self.healthy:
            return "degraded"
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return "degraded"
        return "ok"

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _dispatch(self, pub: Publication) -> None:
        for listener in self._listeners:
            listener(pub)

    # -- publishing and recovery -----------------------------------------------------------

    async def publish(self, room: str, type: str, data: Any) -> Publication:
        if not self.healthy:
            return await self._fallback.publish(room, type, data)
        head, tail = split_event(type, room, data)
        try:
            seq, epoch = await self._publish(
                keys=[meta_key(room), stream_key(room)],
                args=[channel(room), new_epoch(), head, tail, self.limits.max_events,
                      self._stream_ttl, int(self._clock() * 1000), META_TTL],
            )
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return await self._fallback.publish(room, type, data)
        payload = head + str(int(seq)).encode() + tail
        # Delivery happens when the PUBLISH comes back through the subscription, on every node
        # alike (this one included), so all nodes see one order.
        return Publication(room, int(seq), _s(epoch), type, text_frame(payload), time.monotonic())

    async def recover(self, room: str, since: int | None, epoch: str | None) -> Recovery:
        if not self.healthy:
            return await self._fallback.recover(room, since, epoch)
        try:
            seq, current_epoch = await self._position(keys=[meta_key(room)],
                                                      args=[new_epoch(), META_TTL])
            seq, current = int(seq), _s(current_epoch)
            if since is None or (epoch is not None and epoch != current) or since > seq:
                return Recovery(seq, current, False, [])
            if since == seq:
                return Recovery(seq, current, True, [])
            entries = await self.redis.xrange(stream_key(room), min=f"0-{since + 1}", max="+")
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return await self._fallback.recover(room, since, epoch)
        if not entries:
            return Recovery(seq, current, False, [])
        first_seq = int(_s(entries[0][0]).split("-")[1])
        oldest_ms = int(entries[0][1][b"t"])
        too_old = self.limits.max_age > 0 and \
            oldest_ms < (self._clock() - self.limits.max_age) * 1000
        if first_seq != since + 1 or too_old:
            return Recovery(seq, current, False, [])
        frames = [text_frame(fields[b"p"]) for _, fields in entries]
        last = int(_s(entries[-1][0]).split("-")[1])
        return Recovery(max(seq, last), current, True, frames)

    # -- node interest ---------------------------------------------------------------------

    async def attach(self, room: str) -> None:
        self._rooms.add(room)
        if self._pubsub is not None and self.healthy:
            try:
                await self._pubsub.subscribe(channel(room))
            except (RedisError, OSError) as exc:
                self._mark_unhealthy(exc)

    async def detach(self, room: str) -> None:
        self._rooms.discard(room)
        if self._pubsub is not None and self.healthy:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(channel(room))

    async def release(self, room: str) -> RoomSnapshot | None:
        """History lives in Redis; only a local fallback stream would need saving, and it is
        not shared, so it is simply dropped."""
        self._fallback.forget(room)
        return None

    async def restore(self, room: str, snapshot: RoomSnapshot) -> None:
        return None  # Redis keeps the history; a snapshot from a single-node past is stale

    # -- the subscription ------------------------------------------------------------------

    def _mark_unhealthy(self, exc: BaseException) -> None:
        if not self.healthy:
            return
        log.warning("Redis unreachable (%s); serving local clients only", exc)
        self.healthy = False
        # Subscribers move to a local stream (a new epoch): tell them, or they would read its
        # seq 1, 2, ... as a continuation of the shared one.
        for room in list(self._rooms):
            if self.on_resync is not None:
                self.on_resync(room)

    async def _read_forever(self) -> None:
        """Keep one subscription per node; on reconnect, resubscribe and resync every room."""
        delay = 0.2
        while True:
            try:
                self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(f"{PREFIX}:ch:__node__")
                await self._recover_health()
                delay = 0.2
                while True:
                    if not self.healthy:
                        await self._recover_health()
                    message = await self._pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    if message.get("type") != "message":
                        continue
                    self._deliver(_s(message["channel"]), message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._mark_unhealthy(exc)
                with contextlib.suppress(Exception):
                    await self._pubsub.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _recover_health(self) -> None:
        """Redis answers (again): subscribe every attached room and move rooms off the local
        streams they used meanwhile (their subscribers get a resync)."""
        await self.redis.ping()
        if self._rooms:
            await self._pubsub.subscribe(*(channel(r) for r in self._rooms))
        if self.healthy:
            return
        self.healthy = True
        log.info("Redis reachable again; resyncing %d rooms", len(self._rooms))
        for room in list(self._rooms):
            self._fallback.forget(room)
            if self.on_resync is not None:
                self.on_resync(room)

    def _deliver(self, chan: str, data: bytes) -> None:
        room = chan.removeprefix(f"{PREFIX}:ch:")
        epoch, seq, payload = data.split(b"\n", 2)
        type_start = payload.find(b'"type":"') + 8
        type_ = payload[type_start:payload.find(b'"', type_start)].decode()
        self._dispatch(Publication(room, int(seq), epoch.decode(), type_, text_frame(payload),
                                   time.monotonic()))


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
