"""Rate limits on authentication, through the `limits` library.

In memory now; `limits` speaks Redis too, which is how several nodes will share one budget.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from .errors import RateLimited


def limits_storage(uri: str) -> Storage:
    """`async+memory://` on one node; `async+redis://...` (through redis-py) when nodes share."""
    options = {"implementation": "redispy"} if uri.startswith("async+redis") else {}
    storage = storage_from_string(uri, **options)
    assert isinstance(storage, Storage)
    return storage


class AuthLimiter:
    """Failed logins per email (against password guessing) and auth requests per client IP."""

    def __init__(self, failure_limit: str, ip_limit: str, storage_uri: str = "async+memory://"):
        storage = limits_storage(storage_uri)
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._failures: RateLimitItem = parse(failure_limit)
        self._per_ip: RateLimitItem = parse(ip_limit)

    async def _retry_after(self, item: RateLimitItem, key: str) -> float:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1.0, stats.reset_time - time.time())

    async def hit_ip(self, ip: str) -> None:
        if not await self._limiter.hit(self._per_ip, "auth-ip", ip):
            raise RateLimited(
                await self._retry_after(self._per_ip, ip), "Too many authentication requests"
            )

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
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_user: RateLimitItem = parse(per_user)
        self._per_ip: RateLimitItem = parse(per_ip)

    async def hit(self, user_id: int | None, ip: str) -> None:
        if not await self._limiter.hit(self._per_ip, "write-ip", ip):
            stats = await self._limiter.get_window_stats(self._per_ip, "write-ip", ip)
            raise RateLimited(max(1.0, stats.reset_time - time.time()),
                              "Too many writes from this address")
        if user_id is not None and not await self._limiter.hit(
                self._per_user, "write-user", str(user_id)):
            stats = await self._limiter.get_window_stats(self._per_user, "write-user", str(user_id))
            raise RateLimited(max(1.0, stats.reset_time - time.time()),
                              "Too many writes; slow down")
