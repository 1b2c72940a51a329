"""Rate limits: request budgets through the `limits` library, and attempt reservations.

Request budgets (per IP, per user) only count: `limits`' `hit` is atomic in memory and in Redis.
Limits on the *outcome* of an expensive check (failed logins, declined cards) cannot be counted
after the check: parallel requests would all pass the test before any is counted (30 parallel
wrong passwords were all evaluated). `AttemptLimiter` reserves a slot atomically before the check
and gives it back when the outcome does not count, so at most `limit` checks ever run per window.
It counts in this node's memory, or in Redis (the cluster's client) when nodes share.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.util import WindowStats
from redis.exceptions import RedisError

from .errors import RateLimited

if TYPE_CHECKING:
    from redis.asyncio import Redis

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


# Reserve one attempt: drop what left the window, refuse when full (answering the seconds until
# the oldest attempt leaves it), else add this one. Redis' own clock, so every node agrees.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return {1, '0'}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
"""


@dataclass(frozen=True, slots=True)
class Reservation:
    """One reserved attempt; `shared` says which store holds it (Redis, or this node's memory)."""

    key: str
    token: str
    shared: bool


class AttemptLimiter:
    """At most `limit` attempts per key in a moving window, reserved before the check they guard.

    `reserve` counts the attempt atomically (one Lua script in Redis; no await between test and
    insert in memory) or raises `RateLimited` with the real time until the oldest attempt leaves
    the window. `release` gives one back (the attempt turned out not to count), `clear` forgets
    them all (a successful login). While Redis is unreachable it counts in memory, per node.
    """

    _SWEEP_EVERY = 1024

    def __init__(self, redis: Callable[[], Redis | None] = lambda: None) -> None:
        self._redis = redis
        self._local: dict[str, dict[str, float]] = {}
        self._ops = 0
        self._failing = False

    @staticmethod
    def _key(scope: str, key: str) -> str:
        # Hashed: an email of any length makes a short Redis key, and no user text reaches Redis.
        return f"pitchey:attempts:{scope}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    def _shared_failed(self, exc: BaseException) -> None:
        if not self._failing:
            log.warning("attempt-limit storage unreachable (%s); counting on this node", exc)
            self._failing = True

    async def reserve(self, scope: str, key: str, limit: int, window: float, message: str) -> Reservation:
        name = self._key(scope, key)
        token = uuid.uuid4().hex
        redis = self._redis()
        if redis is not None:
            try:
                ok, retry = await redis.eval(_RESERVE, 1, name, repr(float(window)), str(limit), token)
            except (RedisError, OSError) as exc:
                self._shared_failed(exc)
            else:
                self._failing = False
                if int(ok) != 1:
                    raise RateLimited(float(retry), message)
                return Reservation(name, token, shared=True)
        return self._reserve_local(name, token, limit, window, message)

    def _reserve_local(self, name: str, token: str, limit: int, window: float, message: str) -> Reservation:
        now = time.monotonic()
        self._ops += 1
        if self._ops % self._SWEEP_EVERY == 0:
            self._sweep(now, window)
        entries = self._local.setdefault(name, {})
        for old, at in list(entries.items()):
            if at <= now - window:
                del entries[old]
        if len(entries) >= limit:
            raise RateLimited(min(entries.values()) + window - now, message)
        entries[token] = now
        return Reservation(name, token, shared=False)

    def _sweep(self, now: float, window: float) -> None:
        """Forget keys whose newest attempt is older than `window` (bounded memory)."""
        for name in [n for n, e in self._local.items() if not e or max(e.values()) <= now - window]:
            del self._local[name]

    async def release(self, reservation: Reservation) -> None:
        if not reservation.shared:
            self._local.get(reservation.key, {}).pop(reservation.token, None)
            return
        redis = self._redis()
        if redis is None:
            return
        try:
            await redis.zrem(reservation.key, reservation.token)
        except (RedisError, OSError) as exc:
            self._shared_failed(exc)

    async def clear(self, scope: str, key: str) -> None:
        name = self._key(scope, key)
        self._local.pop(name, None)
        redis = self._redis()
        if redis is None:
            return
        try:
            await redis.delete(name)
        except (RedisError, OSError) as exc:
            self._shared_failed(exc)


