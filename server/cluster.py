"""What several nodes must share beyond room events: token revocations (pub/sub, so every node
closes the sessions of a logged-out token at once) and the Redis client other shared state uses
(one-time tickets, rate-limit counters, cache invalidations)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .auth import RevocationCache
from .cache import Cache, Token

if TYPE_CHECKING:
    from .state import AppState

log = logging.getLogger("pitchey.cluster")

REVOKED = "pitchey:revoked"


class Cluster:
    def __init__(self, url: str) -> None:
        self.redis = aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._handlers: dict[str, Callable[[bytes], None]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self, revocations: RevocationCache) -> None:
        def on_revoked(data: bytes) -> None:
            jti, _, exp = data.decode().partition(" ")
            with contextlib.suppress(ValueError):
                revocations.add(uuid.UUID(jti), float(exp))

        self._handlers[REVOKED] = on_revoked
        revocations.broadcaster = self.publish_revocation
        self._reader = asyncio.create_task(self._read_forever(), name="cluster-bus")

    def on(self, channel: str, handler: Callable[[bytes], None]) -> None:
        """Handle messages another node publishes on `channel` (e.g. cache invalidations)."""
        self._handlers[channel] = handler

    async def publish(self, channel: str, data: str | bytes) -> None:
        try:
            await self.redis.publish(channel, data)
        except (RedisError, OSError) as exc:
            log.warning("could not publish on %s: %s", channel, exc)

    async def publish_revocation(self, jti: uuid.UUID, expires_at: float) -> None:
        # The database row is the durable record; this only makes other nodes act at once.
        await self.publish(REVOKED, f"{jti} {expires_at}")

    async def _read_forever(self) -> None:
        while True:
            pubsub: Any = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._handlers)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        channel = message["channel"].decode()
                        handler = self._handlers.get(channel)
                        if handler is not None:
                            handler(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("cluster bus disconnected (%s); retrying", exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()


CACHE_CHANNEL = "pitchey:cache"


class SharedCache:
    """The read cache with invalidations shared between nodes.

    Entries stay in each node's memory (hot reads never leave the process); every invalidation
    is applied here and published, and every node applies the others'. A node that misses a
    message while Redis is away serves at most one TTL of staleness, the bound the cache
    promises anyway.
    """

    def __init__(self, local: Cache, cluster: Cluster) -> None:
        self.local = local
        self.cluster = cluster
        self.origin = uuid.uuid4().hex[:12]
        self._tasks: set[asyncio.Task[None]] = set()
        cluster.on(CACHE_CHANNEL, self._remote)

    async def get(self, key: str) -> Any | None:
        return await self.local.get(key)

    async def token(self, tags: Iterable[str]) -> Token:
        return await self.local.token(tags)

    async def set(
        self, key: str, value: Any, *, ttl: float, tags: Iterable[str] = (), token: Token | None = None
    ) -> bool:
        return await self.local.set(key, value, ttl=ttl, tags=tags, token=token)

    async def invalidate(self, *keys: str) -> None:
        await self.local.invalidate(*keys)
        await self._broadcast("k", keys)

    async def invalidate_tags(self, *tags: str) -> None:
        await self.local.invalidate_tags(*tags)
        await self._broadcast("t", tags)

    async def invalidate_prefix(self, prefix: str) -> None:
        await self.local.invalidate_prefix(prefix)
        await self._broadcast("p", (prefix,))

    async def _broadcast(self, kind: str, items: tuple[str, ...]) -> None:
        if items:
            await self.cluster.publish(CACHE_CHANNEL, orjson.dumps([self.origin, kind, items]))

    def _remote(self, data: bytes) -> None:
        origin, kind, items = orjson.loads(data)
        if origin == self.origin:
            return
        names: list[str] = items
        invalidation: Coroutine[Any, Any, None]
        if kind == "k":
            invalidation = self.local.invalidate(*names)
        elif kind == "t":
            invalidation = self.local.invalidate_tags(*names)
        elif kind == "p":
            invalidation = self.local.invalidate_prefix(names[0])
        else:
            log.warning("cache message of unknown kind %r ignored", kind)
            return
        task = asyncio.get_running_loop().create_task(invalidation)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def share_cache(state: AppState, cluster: Cluster) -> None:
    """Wrap the app's read cache so its invalidations reach every node."""
    if not isinstance(state.cache, SharedCache):
        state.cache = SharedCache(state.cache, cluster)
