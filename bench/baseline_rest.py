"""Baseline: a bare aiohttp + asyncpg app running the product's own SQL, nothing else.

No auth, no envelope, no validation, no cache, no actors: each route borrows a connection from an
asyncpg pool of the product's size and settings (min 2, max 10, no reset query on release) and
runs exactly the statements pitchey's store runs, then returns the rows as JSON. The statements
are not copied by hand: they are captured at start by calling `PitchStore` (storage/pitches.py)
against a recorder, so the baseline cannot drift from the product's SQL.

* ``GET /pitch/{id}``                 - `PitchStore.detail` (the primary-key SELECT joined with the
                                        owner's summary that `GET /api/pitches/{id}` loads on a
                                        cache miss);
* ``GET /browse``                     - `PitchStore.browse` for page 1 (limit 20, newest first) as
                                        an anonymous viewer, the query of `GET /api/pitches/browse`;
* ``POST|DELETE /like/{id}?user=U``   - `PitchStore.set_like`: its one statement (INSERT or DELETE
                                        of the like and the counter UPDATE in one CTE, its own
                                        transaction), what `POST|DELETE /api/pitches/{id}/like`
                                        writes.

    python -m bench.baseline_rest PORT DSN
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from aiohttp import web

from pitchey.storage.pitches import BrowseFilter, PitchStore, Viewer

POOL_MIN = 2
POOL_MAX = 10  # the product's default PITCHEY_DB_POOL_MAX
BROWSE_LIMIT = 20


class _Recorder:
    """Stands in for `Database`: remembers each statement the store would run."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.row: dict[str, Any] | None = None  # what fetchrow answers

    async def _record(self, sql: str, *args: Any) -> Any:
        self.calls.append((sql, args))
        return None

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        await self._record(sql, *args)
        return self.row

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        await self._record(sql, *args)
        return []

    async def fetchval(self, sql: str, *args: Any) -> int:
        await self._record(sql, *args)
        return 1  # "changed", so set_like goes on to its counter UPDATE

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Recorder]:
        yield self


async def capture() -> dict[str, Any]:
    """The product's statements: detail, browse page 1 (with its arguments), like, unlike."""
    rec = _Recorder()
    store = PitchStore(rec)  # type: ignore[arg-type]
    await store.detail(1)
    detail = rec.calls[-1][0]
    await store.browse(Viewer(), BrowseFilter(), limit=BROWSE_LIMIT, offset=0)
    browse, browse_args = rec.calls[-1]
    rec.row = {"changed": True, "total": 1}
    n = len(rec.calls)
    await store.set_like(1, 1, True)
    like = [sql for sql, _ in rec.calls[n:]]
    n = len(rec.calls)
    await store.set_like(1, 1, False)
    unlike = [sql for sql, _ in rec.calls[n:]]
    # One statement each (the like and its counter in one CTE): the handler below runs it as is.
    assert len(like) == 1 and len(unlike) == 1, (like, unlike)
    return {"detail": detail, "browse": browse, "browse_args": browse_args, "like": like, "unlike": unlike}


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    raise TypeError(type(obj).__name__)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, default=_default), status=status, content_type="application/json"
    )


def build(pool: asyncpg.Pool, sql: dict[str, Any]) -> web.Application:
    async def get_pitch(request: web.Request) -> web.Response:
        row = await pool.fetchrow(sql["detail"], int(request.match_info["id"]))
        if row is None:
            return _json({"error": "not found"}, 404)
        return _json(dict(row))

    async def browse(request: web.Request) -> web.Response:
        rows = await pool.fetch(sql["browse"], *sql["browse_args"])
        return _json([dict(r) for r in rows])

    async def like(request: web.Request) -> web.Response:
        pitch_id, user_id = int(request.match_info["id"]), int(request.query["user"])
        liked = request.method == "POST"
        [statement] = sql["like"] if liked else sql["unlike"]
        row = await pool.fetchrow(statement, pitch_id, user_id)
        return _json({"liked": liked, "likeCount": row["total"]})

    app = web.Application()
    app.router.add_get("/pitch/{id}", get_pitch)
    app.router.add_get("/browse", browse)
    app.router.add_post("/like/{id}", like)
    app.router.add_delete("/like/{id}", like)
    return app


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None


async def main(port: int, dsn: str) -> None:
    sql = await capture()
    # The same pool settings as pitchey's (storage/database.py): no reset query on release, which
    # would be one more round trip per request that pitchey does not make. BENCH_REST_BARE_RESET=1
    # keeps asyncpg's default reset (the baseline of the runs before 1 December 2026, 11:10 UTC).
    extra: dict[str, Any] = {} if os.environ.get("BENCH_REST_BARE_RESET") == "1" else {"reset": _no_reset}
    pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN, max_size=POOL_MAX, **extra)
    assert pool is not None
    runner = web.AppRunner(build(pool, sql), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    print(f"baseline-rest: listening on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