class AuthLimiter:
    """Failed logins per email (against password guessing) and auth requests per client IP.

    A login reserves one failure before the password is checked (`reserve_login`); a right
    password clears the email's failures, a wrong one keeps its reservation, anything else
    (an error before the verdict) releases it."""

    def __init__(
        self,
        failure_limit: str,
        ip_limit: str,
        storage_uri: str = "async+memory://",
        attempts: AttemptLimiter | None = None,
    ):
        storage = limits_storage(storage_uri)
        self.storage = storage
        self._limiter = _Limiter(storage, storage_uri.startswith("async+redis"))
        self._failures: RateLimitItem = parse(failure_limit)
        self._per_ip: RateLimitItem = parse(ip_limit)
        self.attempts = attempts or AttemptLimiter()

    async def _retry_after(self, item: RateLimitItem, *ids: str) -> float:
        stats = await self._limiter.get_window_stats(item, *ids)
        return max(1.0, stats.reset_time - time.time())

    async def hit_ip(self, ip: str) -> None:
        if not await self._limiter.hit(self._per_ip, "auth-ip", ip):
            raise RateLimited(
                await self._retry_after(self._per_ip, "auth-ip", ip), "Too many authentication requests"
            )

    async def reserve_login(self, email: str) -> Reservation:
        return await self.attempts.reserve(
            "login-fail",
            email,
            self._failures.amount,
            float(self._failures.get_expiry()),
            "Too many failed logins for this account; try again later",
        )

    async def login_succeeded(self, email: str) -> None:
        await self.attempts.clear("login-fail", email)


class LocalWindows:
    """The sliding-window counter of `limits` (a window's count plus the previous window's,
    weighted by how much of it still overlaps the last `expiry` seconds; windows aligned on
    multiples of `expiry`), kept in this node's memory without a single await.

    Every write passes two of these checks, so they should cost next to nothing: `limits`'
    async memory storage spends a dozen awaits and a lock per check. One node only; several
    nodes share Redis through `_Limiter` instead."""

    _SWEEP_EVERY = 4096

    def __init__(self, item: RateLimitItem, clock: Callable[[], float] = time.time) -> None:
        self.limit = item.amount
        self.expiry = float(item.get_expiry())
        self._clock = clock
        # key -> [window number, previous window's count, this window's count]
        self._windows: dict[str, list[int]] = {}
        self._ops = 0

    def hit(self, key: str) -> float:
        """Count one hit; 0 if it fits, else the seconds until one would (at least 1)."""
        now = self._clock()
        number = int(now // self.expiry)
        self._ops += 1
        if self._ops % self._SWEEP_EVERY == 0:
            self._sweep(number)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = [number, 0, 0]
        elif window[0] != number:
            window[1] = window[2] if window[0] == number - 1 else 0
            window[0], window[2] = number, 0
        elapsed = now - number * self.expiry
        previous, current = window[1], window[2]
        if int(previous * (self.expiry - elapsed) / self.expiry) + current + 1 <= self.limit:
            window[2] = current + 1
            return 0.0
        return max(1.0, self._wait(previous, current, elapsed))

    def _wait(self, previous: int, current: int, elapsed: float) -> float:
        """Seconds until the weighted count leaves room for one more hit: until
        floor(previous x share left) + current < limit, i.e. previous x share left < limit - current."""
        if current < self.limit and previous > 0:
            # Within this window: the previous window's weight decays linearly.
            return (1 - (self.limit - current) / previous) * self.expiry - elapsed + 0.001
        # Only in the next one, where this window's count is the decaying previous one.
        return self.expiry - elapsed + max(0.0, 1 - self.limit / current) * self.expiry + 0.001

    def _sweep(self, number: int) -> None:
        """Forget keys with no hit in this window or the previous one (bounded memory)."""
        for key in [k for k, w in self._windows.items() if w[0] < number - 1]:
            del self._windows[key]


class WriteLimiter:
    """Writes (POST/PUT/PATCH/DELETE) per signed-in user and per client IP: the seed's
    "Rate Limiting: per-user and per-IP limits". Reads are left to caching. On one node the
    counts live in this process (`LocalWindows`); with Redis, in Redis through `limits`."""

    def __init__(self, per_user: str, per_ip: str, storage_uri: str = "async+memory://"):
        self._per_user: RateLimitItem = parse(per_user)
        self._per_ip: RateLimitItem = parse(per_ip)
        self._limiter: _Limiter | None = None
        self._local_user: LocalWindows | None = None
        self._local_ip: LocalWindows | None = None
        if storage_uri.startswith("async+memory"):
            self._local_user = LocalWindows(self._per_user)
            self._local_ip = LocalWindows(self._per_ip)
        else:
            self._limiter = _Limiter(limits_storage(storage_uri), storage_uri.startswith("async+redis"))

    async def hit(self, user_id: int | None, ip: str) -> None:
        if self._local_ip is not None and self._local_user is not None:
            wait = self._local_ip.hit(ip)
            if wait:
                raise RateLimited(wait, "Too many writes from this address")
            if user_id is not None:
                wait = self._local_user.hit(str(user_id))
                if wait:
                    raise RateLimited(wait, "Too many writes; slow down")
            return
        assert self._limiter is not None
        if not await self._limiter.hit(self._per_ip, "write-ip", ip):
            stats = await self._limiter.get_window_stats(self._per_ip, "write-ip", ip)
            raise RateLimited(max(1.0, stats.reset_time - time.time()), "Too many writes from this address")
        if user_id is not None and not await self._limiter.hit(self._per_user, "write-user", str(user_id)):
            stats = await self._limiter.get_window_stats(self._per_user, "write-user", str(user_id))
            raise RateLimited(max(1.0, stats.reset_time - time.time()), "Too many writes; slow down")
