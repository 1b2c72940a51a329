"""A Sentry ingest endpoint on loopback, for the tests: the SDKs post their envelopes to it.

`SentryCapture` runs a real aiohttp server on 127.0.0.1 (in a thread of its own, so both async
tests and the sync browser tests can use it) that answers `POST /api/<project>/envelope/` as
Sentry does and keeps every envelope, decompressed. `.dsn` is the DSN to give a server
(`http://<key>@127.0.0.1:<port>/1`): events never leave the machine.

    capture.raw()                 every envelope's bytes, joined (assert no secret is in them)
    capture.events(kind="event")  the items of a type (dicts: "event", "transaction"), in order
    capture.wait_for(pred, t)     the first event matching `pred`, polling until `t` seconds
    capture.requests              how many requests arrived at all (0: nothing was sent)
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

KEY = "0123456789abcdef0123456789abcdef"


def parse_envelope(raw: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """(item header, payload) of each item of an envelope (https://develop.sentry.dev/sdk/envelopes/)."""
    lines = raw.split(b"\n", 1)
    rest = lines[1] if len(lines) > 1 else b""
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        if not header_line.strip():
            continue
        header = json.loads(header_line)
        length = header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length:].removeprefix(b"\n")
        items.append((header, payload))
    return items


class SentryCapture:
    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        self.requests = 0
        self.port = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def dsn(self) -> str:
        return f"http://{KEY}@127.0.0.1:{self.port}/1"

    # -- the endpoint ----------------------------------------------------------------------

    async def _envelope(self, request: web.Request) -> web.Response:
        # aiohttp's parser already undid a gzip/deflate Content-Encoding; a body compressed
        # without saying so is undone here.
        body = await request.read()
        if body.startswith(b"\x1f\x8b"):
            body = gzip.decompress(body)
        with self._lock:
            self.envelopes.append(body)
        return web.json_response({"id": "0" * 32}, headers=self._cors())

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=self._cors())

    @staticmethod
    def _cors() -> dict[str, str]:
        # The browser SDK posts cross-origin (the app's origin is not the DSN's), as to sentry.io.
        return {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": "*",
            "Access-Control-Allow-Methods": "POST, OPTIONS",
        }

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        with self._lock:
            self.requests += 1
        return await handler(request)  # type: ignore[no-any-return]

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SentryCapture:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application(middlewares=[self._count])
            app.router.add_post("/api/{project}/envelope/", self._envelope)
            app.router.add_route("OPTIONS", "/api/{project}/envelope/", self._preflight)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="sentry-capture", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Sentry capture server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def clear(self) -> None:
        with self._lock:
            self.envelopes.clear()
            self.requests = 0

    # -- reading ---------------------------------------------------------------------------

    def raw(self) -> bytes:
        with self._lock:
            return b"\n".join(self.envelopes)

    def events(self, kind: str = "event") -> list[dict[str, Any]]:
        """The items of one type ("event", "transaction", ...), parsed, in arrival order."""
        with self._lock:
            envelopes = list(self.envelopes)
        found = []
        for envelope in envelopes:
            for header, payload in parse_envelope(envelope):
                if header.get("type") == kind:
                    found.append(json.loads(payload))
        return found

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events():
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                summary = [(e.get("tags"), _message(e)) for e in self.events()]
                raise AssertionError(f"no matching event within {timeout}s; got {summary}")
            time.sleep(0.05)

    async def await_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        """`wait_for` for async tests: polls without blocking their loop."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events():
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                summary = [(e.get("tags"), _message(e)) for e in self.events()]
                raise AssertionError(f"no matching event within {timeout}s; got {summary}")
            await asyncio.sleep(0.05)


def _message(event: dict[str, Any]) -> str:
    values = (event.get("exception") or {}).get("values") or []
    if values:
        return f"{values[-1].get('type')}: {values[-1].get('value')}"
    return str((event.get("logentry") or {}).get("message") or event.get("message") or "")


def tags(event: dict[str, Any]) -> dict[str, str]:
    """An event's tags as a dict (SDKs send a dict or a list of pairs)."""
    raw = event.get("tags") or {}
    return dict(raw) if isinstance(raw, dict) else {k: v for k, v in raw}
