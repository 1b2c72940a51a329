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
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from pitchey.protocol import events
from pitchey.protocol.events import Event, encode_data, encode_sequenced, utc_timestamp
from pitchey.protocol.wsframe import text_frame
from pitchey.storage.rooms import RoomSnapshot

from .backplane import (
    DocDeliver,
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


# Publishing, shared by the scripts below: assigns the seq, appends the stream, fans out. The
# event travels as parts (type, timestamp, data as JSON), never as frame bytes to patch: the seq is
# known only here, so every node builds the frame from the parts and the seq it is told
# (protocol/events.py:encode_sequenced). Stream entry fields: t (ms), y (type), s (timestamp), d.
# The PUBLISH envelope: epoch, seq, type, timestamp, data, one per line (data last: it is JSON,
# and JSON from orjson holds no raw newline).
_PUBLISH_FN = """
local function publish(meta, stream, p, etype, ts, data)
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    epoch = p.new_epoch
    redis.call('HSET', meta, 'e', epoch)
    redis.call('DEL', stream)
  end
  local seq = redis.call('HINCRBY', meta, 's', 1)
  if tonumber(p.maxlen) > 0 then
    redis.call('XADD', stream, 'MAXLEN', p.maxlen, '0-' .. seq, 't', p.now_ms, 'y', etype, 's', ts,
               'd', data)
    redis.call('EXPIRE', stream, p.stream_ttl)
  end
  redis.call('EXPIRE', meta, p.meta_ttl)
  redis.call('PUBLISH', p.chan, epoch .. '\\n' .. seq .. '\\n' .. etype .. '\\n' .. ts .. '\\n' .. data)
  return {seq, epoch}
end

-- PublishArgs (rooms/redis_backplane.py) at ARGV[i .. i+5].
local function publish_args(i)
  return {chan = ARGV[i], new_epoch = ARGV[i + 1], maxlen = ARGV[i + 2], stream_ttl = ARGV[i + 3],
          now_ms = ARGV[i + 4], meta_ttl = ARGV[i + 5]}
end
"""

# KEYS: meta, stream. ARGV: PublishCall.argv().
_PUBLISH = (
    _PUBLISH_FN
    + """
return publish(KEYS[1], KEYS[2], publish_args(1), ARGV[7], ARGV[8], ARGV[9])
"""
)

# KEYS: meta, stream. ARGV: PublishManyCall.argv(): the publish arguments, then type, timestamp
# and data of each event. Atomic, so the batch's seqs are consecutive; returns the last seq.
_PUBLISH_MANY = (
    _PUBLISH_FN
    + """
local p = publish_args(1)
local r
for i = 7, #ARGV, 3 do
  r = publish(KEYS[1], KEYS[2], p, ARGV[i], ARGV[i + 1], ARGV[i + 2])
end
return r
"""
)

# Presence: one hash per (room, node) of users this node holds, renewed by the node; a user is
# in the room while any live node's hash has them. `known` is who was announced as present, so a
# transition (and its event) happens exactly once, atomically with the publish.
# KEYS: node hash, nodes set, known hash, meta, stream. ARGV: PresenceCall.argv().
_PRESENCE = (
    _PUBLISH_FN
    + """
local node_hash, nodes, known, meta, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local p = publish_args(1)
local node, uid, value, ttl, prefix = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local ts, joined_data, left_data = ARGV[12], ARGV[13], ARGV[14]
if value ~= '' then
  redis.call('HSET', node_hash, uid, value)
  redis.call('SADD', nodes, node)
else
  redis.call('HDEL', node_hash, uid)
end
redis.call('EXPIRE', node_hash, ttl)
redis.call('EXPIRE', nodes, p.meta_ttl)
local present = false
for _, n in ipairs(redis.call('SMEMBERS', nodes)) do
  local h = prefix .. n
  if redis.call('EXISTS', h) == 0 then
    redis.call('SREM', nodes, n)
  elseif redis.call('HEXISTS', h, uid) == 1 then
    present = true
  end
end
local was_known = redis.call('HEXISTS', known, uid) == 1
redis.call('EXPIRE', known, p.meta_ttl)
local r
if present and not was_known then
  redis.call('HSET', known, uid, '1')
  r = publish(meta, stream, p, 'user_joined', ts, joined_data)
  return {r[1], r[2], 'user_joined'}
elseif (not present) and was_known then
  redis.call('HDEL', known, uid)
  r = publish(meta, stream, p, 'user_left', ts, left_data)
  return {r[1], r[2], 'user_left'}
end
return {0, '', ''}
"""
)

# Renew this node's hash for a room and announce `user_left` for users no live node holds any
# more (a node that died stops renewing; its users go within the node ttl plus one period).
# KEYS: node hash, nodes set, known hash, meta, stream. ARGV: KeepaliveCall.argv(), whose tail is
# the flat list "uid, value, ..." of this node's users. The `user_left` data of a user found gone
# is built here, from the hash's field, which is the decimal user id this module wrote.
_KEEPALIVE = (
    _PUBLISH_FN
    + """
local node_hash, nodes, known, meta, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local p = publish_args(1)
local node, ttl, prefix, ts = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local first_user = 11
for i = first_user, #ARGV, 2 do
  redis.call('HSET', node_hash, ARGV[i], ARGV[i + 1])
end
if #ARGV >= first_user then
  redis.call('SADD', nodes, node)
  redis.call('EXPIRE', node_hash, ttl)
end
local live = {}
for _, n in ipairs(redis.call('SMEMBERS', nodes)) do
  local h = prefix .. n
  if redis.call('EXISTS', h) == 0 then
    redis.call('SREM', nodes, n)
  else
    table.insert(live, h)
  end
end
local left = 0
for _, uid in ipairs(redis.call('HKEYS', known)) do
  local present = false
  for _, h in ipairs(live) do
    if redis.call('HEXISTS', h, uid) == 1 then present = true break end
  end
  -- Fields are decimal user ids (written by this module); anything else is not announced.
  if not present and string.match(uid, '^[0-9]+$') then
    redis.call('HDEL', known, uid)
    publish(meta, stream, p, 'user_left', ts, '{"userId":' .. uid .. '}')
    left = left + 1
  end
end
return left
"""
)


@dataclass(frozen=True, slots=True)
class PublishArgs:
    """Where and how long a publish keeps the event: ARGV[1..6] of every script above."""

    channel: str
    new_epoch: str
    max_events: int
    stream_ttl: int
    now_ms: int
    meta_ttl: int

    def argv(self) -> list[str | int]:
        return [self.channel, self.new_epoch, self.max_events, self.stream_ttl, self.now_ms, self.meta_ttl]


@dataclass(frozen=True, slots=True)
class PublishCall:
    """ARGV of _PUBLISH: the publish arguments, then the event's type, timestamp and data."""

    publish: PublishArgs
    type: str
    timestamp: str
    data: bytes

    def argv(self) -> list[str | int | bytes]:
        return [*self.publish.argv(), self.type, self.timestamp, self.data]


@dataclass(frozen=True, slots=True)
class PublishManyCall:
    """ARGV of _PUBLISH_MANY: the publish arguments, then (type, timestamp, data) per event."""

    publish: PublishArgs
    events: Sequence[tuple[str, str, bytes]]

    def argv(self) -> list[str | int | bytes]:
        return [*self.publish.argv(), *(part for event in self.events for part in event)]


@dataclass(frozen=True, slots=True)
class PresenceCall:
    """ARGV of _PRESENCE. `tabs` 0 means the user's last tab on this node went."""

    publish: PublishArgs
    node: str
    user_id: int
    tabs: int
    user_type: str
    node_ttl: int
    node_prefix: str
    timestamp: str

    def argv(self) -> list[str | int | bytes]:
        value = f"{self.tabs}|{self.user_type}" if self.tabs > 0 else ""
        return [
            *self.publish.argv(),
            self.node,
            self.user_id,
            value,
            self.node_ttl,
            self.node_prefix,
            self.timestamp,
            encode_data(events.user_joined(self.user_id, self.user_type).data),
            encode_data(events.user_left(self.user_id).data),
        ]


@dataclass(frozen=True, slots=True)
class KeepaliveCall:
    """ARGV of _KEEPALIVE: this node's users in the room, `{user: (tabs, type)}`."""

    publish: PublishArgs
    node: str
    node_ttl: int
    node_prefix: str
    timestamp: str
    users: Mapping[int, tuple[int, str]]

    def argv(self) -> list[str | int | bytes]:
        flat: list[str | int | bytes] = []
        for uid, (tabs, utype) in self.users.items():
            flat += [uid, f"{tabs}|{utype}"]
        return [*self.publish.argv(), self.node, self.node_ttl, self.node_prefix, self.timestamp, *flat]


PRESENCE_TTL = 20  # seconds a node's presence lives without renewal (renewed every 5 s)
SUBSCRIBE_TIMEOUT = 2.0  # seconds attach() waits for Redis to confirm a SUBSCRIBE


def presence_keys(room: str, node: str) -> list[str]:
    return [
        f"{PREFIX}:{{{room}}}:pn:{node}",
        f"{PREFIX}:{{{room}}}:nodes",
        f"{PREFIX}:{{{room}}}:known",
        meta_key(room),
        stream_key(room),
    ]


def meta_key(room: str) -> str:
    return f"{PREFIX}:{{{room}}}:m"


def stream_key(room: str) -> str:
    return f"{PREFIX}:{{{room}}}:x"


def channel(room: str) -> str:
    return f"{PREFIX}:ch:{room}"


DOC_CHANNEL = f"{PREFIX}:doc:"


def doc_channel(key: str) -> str:
    return DOC_CHANNEL + key


class RedisBackplane:
    """Backplane over Redis (pub/sub for delivery, a stream per room for history)."""

    # Even the publishing node delivers from its subscription (one order on every node); only
    # the local fallback stream, used while Redis is away, calls the listener inline.

    def __init__(
        self, url: str, limits: HistoryLimits | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.url = url
        self.limits = limits or HistoryLimits()
        self._clock = clock
        # One quick retry replaces a pooled connection that died with a Redis restart.
        self.redis = aioredis.Redis.from_url(
            url,
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
            health_check_interval=10,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self._publish = self.redis.register_script(_PUBLISH)
        self._publish_many = self.redis.register_script(_PUBLISH_MANY)
        self._presence = self.redis.register_script(_PRESENCE)
        self._keepalive = self.redis.register_script(_KEEPALIVE)
        self.node_id = secrets.token_hex(6)
        self.presence_ttl = PRESENCE_TTL
        self._position = self.redis.register_script(_POSITION)
        self._listeners: list[Listener] = []
        self._rooms: set[str] = set()
        self._docs: dict[str, DocDeliver] = {}  # open co-edited documents, by channel
        # attach() calls waiting for Redis to confirm their SUBSCRIBE, by channel.
        self._subscribing: dict[str, list[asyncio.Future[None]]] = {}
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

    async def publish(self, room: str, event: Event) -> Publication:
        if not self.healthy:
            return await self._fallback.publish(room, event)
        timestamp, data = utc_timestamp(), encode_data(event.data)
        call = PublishCall(self._publish_args(room), event.type, timestamp, data)
        try:
            seq, epoch = await self._publish(keys=[meta_key(room), stream_key(room)], args=call.argv())
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return await self._fallback.publish(room, event)
        frame = text_frame(encode_sequenced(event.type, room, int(seq), timestamp, data))
        # Delivery happens when the PUBLISH comes back through the subscription, on every node
        # alike (this one included), so all nodes see one order.
        return Publication(room, int(seq), _s(epoch), event.type, frame, time.monotonic())

    async def publish_many(self, room: str, batch: Sequence[Event]) -> list[Publication]:
        if not batch:
            return []
        if not self.healthy:
            return await self._fallback.publish_many(room, batch)
        timestamp = utc_timestamp()
        parts = [(event.type, timestamp, encode_data(event.data)) for event in batch]
        call = PublishManyCall(self._publish_args(room), parts)
        try:
            last, epoch = await self._publish_many(keys=[meta_key(room), stream_key(room)], args=call.argv())
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return await self._fallback.publish_many(room, batch)
        first, now = int(last) - len(parts) + 1, time.monotonic()
        return [
            Publication(
                room,
                first + i,
                _s(epoch),
                kind,
                text_frame(encode_sequenced(kind, room, first + i, ts, data)),
                now,
            )
            for i, (kind, ts, data) in enumerate(parts)
        ]

    async def recover(self, room: str, since: int | None, epoch: str | None) -> Recovery:
        if not self.healthy:
            return await self._fallback.recover(room, since, epoch)
        try:
            seq, current_epoch = await self._position(keys=[meta_key(room)], args=[new_epoch(), META_TTL])
            seq, current = int(seq), _s(current_epoch)
            if since is None or epoch is None or epoch != current or since > seq:
                return Recovery(seq, current, False, [])
            if since == seq:
                return Recovery(seq, current, True, [])
            entries = await self.redis.xrange(stream_key(room), min=f"0-{since + 1}", max="+")
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return await self._fallback.recover(room, since, epoch)
        history = [_history_entry(room, entry_id, fields) for entry_id, fields in entries or ()]
        if not history or None in history:
            return Recovery(seq, current, False, [])
        kept = [entry for entry in history if entry is not None]
        first_seq, oldest_ms, _ = kept[0]
        too_old = self.limits.max_age > 0 and oldest_ms < (self._clock() - self.limits.max_age) * 1000
        if first_seq != since + 1 or too_old:
            return Recovery(seq, current, False, [])
        frames = [text_frame(payload) for _, _, payload in kept]
        return Recovery(max(seq, kept[-1][0]), current, True, frames)

    # -- presence across nodes -------------------------------------------------------------

    def _publish_args(self, room: str) -> PublishArgs:
        return PublishArgs(
            channel(room),
            new_epoch(),
            self.limits.max_events,
            self._stream_ttl,
            int(self._clock() * 1000),
            META_TTL,
        )

    async def presence_update(
        self, room: str, user_id: int, user_type: str, local_tabs: int
    ) -> Publication | None:
        if not self.healthy:
            return await self._fallback.presence_update(room, user_id, user_type, local_tabs)
        call = PresenceCall(
            self._publish_args(room),
            self.node_id,
            user_id,
            local_tabs,
            user_type,
            self.presence_ttl,
            f"{PREFIX}:{{{room}}}:pn:",
            utc_timestamp(),
        )
        try:
            seq, epoch, kind = await self._presence(keys=presence_keys(room, self.node_id), args=call.argv())
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return await self._fallback.presence_update(room, user_id, user_type, local_tabs)
        if not kind:
            return None
        event = (
            events.user_joined(user_id, user_type) if _s(kind) == "user_joined" else events.user_left(user_id)
        )
        frame = encode_sequenced(event.type, room, int(seq), call.timestamp, encode_data(event.data))
        return Publication(room, int(seq), _s(epoch), event.type, text_frame(frame), time.monotonic())

    async def presence(self, room: str, local: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self.healthy:
            return local
        try:
            nodes = [_s(n) for n in await self.redis.smembers(f"{PREFIX}:{{{room}}}:nodes")]
            async with self.redis.pipeline(transaction=False) as pipe:
                for n in nodes:
                    if n != self.node_id:  # this node's own view is `local`, newer than Redis
                        pipe.hgetall(f"{PREFIX}:{{{room}}}:pn:{n}")
                hashes = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return local
        hashes.append({str(u["userId"]): f"{u['connections']}|{u['userType']}" for u in local})
        users: dict[int, dict[str, Any]] = {}
        for h in hashes:
            for uid_raw, value in h.items():
                tabs, _, utype = _s(value).partition("|")
                entry = users.setdefault(
                    int(uid_raw), {"userId": int(uid_raw), "userType": utype, "connections": 0}
                )
                entry["connections"] += int(tabs)
        return sorted(users.values(), key=lambda u: int(u["userId"]))

    async def keepalive(self, rooms: dict[str, dict[int, tuple[int, str]]]) -> None:
        if not self.healthy:
            return
        for room, users in rooms.items():
            call = KeepaliveCall(
                self._publish_args(room),
                self.node_id,
                self.presence_ttl,
                f"{PREFIX}:{{{room}}}:pn:",
                utc_timestamp(),
                users,
            )
            try:
                await self._keepalive(keys=presence_keys(room, self.node_id), args=call.argv())
            except (RedisError, OSError) as exc:
                self._mark_unhealthy(exc)
                return

    # -- room metrics across nodes ---------------------------------------------------------

    async def metrics_rooms(self, local: set[str]) -> set[str]:
        if not self.healthy:
            return local
        key, now = f"{PREFIX}:watched", self._clock()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                if local:
                    pipe.zadd(key, {room: now + 5 for room in local})
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zrange(key, 0, -1)
                result = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return local
        return {_s(r) for r in result[-1]} | local

    async def metrics_merge(self, room: str, figures: dict[str, Any]) -> dict[str, Any]:
        if not self.healthy:
            return figures
        key = f"{PREFIX}:{{{room}}}:mx"
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, self.node_id, orjson.dumps(figures))
                pipe.expire(key, 3)
                pipe.hgetall(key)
                result = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
            return figures
        return merge_figures([orjson.loads(v) for v in result[-1].values()])

    # -- node interest ---------------------------------------------------------------------

    async def attach(self, room: str) -> None:
        self._rooms.add(room)
        if self._pubsub is None or not self.healthy:
            return
        # SUBSCRIBE only sends the command: the subscription is in effect when Redis confirms
        # it, and only from then on is every PUBLISH on its way here. A position read before
        # that (the joining session's recover, right after this) could fall between, and the
        # events published in between would never reach this node: a gap.
        chan = channel(room)
        confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._subscribing.setdefault(chan, [])
        waiting.append(confirmed)
        try:
            await self._pubsub.subscribe(chan)
            await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT)
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)
        except TimeoutError:
            log.warning("Redis did not confirm the subscription to %s within %s s", chan, SUBSCRIBE_TIMEOUT)
        finally:
            waiting.remove(confirmed)
            if not waiting:
                self._subscribing.pop(chan, None)

    def _subscribed(self, chan: str) -> None:
        for confirmed in self._subscribing.get(chan, ()):
            if not confirmed.done():
                confirmed.set_result(None)

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

    # -- co-edited documents (the DocRelay seam) -------------------------------------------

    async def doc_attach(self, key: str, deliver: DocDeliver) -> None:
        self._docs[doc_channel(key)] = deliver
        if self._pubsub is not None and self.healthy:
            try:
                await self._pubsub.subscribe(doc_channel(key))
            except (RedisError, OSError) as exc:
                self._mark_unhealthy(exc)

    async def doc_detach(self, key: str) -> None:
        self._docs.pop(doc_channel(key), None)
        if self._pubsub is not None and self.healthy:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(doc_channel(key))

    async def doc_publish(self, key: str, kind: bytes, payload: bytes) -> None:
        """PUBLISH `<node id><kind><payload>`; while Redis is away, nothing (the update is stored,
        and every open document catches up from the database when Redis is back)."""
        if not self.healthy:
            return
        try:
            await self.redis.publish(doc_channel(key), self.node_id.encode() + kind + payload)
        except (RedisError, OSError) as exc:
            self._mark_unhealthy(exc)

    def _deliver_doc(self, chan: str, data: bytes) -> None:
        deliver = self._docs.get(chan)
        node = self.node_id.encode()
        if deliver is not None and not data.startswith(node):
            deliver(data[len(node) : len(node) + 1], data[len(node) + 1 :])

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
                # Subscribe confirmations are read too: attach() waits for them.
                self._pubsub = self.redis.pubsub(ignore_subscribe_messages=False)
                await self._pubsub.subscribe(f"{PREFIX}:ch:__node__")
                await self._recover_health()
                delay = 0.2
                while True:
                    if not self.healthy:
                        await self._recover_health()
                    message = await self._pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    kind = message.get("type")
                    if kind == "subscribe":
                        self._subscribed(_s(message["channel"]))
                        continue
                    if kind != "message":
                        continue
                    chan = _s(message["channel"])
                    if chan.startswith(DOC_CHANNEL):
                        self._deliver_doc(chan, message["data"])
                        continue
                    self._deliver(chan, message["data"])
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
        if self._docs:
            await self._pubsub.subscribe(*self._docs)
        if self.healthy:
            return
        self.healthy = True
        log.info("Redis reachable again; resyncing %d rooms", len(self._rooms))
        for deliver in list(self._docs.values()):
            deliver(b"r", b"")  # relayed updates may have been lost: re-read the log
        for room in list(self._rooms):
            self._fallback.forget(room)
            if self.on_resync is not None:
                self.on_resync(room)

    def _deliver(self, chan: str, data: bytes) -> None:
        """One PUBLISH envelope (see _PUBLISH_FN): the event's parts, its seq and epoch."""
        room = chan.removeprefix(f"{PREFIX}:ch:")
        epoch, seq, type_, timestamp, payload = data.split(b"\n", 4)
        kind = type_.decode()
        frame = encode_sequenced(kind, room, int(seq), timestamp.decode(), payload)
        self._dispatch(Publication(room, int(seq), epoch.decode(), kind, text_frame(frame), time.monotonic()))


def merge_figures(per_node: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum what adds up across nodes (subscribers, frames out, drops); an event reaches every
    node, so events in is the largest node's count; latency is the worst node's."""
    if not per_node:
        return {}
    merged = dict(per_node[0])
    merged["subscribers"] = sum(f.get("subscribers", 0) for f in per_node)
    merged["eventsOutPerSec"] = round(sum(f.get("eventsOutPerSec", 0) for f in per_node), 2)
    merged["droppedFrames"] = sum(f.get("droppedFrames", 0) for f in per_node)
    merged["eventsInPerSec"] = max(f.get("eventsInPerSec", 0) for f in per_node)
    latency: dict[str, Any] = {}
    for part in ("p50", "p99", "max"):
        values = [
            f["fanoutLatencyMs"][part] for f in per_node if f.get("fanoutLatencyMs", {}).get(part) is not None
        ]
        latency[part] = max(values) if values else None
    merged["fanoutLatencyMs"] = latency
    merged["nodes"] = len(per_node)
    return merged


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _history_entry(
    room: str, entry_id: bytes | str | None, fields: Mapping[bytes | str, bytes | str] | None
) -> tuple[int, int, bytes] | None:
    """(seq, time in ms, event JSON) of a stream entry written by _PUBLISH (id `0-<seq>`, fields
    `t`, `y`, `s`, `d`); None for an entry without them, which the caller treats as a gap."""
    if entry_id is None or fields is None:
        return None
    ms, kind, timestamp, data = (fields.get(k) for k in (b"t", b"y", b"s", b"d"))
    if ms is None or kind is None or timestamp is None or not isinstance(data, bytes):
        return None
    seq = int(_s(entry_id).split("-")[1])
    return seq, int(ms), encode_sequenced(_s(kind), room, seq, _s(timestamp), data)
