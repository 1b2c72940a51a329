"""The Yjs sync and awareness protocols (y-protocols), as the stock y-websocket provider speaks
them, pure: bytes in, typed messages out, and back. No I/O and no CRDT here (rooms/docs.py
applies updates with pycrdt); the transport is server/docs_ws.py.

A message is `varUint(type)` then its body; lib0's varUint is 7 bits per byte, little-endian,
high bit set on every byte but the last. `varBytes` is a varUint length then that many bytes.

- 0 sync: `varUint(0)` step 1 + `varBytes(stateVector)`, `varUint(1)` step 2 + `varBytes(update)`,
  or `varUint(2)` update + `varBytes(update)`
- 1 awareness: `varBytes(awarenessUpdate)`
- 2 auth: `varUint(0)` permission denied + `varString(reason)` (server to client only)
- 3 query awareness: nothing

Decoding is strict: a truncated varint or payload, an unknown type and trailing bytes are all
`MalformedMessage`, so the transport can close the session before anything is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import orjson

from .wsframe import frame_header

__all__ = [
    "EMPTY_UPDATE",
    "Awareness",
    "AwarenessEntry",
    "DocCloseCode",
    "MalformedMessage",
    "QueryAwareness",
    "SyncStep1",
    "SyncStep2",
    "SyncUpdate",
    "YMessage",
    "awareness_message",
    "binary_frame",
    "decode_awareness",
    "decode_message",
    "encode_awareness",
    "permission_denied_message",
    "query_awareness_message",
    "read_var_uint",
    "sync_step1_message",
    "sync_step2_message",
    "update_message",
    "write_var_uint",
]

MESSAGE_SYNC: Final = 0
MESSAGE_AWARENESS: Final = 1
MESSAGE_AUTH: Final = 2
MESSAGE_QUERY_AWARENESS: Final = 3

SYNC_STEP1: Final = 0
SYNC_STEP2: Final = 1
SYNC_UPDATE: Final = 2

EMPTY_UPDATE: Final = b"\x00\x00"
"""A Yjs v1 update with no structs and an empty delete set (what an up-to-date peer sends)."""

_MAX_VARUINT_BYTES: Final = 8  # 56 bits: more than any length or client id Yjs writes (53 bits)


class DocCloseCode(IntEnum):
    """Close codes of `/ws/docs/...` (docs/protocol.md lists them with their reasons)."""

    NORMAL = 1000
    MESSAGE_TOO_BIG = 1009
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    UNAUTHORIZED = 4001
    FORBIDDEN = 4003
    NOT_FOUND = 4004
    READ_ONLY = 4005
    MALFORMED = 4008
    SLOW_CONSUMER = 4009
    UPDATE_TOO_LARGE = 4013
    DOCUMENT_TOO_LARGE = 4014
    RATE_LIMITED = 4029


class MalformedMessage(ValueError):
    """Bytes that are not one well-formed y-protocol message."""


@dataclass(frozen=True, slots=True)
class SyncStep1:
    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    update: bytes


@dataclass(frozen=True, slots=True)
class Awareness:
    payload: bytes  # an awareness update, relayed as is (decode_awareness reads it)


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    pass


YMessage = SyncStep1 | SyncStep2 | SyncUpdate | Awareness | QueryAwareness


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: str  # the JSON text as sent ("null" when the client is gone)

    @property
    def removed(self) -> bool:
        return self.state == "null"


# -- varints ---------------------------------------------------------------------------------


def write_var_uint(num: int) -> bytes:
    if num < 0:
        raise ValueError("varUint must not be negative")
    out = bytearray()
    while num > 0x7F:
        out.append(0x80 | (num & 0x7F))
        num >>= 7
    out.append(num)
    return bytes(out)


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """The varUint at `pos` and the position after it."""
    num = 0
    shift = 0
    for i in range(_MAX_VARUINT_BYTES):
        if pos + i >= len(data):
            raise MalformedMessage("truncated varint")
        byte = data[pos + i]
        num |= (byte & 0x7F) << shift
        if byte < 0x80:
            return num, pos + i + 1
        shift += 7
    raise MalformedMessage("varint too long")


def _read_var_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = read_var_uint(data, pos)
    end = pos + length
    if end > len(data):
        raise MalformedMessage("truncated payload")
    return data[pos:end], end


def _var_bytes(payload: bytes) -> bytes:
    return write_var_uint(len(payload)) + payload


# -- messages --------------------------------------------------------------------------------


def decode_message(data: bytes) -> YMessage:
    """One binary WebSocket message as a typed y-protocol message, or MalformedMessage."""
    kind, pos = read_var_uint(data, 0)
    message: YMessage
    if kind == MESSAGE_SYNC:
        step, pos = read_var_uint(data, pos)
        payload, pos = _read_var_bytes(data, pos)
        if step == SYNC_STEP1:
            message = SyncStep1(payload)
        elif step == SYNC_STEP2:
            message = SyncStep2(payload)
        elif step == SYNC_UPDATE:
            message = SyncUpdate(payload)
        else:
            raise MalformedMessage(f"unknown sync message type {step}")
    elif kind == MESSAGE_AWARENESS:
        payload, pos = _read_var_bytes(data, pos)
        decode_awareness(payload)  # refused here, whole, rather than relayed to every peer
        message = Awareness(payload)
    elif kind == MESSAGE_QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise MalformedMessage(f"unknown message type {kind}")
    if pos != len(data):
        raise MalformedMessage("trailing bytes after the message")
    return message


def binary_frame(message: bytes) -> bytes:
    """A complete unmasked binary WebSocket frame: one message, framed once for every peer."""
    return frame_header(0x2, len(message)) + message


def sync_step1_message(state_vector: bytes) -> bytes:
    return bytes((MESSAGE_SYNC, SYNC_STEP1)) + _var_bytes(state_vector)


def sync_step2_message(update: bytes) -> bytes:
    return bytes((MESSAGE_SYNC, SYNC_STEP2)) + _var_bytes(update)


def update_message(update: bytes) -> bytes:
    return bytes((MESSAGE_SYNC, SYNC_UPDATE)) + _var_bytes(update)


def awareness_message(payload: bytes) -> bytes:
    return bytes((MESSAGE_AWARENESS,)) + _var_bytes(payload)


def query_awareness_message() -> bytes:
    return bytes((MESSAGE_QUERY_AWARENESS,))


def permission_denied_message(reason: str) -> bytes:
    encoded = reason.encode("utf-8")
    return bytes((MESSAGE_AUTH, 0)) + _var_bytes(encoded)


# -- awareness -------------------------------------------------------------------------------


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    """An awareness update's entries; each state must be JSON (an object, or null)."""
    count, pos = read_var_uint(payload, 0)
    entries = []
    for _ in range(count):
        client_id, pos = read_var_uint(payload, pos)
        clock, pos = read_var_uint(payload, pos)
        raw, pos = _read_var_bytes(payload, pos)
        try:
            state = raw.decode("utf-8")
            orjson.loads(raw)
        except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
            raise MalformedMessage("awareness state is not JSON") from exc
        entries.append(AwarenessEntry(client_id, clock, state))
    if pos != len(payload):
        raise MalformedMessage("trailing bytes after the awareness update")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    out = bytearray(write_var_uint(len(entries)))
    for entry in entries:
        out += write_var_uint(entry.client_id)
        out += write_var_uint(entry.clock)
        out += _var_bytes(entry.state.encode("utf-8"))
    return bytes(out)
