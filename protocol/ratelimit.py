"""A token bucket for per-connection command rate limits.

Pure and single-threaded: each connection owns its bucket and is driven by one task,
so no locks; the clock is injectable so tests do not sleep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

__all__ = ["TokenBucket"]

# Tolerance so that waiting exactly retry_after() seconds is always enough,
# despite floating-point rounding in the refill arithmetic.
_EPSILON: Final = 1e-9


class TokenBucket:
    """Allows ``burst`` commands at once, refilling at ``rate`` tokens per second."""

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate")

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError("rate must be a positive finite number")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate: float = float(rate)
        self.burst: int = burst
        self._clock = clock
        self._tokens: float = float(burst)
        self._last: float = clock()

    def _refill(self) -> None:
        now = self._clock()
        # A clock that goes backwards (it should not, but fakes can) grants nothing.
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)

    @property
    def tokens(self) -> float:
        """Tokens available now (for metrics and debugging)."""
        self._refill()
        return self._tokens

    def take(self, n: int = 1) -> bool:
        """Consume ``n`` tokens if available; on refusal nothing is consumed."""
        if n < 0:
            raise ValueError("n must be non-negative")
        self._refill()
        if self._tokens + _EPSILON >= n:
            self._tokens = max(0.0, self._tokens - n)
            return True
        return False

    def retry_after(self, n: int = 1) -> float:
        """Seconds until ``take(n)`` would succeed: 0.0 if now, ``inf`` if ``n > burst``."""
        if n < 0:
            raise ValueError("n must be non-negative")
        if n > self.burst:
            return math.inf
        self._refill()
        missing = n - self._tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate
