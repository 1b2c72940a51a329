"""Rate limits on authentication, through the `limits` library.

In memory now; `limits` speaks Redis too, which is how several nodes will share one budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.util import WindowStats
from redis.exceptions import RedisError

from .errors import RateLimited

log = logging.getLogger("pitchey.ratelimit")

T = TypeVar("T")


def limits_storage(uri: str) -> Storage:
    """`async+memory://` on one node; `async+redis://...` (through redis-py) when nodes share."""
    options: dict[str, Any] = {}
    if uri.startswith("async+redis"):
        options = {
            "implementation": "redispy",
            "wrap_exceptions": True,
            "socket_timeout": 2.0,
            "socket_connect_timeout": 2.0,
        }
    storage = storage_from_string(uri, **options)
    assert isinstance(storage, Storage)
    return storage


class _Limiter:
    """A moving-window limiter on the shared storage that counts in this node's memory while the
    shared storage (Redis) is unreachable: limits hold per node meanwhile, instead of every
    login and write failing with a 500."""

    def __init__(self, storage: Storage, shared: bool) -> None:
        self._shared = SlidingWindowCounterRateLimiter(storage)
        self._local = SlidingWindowCounterRateLimiter(limits_storage("async+memory://")) if shared else None
        self._failing = False

    async def _run(self, op: Callable[[SlidingWindowCounterRateLimiter], Awaitable[T]]) -> T:
        if self._local is None:
            return await op(self._shared)
        try:
            result = await op(self._shared)
        except (StorageError, RedisError, OSError) as exc:
            if not self._failing:
                log.warning("rate-limit storage unreachable (%s); counting on this node", exc)
                self._failing = True
            return await op(self._local)
        self._failing = False
        return result

    async def hit(self, item: RateLimitItem, *ids: str) -> bool:
        return await self._run(lambda limiter: limiter.hit(item, *ids))

    async def test(self, item: RateLimitItem, *ids: str) -> bool:
        return await self._run(lambda limiter: limiter.test(item, *ids))

    async def clear(self, item: RateLimitItem, *ids: str) -> None:
        await self._run(lambda limiter: limiter.clear(item, *ids))

    async def get_window_stats(self, item: RateLimitItem, *ids: str) -> WindowStats:
        return await self._run(lambda limiter: limiter.get_window_stats(item, *ids))


class AuthLimiter:
    """Failed logins per email (against password guessing) and auth requests per client IP."""

    def __init__(self, failure_limit: str, ip_limit: str, storage_uri: str = "async+memory://"):
        storage = limits_storage(storage_uri)
        self.storage = storage
        self._limiter = _Limiter(storage, storage_uri.startswith("async+redis"))
        self._failures: RateLimitItem = parse(failure_limit)
        self._per_ip: RateLimitItem = parse(ip_limit)

    async def _retry_after(self, item: RateLimitItem, key: str) -> float:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1.0, stats.reset_time - time.time())

    async def hit_ip(self, ip: str) -> None:
        if not await self._limiter.hit(self._per_ip, "auth-ip", ip):
            raise RateLimited(await self._retry_after(self._per_ip, ip), "Too many authentication requests")

    async def check_login(self, email: str) -> None:
        if not await self._limiter.test(self._failures, "login-fail", email):
            raise RateLimited(
                await self._retry_after(self._failures, email),
                "Too many failed logins for this account; try again later",
            )

    async def login_failed(self, email: str) -> None:
        await self._limiter.hit(self._failures, "login-fail", email)

    async def login_succeeded(self, email: str) -> None:
        await self._limiter.clear(self._failures, "login-fail", email)


class WriteLimiter:
    """Writes (POST/PUT/PATCH/DELETE) per signed-in user and per client IP: the seed's
    "Rate Limiting: per-user and per-IP limits". Reads are left to caching."""

    def __init__(self, per_user: str, per_ip: str, storage_uri: str = "async+memory://"):
        storage = limits_storage(storage_uri)
        self._limiter = _Limiter(storage, storage_uri.startswith("async+redis"))
        self._per_user: RateLimitItem = parse(per_user)
        self._per_ip: RateLimitItem = parse(per_ip)

    async def hit(self, user_id: int | None, ip: str) -> None:
        if not await self._limiter.hit(self._per_ip, "write-ip", ip):
            stats = await self._limiter.get_window_stats(self._per_ip, "write-ip", ip)
            raise RateLimited(max(1.0, stats.reset_time - time.time()), "Too many writes from this address")
        if user_id is not None and not await self._limiter.hit(self._per_user, "write-user", str(user_id)):
            stats = await self._limiter.get_window_stats(self._per_user, "write-user", str(user_id))
            raise RateLimited(max(1.0, stats.reset_time - time.time()), "Too many writes; slow down")
