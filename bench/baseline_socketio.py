"""Baseline: python-socketio (AsyncServer on aiohttp) broadcasting with a room emit.

A client joins room ``bench`` with a ``join`` event (acknowledged); a ``publish`` event's data is
re-emitted as ``message`` to the whole room (``sio.emit(..., room=...)``), the sender included,
which is how a socket.io application fans out a chat message.

    python -m bench.baseline_socketio PORT
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import socketio
from aiohttp import web


def build() -> web.Application:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        logger=False,
        engineio_logger=False,
        cors_allowed_origins="*",
        transports=["websocket"],
    )
    app = web.Application()
    sio.attach(app)

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def join(sid: str, room: str) -> str:
        await sio.enter_room(sid, room)
        return "ok"

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def publish(sid: str, data: Any) -> None:
        await sio.emit("message", data, room="bench")

    return app


async def main(port: int) -> None:
    app = build()
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    print(f"baseline-socketio: listening on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
