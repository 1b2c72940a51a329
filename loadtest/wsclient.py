"""A lean WebSocket client on an asyncio Protocol: thousands of sessions in one process.

A full client library costs a task, a reader and several buffers per socket; this one is a
protocol object and a callback. It speaks what ``pitchey.v1`` needs: the upgrade with the
subprotocol offer, unmasked server frames (text, ping, close; continuation for completeness),
and client frames masked with an all-zero key, which is legal framing and costs no XOR.
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
from collections.abc import Callable
from urllib.parse import urlsplit

OnText = Callable[[bytes], None]
OnClose = Callable[[int | None], None]


class Refused(Exception):
    """The upgrade was answered with an HTTP status instead of 101."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        super().__init__(f"WebSocket upgrade refused with HTTP {status}")


def client_frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


class WsClient(asyncio.Protocol):
    """One connection. ``on_text`` gets each text message; ``on_close`` once, with the peer's close
    code (None when the connection was lost without a close frame)."""

    def __init__(self, on_text: OnText, on_close: OnClose) -> None:
        self.on_text = on_text
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.frag = bytearray()
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.closed = False
        self.close_code: int | None = None

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.open:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            del self.buf[: end + 4]
            status_line = head.split(b"\r\n", 1)[0].split()
            status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
            if status != 101:
                if not self.handshake.done():
                    self.handshake.set_exception(Refused(status, bytes(self.buf)))
                self._abort()
                return
            self.open = True
            if not self.handshake.done():
                self.handshake.set_result(None)
        self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError(str(exc) if exc else "connection closed"))
        self._finish(self.close_code)

    # -- frames --------------------------------------------------------------------------------

    def _parse(self) -> None:
        buf = self.buf
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n = b1 & 0x7F
            pos = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = int.from_bytes(buf[2:4], "big")
                pos = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = int.from_bytes(buf[2:10], "big")
                pos = 10
            if len(buf) < pos + n:
                return
            payload = bytes(buf[pos : pos + n])
            del buf[: pos + n]
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if opcode in (1, 0):
                if not fin:
                    self.frag += payload
                    continue
                if self.frag:
                    payload, self.frag = bytes(self.frag) + payload, bytearray()
                self.on_text(payload)
            elif opcode == 9:
                self._send(client_frame(payload, 10))
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._send(client_frame(payload[:2], 8))
                self._abort()
                return

    def _send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _finish(self, code: int | None) -> None:
        if not self.closed:
            self.closed = True
            was_open, self.open = self.open, False
            if was_open:  # a refused upgrade is the connect's exception, not a close
                self.on_close(code)

    # -- the client's side ---------------------------------------------------------------------

    def send_text(self, payload: bytes) -> bool:
        if not self.open or self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(client_frame(payload))
        return True

    def close(self, code: int = 1000) -> None:
        """Send a close frame and drop the connection (we do not wait for the echo)."""
        if self.open:
            self._send(client_frame(code.to_bytes(2, "big"), 8))
        self.close_code = code
        self._abort()


async def connect(
    url: str, subprotocols: list[str], on_text: OnText, on_close: OnClose, timeout: float = 15.0
) -> WsClient:
    """Open ``url`` (ws:// or wss://, or the http(s) form) and complete the upgrade."""
    parts = urlsplit(url)
    secure = parts.scheme in ("wss", "https")
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if secure else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    loop = asyncio.get_running_loop()
    proto = WsClient(on_text, on_close)
    ctx = ssl.create_default_context() if secure else None
    async with asyncio.timeout(timeout):
        transport, _ = await loop.create_connection(lambda: proto, host, port, ssl=ctx)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}\r\n\r\n"
        )
        transport.write(req.encode())
        try:
            await proto.handshake
        except BaseException:
            transport.close()
            raise
    return proto
