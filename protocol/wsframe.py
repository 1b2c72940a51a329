"""Pre-built RFC 6455 server frames.

A broadcast to N sockets should serialise the JSON once and frame it once; these
helpers return complete unmasked frames (server-to-client frames are never masked)
that can be written verbatim to every transport.
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = ["MAX_CLOSE_REASON_BYTES", "close_frame", "frame_header", "ping_frame", "pong_frame", "text_frame"]

_FIN: Final = 0x80
_OP_TEXT: Final = 0x1
_OP_CLOSE: Final = 0x8
_OP_PING: Final = 0x9
_OP_PONG: Final = 0xA
_MAX_CONTROL_PAYLOAD: Final = 125
MAX_CLOSE_REASON_BYTES: Final = 123
"""Control frame payloads are at most 125 bytes, two of which are the close code."""


def frame_header(opcode: int, length: int) -> bytes:
    """FIN + ``opcode`` header for an unmasked payload of ``length`` bytes.

    Uses the shortest length encoding, as RFC 6455 section 5.2 requires.
    """
    if not 0 <= opcode <= 0xF:
        raise ValueError(f"invalid opcode {opcode}")
    first = _FIN | opcode
    if length < 0:
        raise ValueError("negative payload length")
    if length <= 125:
        return struct.pack("!BB", first, length)
    if length <= 0xFFFF:
        return struct.pack("!BBH", first, 126, length)
    if length < 1 << 63:
        return struct.pack("!BBQ", first, 127, length)
    raise ValueError("payload too large for a WebSocket frame")


def text_frame(payload: bytes) -> bytes:
    """A complete FIN text frame carrying ``payload`` (which must be UTF-8)."""
    return frame_header(_OP_TEXT, len(payload)) + payload


def ping_frame(payload: bytes = b"") -> bytes:
    """A ping (the server's heartbeat); the peer must answer with a pong carrying ``payload``."""
    if len(payload) > _MAX_CONTROL_PAYLOAD:
        raise ValueError("control frame payloads are at most 125 bytes")
    return frame_header(_OP_PING, len(payload)) + payload


def pong_frame(payload: bytes = b"") -> bytes:
    """The answer to a peer's ping, echoing its payload (at most 125 bytes, as the ping's)."""
    if len(payload) > _MAX_CONTROL_PAYLOAD:
        raise ValueError("control frame payloads are at most 125 bytes")
    return frame_header(_OP_PONG, len(payload)) + payload


def _valid_close_code(code: int) -> bool:
    # RFC 6455 7.4: 1004-1006 and 1015 must never be sent; 1016-2999 are unassigned.
    return code in (1000, 1001, 1002, 1003) or 1007 <= code <= 1014 or 3000 <= code <= 4999


def close_frame(code: int = 1000, reason: str = "") -> bytes:
    """A complete close frame; ``reason`` is truncated to 123 bytes at a character boundary."""
    if not _valid_close_code(code):
        raise ValueError(f"invalid close code {code}")
    encoded = reason.encode("utf-8")
    if len(encoded) > MAX_CLOSE_REASON_BYTES:
        encoded = encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", errors="ignore").encode("utf-8")
    payload = struct.pack("!H", code) + encoded
    return frame_header(_OP_CLOSE, len(payload)) + payload
