"""What an idle session shares with the node instead of owning (server/ws.py): one heartbeat wheel
for every session, one expiry timer per token, one empty watch set. Each shared piece must still do
for every session what a per-session one did."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
import uuid

import jwt
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from realtime_helpers import app_state, bearer, connect, protocols, realtime, user, wait_until

from pitchey.protocol import RoomName, parse_room
from pitchey.protocol.wsframe import close_frame, text_frame
from pitchey.server.ws import NOT_WATCHING, _HeldWebSocketResponse


async def test_shared_heartbeat_drops_only_the_silent_session(make_client):
    client = await make_client(ws_heartbeat=0.2)
    _, token = await user(client)
    registry = realtime(client).sessions
    answering = await client.ws_connect("/ws", protocols=protocols(token))  # aiohttp answers pings
    silent = await client.ws_connect("/ws", protocols=protocols(token), autoping=False)
    frames: list[WSMsgType] = []

    async def read() -> None:  # aiohttp's client answers a ping as it reads it
        async for msg in answering:
            frames.append(msg.type)

    reader = asyncio.create_task(read())
    await wait_until(lambda: len(registry.sessions) == 2, what="both sessions")
    wheel = registry.heartbeat(0.2)
    assert len(wheel) == 2  # one wheel for the node, both sessions on it
    await wait_until(lambda: len(registry.sessions) == 1, timeout=3, what="the silent session dropped")
    # The answering session outlives many more pings and their deadlines (5 intervals).
    await asyncio.sleep(1.0)
    assert len(registry.sessions) == 1
    assert len(wheel) == 1
    assert not answering.closed
    await answering.close()
    await reader
    await silent.close()
    await wait_until(lambda: len(registry.sessions) == 0, what="the sessions to leave")
    assert len(wheel) == 0


def _short_token(state, uid: int, email: str, seconds: int) -> tuple[str, int]:
    secret = state.settings.secret_file.read_text().strip()
    now = int(time.time())
    claims = {
        "sub": str(uid),
        "userId": uid,
        "email": email,
        "userType": "investor",
        "iat": now,
        "exp": now + seconds,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, secret, algorithm="HS256"), now + seconds


async def test_one_expiry_timer_closes_every_session_of_its_token(make_client):
    client = await make_client()
    uid, token = await user(client, "investor")
    state = app_state(client)
    session = await (await client.get("/api/auth/session", headers=bearer(token))).json()
    short, expires = _short_token(state, uid, session["data"]["user"]["email"], 2)
    registry = realtime(client).sessions
    first = await connect(client, short)
    second = await connect(client, short)
    assert registry.expiry_timers() == 1  # one token, one timer, however many sessions
    assert await first.closed(timeout=5.0) == 4001
    assert await second.closed(timeout=5.0) == 4001
    assert time.time() >= expires - 0.05  # not before the token's expiry
    await wait_until(lambda: len(registry.sessions) == 0, what="the expired sessions to leave")
    assert registry.expiry_timers() == 0


async def test_the_last_session_of_a_token_cancels_its_timer(make_client):
    client = await make_client()
    _, token = await user(client)
    _, other = await user(client)
    registry = realtime(client).sessions
    a = await connect(client, token)
    b = await connect(client, token)
    c = await connect(client, other)
    assert registry.expiry_timers() == 2
    await a.close()
    await wait_until(lambda: len(registry.sessions) == 2, what="a to leave")
    assert registry.expiry_timers() == 2  # b still holds its token's timer
    await b.close()
    await c.close()
    await wait_until(lambda: len(registry.sessions) == 0, what="the sessions to leave")
    assert registry.expiry_timers() == 0


async def test_the_shared_empty_watch_set_stays_empty(make_client):
    client = await make_client()
    uid, token = await user(client)
    conn = await connect(client, token)
    (session,) = realtime(client).sessions.sessions
    assert session.watching is NOT_WATCHING
    await conn.subscribe(f"metrics:user:{uid}")
    assert session.watching == {parse_room(f"metrics:user:{uid}")}
    assert session.watching is not NOT_WATCHING
    await conn.unsubscribe(f"metrics:user:{uid}")
    assert len(NOT_WATCHING) == 0
    with pytest.raises(TypeError):
        NOT_WATCHING.add(RoomName.user(uid))
    await conn.close()


async def test_the_101_waits_for_the_first_frames_and_leaves_with_them():
    """The aiohttp knob WsSession.open relies on: a response with `_send_headers_immediately`
    off keeps the 101 in its writer after prepare() and sends it with the first write."""
    prepared, go = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = _HeldWebSocketResponse(heartbeat=None, autoping=False, autoclose=False)
        writer = await ws.prepare(request)
        prepared.set()
        await go.wait()
        await writer.write(text_frame(b'"hello"'))
        transport = request.transport
        assert transport is not None
        transport.write(close_frame(1000))  # later frames go straight to the transport
        transport.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    loop = asyncio.get_running_loop()
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(
            sock,
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode(),
        )
        await prepared.wait()
        # prepare() is done: a 101 written by it would be in our receive buffer already (loopback).
        with pytest.raises(BlockingIOError):
            sock.recv(65536)
        go.set()
        data = b""
        async with asyncio.timeout(5):
            while chunk := await loop.sock_recv(sock, 65536):
                data += chunk
        sock.close()
    finally:
        await server.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert rest == text_frame(b'"hello"') + close_frame(1000)
