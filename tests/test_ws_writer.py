"""One writer per WebSocket: what we rely on in aiohttp, pinned; and the session doing the writing.

server/ws.py writes every frame after the handshake itself, straight to `request.transport`
(pre-encoded fan-out frames, its own pings, the pongs and the close frame). That is sound only
if aiohttp, configured as we configure it (heartbeat=None, autoping=False, autoclose=False),
writes nothing of its own on that socket: not a pong, not a ping, not a close frame, neither
while the handler runs nor in the `write_eof()` that follows it. The first tests pin exactly that
on a bare aiohttp app and a raw socket, so an aiohttp upgrade that changes it fails here first.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from realtime_helpers import masked_frame, protocols, realtime, user, wait_until

from pitchey.protocol.wsframe import close_frame, pong_frame, text_frame


async def _open(port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(
        sock,
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode(),
    )
    return sock


async def _read_to_eof(sock: socket.socket, timeout: float = 5.0) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    async with asyncio.timeout(timeout):
        while chunk := await loop.sock_recv(sock, 65536):
            data += chunk
    return data


def _after_handshake(data: bytes) -> bytes:
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"HTTP/1.1 101"), head
    return rest


async def _serve(handler: web.RequestHandler[web.Request]) -> TestServer:
    app = web.Application()
    app.router.add_get("/ws", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_aiohttp_writes_nothing_of_its_own_as_we_configure_it():
    seen: list[WSMsgType] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None, autoping=False, autoclose=False)
        await ws.prepare(request)
        transport = request.transport
        assert transport is not None
        transport.write(text_frame(b'"hello"'))  # our fast path: bytes go out as given
        while True:
            msg = await ws.receive()
            seen.append(msg.type)
            if msg.type is WSMsgType.PING:  # surfaced, not answered by aiohttp (autoping off)
                transport.write(pong_frame(msg.data))
            elif msg.type is WSMsgType.CLOSE:  # surfaced, not answered (autoclose off)
                transport.write(close_frame(1000))
                transport.close()
                break
            else:
                break
        return ws  # aiohttp's write_eof() -> close() follows: it must add nothing

    server = await _serve(handler)
    try:
        sock = await _open(server.port)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, masked_frame(b"p1", opcode=0x9))
        await loop.sock_sendall(sock, masked_frame(struct.pack("!H", 1000), opcode=0x8))
        wire = _after_handshake(await _read_to_eof(sock))
        sock.close()
    finally:
        await server.close()
    assert seen == [WSMsgType.PING, WSMsgType.CLOSE]
    # Exactly our three frames: no pong, ping or second close frame from aiohttp.
    assert wire == text_frame(b'"hello"') + pong_frame(b"p1") + close_frame(1000)


async def test_after_we_close_the_transport_aiohttp_closes_quietly():
    ended: list[WSMsgType] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None, autoping=False, autoclose=False)
        await ws.prepare(request)
        transport = request.transport
        assert transport is not None
        transport.write(text_frame(b'"bye"') + close_frame(4001, "Session revoked"))
        transport.close()
        # The reader ends (no hang) once the transport is gone...
        msg = await asyncio.wait_for(ws.receive(), 5)
        ended.append(msg.type)
        return ws  # ...and write_eof() finds the transport closing: it writes no close frame.

    server = await _serve(handler)
    try:
        sock = await _open(server.port)
        wire = _after_handshake(await _read_to_eof(sock))
        sock.close()
    finally:
        await server.close()
    assert ended and ended[0] in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)
    assert wire == text_frame(b'"bye"') + close_frame(4001, "Session revoked")


async def test_the_session_answers_pings_and_closes(make_client):
    client = await make_client()
    _, token = await user(client)
    ws = await client.ws_connect("/ws", protocols=protocols(token), autoping=False)
    await ws.ping(b"are you there")
    async with asyncio.timeout(3):
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.PONG:
                assert msg.data == b"are you there"
                break
            assert msg.type == WSMsgType.TEXT, msg
    session = next(iter(realtime(client).sessions.sessions))
    assert session.state.value == "open"
    assert await ws.close()
    assert ws.close_code == 1000  # the session answered the client's close, as aiohttp did
    await wait_until(lambda: not realtime(client).sessions.sessions, what="the session to end")
    assert session.state.value == "closed"


async def test_a_server_close_is_one_close_frame_with_its_code(make_client):
    client = await make_client()
    _, token = await user(client)
    ws = await client.ws_connect("/ws", protocols=protocols(token))
    await ws.receive()  # connected
    session = next(iter(realtime(client).sessions.sessions))
    session.close_soon(4001, "Session revoked")
    assert session.state.value == "closing" and session.close_code == 4001
    async with asyncio.timeout(3):
        while (msg := await ws.receive()).type == WSMsgType.TEXT:
            pass
    assert msg.type == WSMsgType.CLOSE and msg.data == 4001 and msg.extra == "Session revoked"
