"""The read cache (the seed's KV): hot reads served from memory for a short, bounded time.

Writers invalidate by tag; readers never cache per-user decisions (protected fields, NDA access),
only the stored rows and the pages every anonymous caller sees alike.

Consistency: a reader takes a `token()` before it reads the database and hands it to `set()`;
the value is stored only if none of its tags was invalidated in between. So a read that raced an
edit can never park the pre-edit value in the cache ("edit then read returns the edit"). A
Redis-backed version keeps the same interface: tag generations become INCR counters, values
SETEX entries, and invalidations reach every node because they live in the shared store.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast

from aiohttp import web

from pitchey.rooms.readcache import CATALOG_TAG as CATALOG_TAG
from pitchey.rooms.readcache import pitch_tag as pitch_tag
from pitchey.rooms.readcache import viewer_tag as viewer_tag

from .envelope import dumps, etag_matches, request_id

T = TypeVar("T")

# How long each kind of entry may live. Edits invalidate at once; these bound only how stale the
# live counters (views, likes, trending scores) in cached anonymous pages can be.
PITCH_TTL = 30.0
BROWSE_TTL = 10.0
TRENDING_TTL = 30.0

# Tags: everything about one pitch, and every cached list of pitches. Rooms invalidate them too
# (inside the turn of the write), so they are defined next to the rooms' view of this cache.


# What a reader saw before it read: (eviction epoch, ((tag, generation), ...)).
Token = tuple[int, tuple[tuple[str, int], ...]]


class Cache(Protocol):
    """What endpoints may rely on; an in-process and a shared implementation both fit."""

    async def get(self, key: str) -> Any | None: ...

    async def token(self, tags: Iterable[str]) -> Token: ...

    async def set(
        self, key: str, value: Any, *, ttl: float, tags: Iterable[str] = (), token: Token | None = None
    ) -> bool: ...

    async def invalidate(self, *keys: str) -> None: ...

    async def invalidate_tags(self, *tags: str) -> None: ...

    async def invalidate_prefix(self, prefix: str) -> None: ...


@dataclass(slots=True)
class _Entry:
    value: Any
    expires: float
    tags: tuple[str, ...]


class TtlCache:
    """In-process TTL cache: bounded (least recently used goes first), monotonic clock, tags.

    Values are returned as stored, so store immutable things (frozen dataclasses, tuples, bytes).
    """

    def __init__(self, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}
        # Generations of recently invalidated tags, bounded; forgetting one bumps `_epoch`, which
        # voids every outstanding token (a miss or two, never a stale value).
        self._generation: OrderedDict[str, int] = OrderedDict()
        self._max_generations = max_entries * 4
        self._epoch = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if entry.expires <= self.clock():
            self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.value

    async def token(self, tags: Iterable[str]) -> Token:
        return self._epoch, tuple((t, self._generation.get(t, 0)) for t in tags)

    async def set(
        self, key: str, value: Any, *, ttl: float, tags: Iterable[str] = (), token: Token | None = None
    ) -> bool:
        """Store unless a tag in `token` was invalidated since it was taken; True if stored."""
        if token is not None:
            epoch, seen = token
            if epoch != self._epoch or any(self._generation.get(t, 0) != g for t, g in seen):
                return False
        if ttl <= 0:
            return False
        tags = tuple(tags)
        self._drop(key)
        self._entries[key] = _Entry(value, self.clock() + ttl, tags)
        for tag in tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))
        return True

    async def invalidate(self, *keys: str) -> None:
        for key in keys:
            self._drop(key)

    async def invalidate_tags(self, *tags: str) -> None:
        for tag in tags:
            self._generation[tag] = self._generation.pop(tag, 0) + 1
            for key in self._by_tag.pop(tag, set()):
                self._drop(key)
        while len(self._generation) > self._max_generations:
            self._generation.popitem(last=False)
            self._epoch += 1

    async def invalidate_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            self._drop(key)

    def clear(self) -> None:
        self._entries.clear()
        self._by_tag.clear()
        self._generation.clear()
        self._epoch += 1

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]


async def cached(
    cache: Cache, key: str, load: Callable[[], Awaitable[T]], *, ttl: float, tags: Iterable[str]
) -> T:
    """The cached value of `key`, or `load()` stored under `tags` (unless invalidated meanwhile).

    A `None` from `load` is not cached (absent things are cheap to ask about again, and a row
    created a moment later must show up).
    """
    hit = await cache.get(key)
    if hit is not None:
        return cast("T", hit)  # the key holds what a `load` for it returned
    tags = tuple(tags)
    token = await cache.token(tags)
    value = await load()
    if value is not None:
        await cache.set(key, value, ttl=ttl, tags=tags, token=token)
    return value


@dataclass(frozen=True, slots=True)
class Ready:
    """A GET answer serialised once: its `data` as JSON bytes, the meta extras (pagination) as
    JSON bytes, and the ETag `envelope.success` would give it. A cache hit is answered from these
    bytes (`respond`) with no model building and no re-serialisation; only the per-request id and
    time are written per hit, between `head` (the envelope up to the request id) and `tail`."""

    data: bytes
    meta_extra: bytes
    etag: str
    head: bytes
    tail: bytes


def ready(data: Any, meta_extra: dict[str, Any] | None = None) -> Ready:
    data_bytes = dumps(data)
    digest = hashlib.blake2b(data_bytes, digest_size=12)
    extra = b""
    if meta_extra:
        extra = dumps(meta_extra)
        digest.update(extra)
    head = b'{"success":true,"data":' + data_bytes + b',"meta":{"requestId":'
    tail = (b"," + extra[1:-1] if extra else b"") + b"}}"
    return Ready(data_bytes, extra, f'"{digest.hexdigest()}"', head, tail)


_ANSWER_HEADERS = (("Content-Type", "application/json"), ("Cache-Control", "private, no-cache"))


class _Clock:
    """`envelope.utc_now_iso()` as JSON bytes, its date and time formatted once a second."""

    __slots__ = ("prefix", "second")

    def __init__(self) -> None:
        self.second = -1
        self.prefix = b""

    def now(self) -> bytes:
        t = time.time()
        second = int(t)
        if second != self.second:
            stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self.prefix, self.second = b'"' + stamp.encode() + b".", second
        return self.prefix + b'%03dZ"' % int((t - second) * 1000)


_clock = _Clock()


def respond(request: web.Request, answer: Ready) -> web.Response:
    """The envelope around a `Ready` answer, or 304 when the caller already has it: the same
    bytes, headers and ETag as `envelope.success` makes for the same data."""
    if etag_matches(request.headers.get("If-None-Match"), answer.etag):
        return web.Response(status=304, headers={"ETag": answer.etag, "Cache-Control": "private, no-cache"})
    # Request ids are ASCII letters, digits and ._- (server/middleware.py), so they need no escaping;
    # orjson writes anything else.
    rid = request_id(request)
    plain = (rid.isascii() and rid.isalnum()) or _plain(rid)
    rid_json = b'"' + rid.encode() + b'"' if plain else dumps(rid)
    body = b"".join((answer.head, rid_json, b',"timestamp":', _clock.now(), answer.tail))
    response = web.Response(body=body, headers=_ANSWER_HEADERS)
    response.headers["ETag"] = answer.etag
    return response


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _plain(text: str) -> bool:
    return all(c in _PLAIN for c in text)


def setup_cache(app: web.Application, cache: Cache | None = None) -> None:
    """Choose the app's read cache, `state.cache` (called once from server/app.py; without it
    the state's own TtlCache serves)."""
    from .state import APP_STATE

    app[APP_STATE].cache = cache if cache is not None else TtlCache()
