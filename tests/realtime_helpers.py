"""Helpers shared by the tests/test_realtime_*.py suites: WebSocket clients over real sockets.

`Conn` wraps an aiohttp client WebSocket. Every frame it reads is validated with the protocol's
strict `decode_event` and `check_data` (so a malformed server frame, or one whose data is not
exactly the model its type declares, fails the test) and parked in a backlog until a
test asks for it, so waiting for one frame never loses another: `expect()` finds the first frame
matching a type/room/predicate, `next_in_room()` the next frame of a room in arrival order.
Nothing here sleeps and hopes: every wait has a deadline and fails with what was seen meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from conftest import expect_envelope, register_user

from pitchey.protocol import decode_event
from pitchey.protocol.events import check_data
from pitchey.server.state import APP_STATE

SUBPROTOCOL = "pitchey.v1"
DEFAULT_TIMEOUT = 5.0


class Closed(Exception):
    """The socket closed while a frame was awaited; `code` is the close code seen."""

    def __init__(self, code: int | None, seen: list[dict[str, Any]]) -> None:
        super().__init__(f"socket closed with {code}; unconsumed frames: {seen!r}")
        self.code = code


def protocols(token: str) -> tuple[str, str]:
    return (SUBPROTOCOL, f"bearer.{token}")


def realtime(client: TestClient) -> Any:
    """The server's `Realtime` object (hub, backplane, tickets, sessions)."""
    return client.server.app[APP_STATE].realtime


def app_state(client: TestClient) -> Any:
    return client.server.app[APP_STATE]


