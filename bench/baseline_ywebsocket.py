"""Baseline for the co-editing suite: a bare pycrdt-websocket server (y-websocket protocol).

pycrdt-websocket's own `WebsocketServer` (one `YRoom` per path, each holding a pycrdt `Doc` and an
`Awareness`; rooms deleted when their last client leaves, its default) with no authentication and
no store: an update is applied to the room's document in memory and broadcast, nothing is written
anywhere. The WebSocket transport is aiohttp, as pitchey's is, through a small adapter to the
`Channel` protocol pycrdt-websocket serves (the same thing its ASGI adapter does for an ASGI
server), so the comparison is between the two document servers, not two WebSocket stacks.
Heartbeat 10 s, as pitchey's default, so idle-connection memory compares like with like.

    python -m bench.baseline_ywebsocket PORT
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from aiohttp import WSMsgType, web
from pycrdt.websocket import WebsocketServer

MAX_FRAME = 2 * 1024 * 1024  # as pitchey's /ws/docs


class AiohttpChannel:
    """pycrdt's `Channel` (path, send, recv, async iteration) over an aiohttp WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, path: str) -> None:
        self._ws = ws
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> AiohttpChannel:
        return self

    async def __anext__(self) -> bytes:
        while True:
            msg = await self._ws.receive()
            if msg.type == WSMsgType.BINARY:
                return bytes(msg.data)
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                raise StopAsyncIteration

    async def recv(self) -> bytes:
        return await self.__anext__()

    async def send(self, message: bytes) -> None:
        # A peer gone mid-broadcast is not an error of the room (y-websocket ignores it too).
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._ws.send_bytes(message)


async def main(port: int) -> None:
    logging.basicConfig(level=logging.WARNING)

    def handled(exc: Exception, log: logging.Logger) -> bool:
        log.warning("room error: %r", exc, exc_info=exc)
        return True

    server = WebsocketServer(exception_handler=handled)

    opening = asyncio.Lock()

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=10.0, compress=False, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        # pycrdt-websocket 0.16 hangs connections that arrive while their room is still starting
        # (a second `start_room` waits for the start lock the first start holds for the room's
        # whole life): rooms are created and started one at a time here, then served as usual.
        async with opening:
            await server.get_room(request.path)
        await server.serve(AiohttpChannel(ws, request.path))
        return ws

    async def rooms(request: web.Request) -> web.Response:
        # For the orchestrator's checks: how many documents this server holds.
        return web.json_response({"rooms": len(server.rooms)})

    app = web.Application()
    app.router.add_get("/rooms", rooms)
    app.router.add_get("/{path:.*}", handler)
    async with server:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        print(f"baseline-ywebsocket: listening on http://127.0.0.1:{port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
