"""Baseline: a bare aiohttp WebSocket server that broadcasts every text it receives.

No rooms, no auth, no storage: on connect the socket joins one set (and is told
``{"type":"subscribed"}`` so the load generator knows it is in); on a text from any socket the
server does ``await ws.send_str(text)`` for every connected socket, the sender included, exactly
as a hand-written aiohttp broadcast would. Heartbeat as pitchey's default (10 s) so idle-socket
memory compares like with like.

    python -m bench.baseline_aiohttp PORT
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from aiohttp import WSMsgType, web

SUBSCRIBED = '{"type":"subscribed","room":"bench"}'


async def ws_handler(request: web.Request) -> web.StreamResponse:
    clients: set[web.WebSocketResponse] = request.app["clients"]
    ws = web.WebSocketResponse(heartbeat=10.0, compress=False, max_msg_size=64 * 1024)
    await ws.prepare(request)
    clients.add(ws)
    try:
        await ws.send_str(SUBSCRIBED)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                text = msg.data
                for peer in list(clients):
                    if not peer.closed:
                        with contextlib.suppress(ConnectionError):
                            await peer.send_str(text)
    finally:
        clients.discard(ws)
    return ws


async def main(port: int) -> None:
    app = web.Application()
    app["clients"] = set()
    app.router.add_get("/ws", ws_handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    print(f"baseline-aiohttp: listening on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