async def wait_until(
    cond: Callable[[], bool | Awaitable[bool]],
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.01,
    what: str = "condition",
) -> None:
    """Poll `cond` (sync or async) until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = cond()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


class Conn:
    """One signed-in WebSocket session as a test sees it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, user_id: int | None = None) -> None:
        self.ws = ws
        self.user_id = user_id
        self.session_id: str | None = None
        self.backlog: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []  # every frame read, consumed or not
        self.close_code: int | None = None
        self._ids = 0

    # -- sending ---------------------------------------------------------------------------

    def next_id(self) -> str:
        self._ids += 1
        return f"c{self._ids}"

    async def send(
        self, type: str, room: str | None = None, *, id: Any = None, data: Any = None, **extra: Any
    ) -> Any:
        frame: dict[str, Any] = {"type": type}
        if room is not None:
            frame["room"] = room
        if id is None:
            id = self.next_id()
        frame["id"] = id
        if data is not None:
            frame["data"] = data
        frame.update(extra)
        await self.ws.send_str(orjson.dumps(frame).decode())
        return id

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    # -- receiving -------------------------------------------------------------------------

    async def _read(self, timeout: float) -> dict[str, Any]:
        if self.close_code is not None:
            raise Closed(self.close_code, self.backlog)
        msg = await self.ws.receive(timeout=timeout)
        if msg.type == WSMsgType.TEXT:
            event = decode_event(msg.data)  # strict: a malformed server frame fails the test
            # ...and so does data that is not exactly its type's model (protocol/models.py).
            check_data(event.type, event.room, event.data)
            frame = orjson.loads(msg.data)
            assert frame["type"] == event.type.value
            self.received.append(frame)
            return frame
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            code = msg.data if msg.type == WSMsgType.CLOSE else self.ws.close_code
            self.close_code = code
            raise Closed(code, self.backlog)
        raise AssertionError(f"unexpected WebSocket message {msg!r}")

    async def expect(
        self,
        type: str | None = None,
        room: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """The first frame (backlog first, then the socket) matching type/room/where."""

        def match(f: dict[str, Any]) -> bool:
            return (
                (type is None or f["type"] == type)
                and (room is None or f.get("room") == room)
                and (where is None or where(f))
            )

        for i, f in enumerate(self.backlog):
            if match(f):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {type or 'frame'} (room={room}) within {timeout}s; unconsumed: {self.backlog!r}"
                )
            try:
                f = await self._read(left)
            except TimeoutError:
                continue
            if match(f):
                return f
            self.backlog.append(f)

    async def next_in_room(self, room: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next frame of `room` in arrival order, whatever its type."""
        return await self.expect(None, room, timeout=timeout)

    async def events(
        self, room: str, n: int, timeout: float = DEFAULT_TIMEOUT, types: tuple[str, ...] | None = None
    ) -> list[dict[str, Any]]:
        """The next `n` sequenced events of `room` (optionally only of `types`)."""
        out = []
        for _ in range(n):
            out.append(
                await self.expect(
                    None,
                    room,
                    timeout=timeout,
                    where=lambda f: (
                        "seq" in f and f["type"] != "ack" and (types is None or f["type"] in types)
                    ),
                )
            )
        return out

    def discard(self, room: str) -> list[dict[str, Any]]:
        """Drop (and return) the unconsumed frames of `room` read so far."""
        dropped = [f for f in self.backlog if f.get("room") == room]
        self.backlog = [f for f in self.backlog if f.get("room") != room]
        return dropped

    async def closed(self, timeout: float = DEFAULT_TIMEOUT) -> int | None:
        """Read (and keep) frames until the socket closes; the close code."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"socket still open after {timeout}s")
            try:
                self.backlog.append(await self._read(left))
            except Closed as exc:
                return exc.code
            except TimeoutError:
                continue

    # -- commands with their answers -------------------------------------------------------

    async def subscribe(
        self,
        room: str,
        *,
        since: int | None = None,
        epoch: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Subscribe and return the `subscribed` frame (raises on an `error` answer)."""
        data: dict[str, Any] = {}
        if since is not None:
            data["since"] = since
        if epoch is not None:
            data["epoch"] = epoch
        cid = await self.send("subscribe", room, data=data or None)
        reply = await self.expect(where=lambda f: f.get("id") == cid, timeout=timeout)
        assert reply["type"] == "subscribed", reply
        assert reply["room"] == room
        return reply

    async def subscribe_error(self, room: str) -> str:
        """Subscribe expecting a refusal; the error code."""
        cid = await self.send("subscribe", room)
        reply = await self.expect(where=lambda f: f.get("id") == cid)
        assert reply["type"] == "error", reply
        assert reply.get("room") == room, reply
        return str(reply["data"]["code"])

    async def unsubscribe(self, room: str) -> dict[str, Any]:
        cid = await self.send("unsubscribe", room)
        reply = await self.expect(where=lambda f: f.get("id") == cid)
        assert reply["type"] == "unsubscribed", reply
        return reply

    async def ping(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        cid = await self.send("ping")
        reply = await self.expect("pong", where=lambda f: f.get("id") == cid, timeout=timeout)
        assert reply["data"] == {}

    async def presence(self, room: str) -> dict[int, dict[str, Any]]:
        cid = await self.send("presence", room)
        reply = await self.expect("presence", room, where=lambda f: f.get("id") == cid)
        return {u["userId"]: u for u in reply["data"]["users"]}

    async def post(self, room: str, text: str) -> tuple[Any, dict[str, Any]]:
        """Send a message and return (id, ack)."""
        cid = await self.send("message", room, data={"text": text})
        reply = await self.expect(where=lambda f: f.get("id") == cid)
        assert reply["type"] == "ack", reply
        return cid, reply

    async def error_for(self, cid: Any) -> dict[str, Any]:
        reply = await self.expect(where=lambda f: f.get("id") == cid)
        assert reply["type"] == "error", reply
        return reply

    async def close(self) -> None:
        await self.ws.close()


async def connect(client: TestClient, token: str, **kwargs: Any) -> Conn:
    """Open /ws with the bearer subprotocol; consume `connected` and the own-room `subscribed`."""
    ws = await client.ws_connect("/ws", protocols=protocols(token), **kwargs)
    assert ws.protocol == SUBPROTOCOL
    return await greeted(ws)


async def greeted(ws: aiohttp.ClientWebSocketResponse) -> Conn:
    conn = Conn(ws)
    hello = await conn.expect()
    assert hello["type"] == "connected", hello
    conn.user_id = hello["data"]["userId"]
    conn.session_id = hello["data"]["sessionId"]
    own = await conn.expect("subscribed", f"user:{conn.user_id}")
    assert own["data"]["recovered"] is False
    return conn


# ------------------------------------------------------------------------------------------
# REST
# ------------------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def user(client: TestClient, portal: str = "creator", **extra: Any) -> tuple[int, str]:
    """Register a user through the API: (id, token)."""
    u, token = await register_user(client, portal, **extra)
    return int(u["id"]), token


async def make_pitch(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "A pitch", "status": "published", "visibility": "public", **fields}
    resp = await client.post("/api/pitches", json=body, headers=bearer(token))
    return (await expect_envelope(resp, 201))["data"]


async def get_pitch(client: TestClient, pitch_id: int, token: str, status: int = 200) -> dict[str, Any]:
    resp = await client.get(f"/api/pitches/{pitch_id}", headers=bearer(token))
    return await expect_envelope(resp, status)


async def like(
    client: TestClient, pitch_id: int, token: str, liked: bool = True, status: int = 200
) -> dict[str, Any]:
    method = client.post if liked else client.delete
    kwargs: dict[str, Any] = {"headers": bearer(token)}
    if liked:
        kwargs["json"] = {}
    resp = await method(f"/api/pitches/{pitch_id}/like", **kwargs)
    return await expect_envelope(resp, status)


async def request_nda(
    client: TestClient, pitch_id: int, token: str, message: str = "please", status: int = 201
) -> dict[str, Any]:
    resp = await client.post(
        "/api/ndas/request", json={"pitchId": pitch_id, "message": message}, headers=bearer(token)
    )
    return await expect_envelope(resp, status)


async def decide_nda(
    client: TestClient,
    nda_id: int,
    token: str,
    approve: bool = True,
    status: int = 200,
    reason: str | None = None,
) -> dict[str, Any]:
    body = {} if reason is None else {"reason": reason}
    verb = "approve" if approve else "reject"
    resp = await client.post(f"/api/ndas/{nda_id}/{verb}", json=body, headers=bearer(token))
    return await expect_envelope(resp, status)


async def logout(client: TestClient, token: str) -> None:
    resp = await client.post("/api/auth/logout", json={}, headers=bearer(token))
    body = await expect_envelope(resp, 200)
    assert body["data"]["loggedOut"] is True


async def prometheus(client: TestClient, headers: dict[str, str] | None = None) -> str:
    resp = await client.get("/metrics", headers=headers or {})
    text = await resp.text()
    assert resp.status == 200, text
    return text


def metric_value(text: str, name: str) -> float:
    """The value of an unlabelled sample `name` in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no sample {name} in metrics:\n{text}")


# ------------------------------------------------------------------------------------------
# A raw RFC 6455 client over a plain socket (for a consumer that never reads)
# ------------------------------------------------------------------------------------------


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A complete FIN client frame, masked as RFC 6455 requires of clients."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


class RawWs:
    """A WebSocket opened by hand on a socket with a tiny receive buffer; reads only on demand."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = b""

    @classmethod
    async def open(cls, host: str, port: int, token: str, rcvbuf: int = 4096) -> RawWs:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: window
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {SUBPROTOCOL}, bearer.{token}\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        raw = cls(sock)
        await raw.read_until(b"\r\n\r\n")
        head, _, rest = raw.received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        raw.received = rest
        return raw

    async def send_json(self, obj: Any) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, masked_frame(orjson.dumps(obj)))

    async def read_until(self, needle: bytes, timeout: float = DEFAULT_TIMEOUT) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while needle not in self.received:
                chunk = await loop.sock_recv(self.sock, 65536)
                if not chunk:
                    raise AssertionError(f"EOF before {needle!r}")
                self.received += chunk

    def close(self) -> None:
        self.sock.close()
