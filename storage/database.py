"""The asyncpg pool and the one place that turns connection trouble into `StorageUnavailable`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from .migrate import migrate, pending

log = logging.getLogger("pitchey.storage")

_UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
)

# The server answered but refuses this DSN (no such database, role or password): a one-line
# configuration error at start, not a traceback.
_REFUSED = (
    asyncpg.exceptions.InvalidCatalogNameError,
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
)


class StorageError(Exception):
    """Base of storage-level failures that callers map to API errors."""


class StorageUnavailable(StorageError):
    """The database cannot be reached or did not answer in time."""


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None


class Database:
    """Owns the pool. Stores borrow connections through `acquire()` or `transaction()`."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout

    @classmethod
    async def connect(
        cls, dsn: str, *, min_size: int = 2, max_size: int = 10, timeout: float = 5.0
    ) -> Database:
        try:
            pool = await asyncpg.create_pool(
                dsn,
                # The default reset (UNLISTEN, RESET ALL, unlock all...) is one more round trip per
                # query; no code here leaves session state on a connection (transactions roll
                # back on release, the migration lock is released explicitly).
                reset=_no_reset,
                min_size=min(min_size, max_size),
                max_size=max_size,
                timeout=timeout,
                command_timeout=timeout * 6,
                max_inactive_connection_lifetime=300,
            )
        except (*_UNAVAILABLE, *_REFUSED) as exc:
            raise StorageUnavailable(f"cannot connect to the database: {exc}") from exc
        assert pool is not None
        return cls(pool, timeout)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.pool.close(), timeout=self.timeout)
        except (TimeoutError, OSError):
            self.pool.terminate()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with self.pool.acquire(timeout=self.timeout) as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(str(exc) or type(exc).__name__) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.acquire() as conn, conn.transaction():
            yield conn

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            return await conn.fetchrow(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        async with self.acquire() as conn:
            return str(await conn.execute(sql, *args))

    async def migrate(self) -> list[str]:
        async with self.acquire() as conn:
            return await migrate(conn)

    async def ready(self) -> dict[str, Any]:
        """Readiness: the database answers and no shipped migration is pending."""
        try:
            async with self.acquire() as conn:
                missing = await pending(conn)
        except StorageUnavailable as exc:
            return {"database": "unavailable", "error": str(exc)[:200]}
        return {"database": "ok", "pendingMigrations": missing}
