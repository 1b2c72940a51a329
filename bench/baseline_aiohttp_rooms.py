"""Baseline with rooms: a bare aiohttp WebSocket server whose rooms are sets of sockets.

No auth, no storage, no ordering or recovery: a socket sends ``{"type":"subscribe","room":R}``
and is told ``{"type":"subscribed","room":R}``; any text with a ``"room"`` is sent, as received,
to every socket of that room with ``await ws.send_str(text)``, the sender included if it is a
member, as a hand-written aiohttp room broadcast would. Heartbeat as pitchey's default (10 s).
The scaling suite's many-rooms curve (bench/bench_scaling.py) runs it beside pitchey.

    python -m bench.baseline_aiohttp_rooms PORT
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys

from aiohttp import WSMsgType, web


async def ws_handler(request: web.Request) -> web.StreamResponse:
    rooms: dict[str, set[web.WebSocketResponse]] = request.app["rooms"]
    ws = web.WebSocketResponse(heartbeat=10.0, compress=False, max_msg_size=64 * 1024)
    await ws.prepare(request)
    mine: set[str] = set()
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            text = msg.data
            try:
                frame = json.loads(text)
                room = str(frame["room"])
            except (ValueError, KeyError, TypeError):
                continue
            if frame.get("type") == "subscribe":
                rooms.setdefault(room, set()).add(ws)
                mine.add(room)
                await ws.send_str(json.dumps({"type": "subscribed", "room": room}, separators=(",", ":")))
                continue
            for peer in list(rooms.get(room, ())):
                if not peer.closed:
                    with contextlib.suppress(ConnectionError):
                        await peer.send_str(text)
    finally:
        for room in mine:
            members = rooms.get(room)
            if members is not None:
                members.discard(ws)
                if not members:
                    del rooms[room]
    return ws


async def main(port: int) -> None:
    app = web.Application()
    app["rooms"] = {}
    app.router.add_get("/ws", ws_handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    print(f"baseline-aiohttp-rooms: listening on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
