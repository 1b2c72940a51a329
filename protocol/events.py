"""Server events: encoding (server side) and decoding (clients, tests, load tools).

Encoding produces bytes once per event so fan-out can reuse them for every socket;
key order is fixed (type, room, seq, id, timestamp, data) so frames are easy to read
in logs and byte-comparable in tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any, Final

import orjson

from .commands import validate_id
from .errors import ErrorCode, ProtocolError
from .rooms import RoomName

__all__ = [
    "EventType",
    "ServerEvent",
    "ack",
    "decode_event",
    "encode_event",
    "error_frame",
    "pong",
    "protocol_error_frame",
    "utc_timestamp",
]

_DUMPS_OPTS: Final = orjson.OPT_UTC_Z
_TIMESTAMP_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")


class EventType(StrEnum):
    """The ``type`` of a server frame."""

    # The platform's domain events.
    NOTIFICATION = "notification"
    VIEW_UPDATE = "view_update"
    LIKE_UPDATE = "like_update"
    USER_JOINED = "user_joined"
    USER_LEFT = "user_left"
    MESSAGE = "message"
    NDA_REQUEST = "nda_request"
    NDA_APPROVED = "nda_approved"
    NDA_REJECTED = "nda_rejected"
    # Protocol events.
    CONNECTED = "connected"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    PRESENCE = "presence"
    TYPING = "typing"
    ACK = "ack"
    ERROR = "error"
    PONG = "pong"
    METRICS = "metrics"


def utc_timestamp(when: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, e.g. ``2026-11-25T12:00:00.123Z``.

    Naive datetimes are taken to be UTC.
    """
    if when is None:
        when = datetime.now(UTC)
    elif when.tzinfo is not None:
        when = when.astimezone(UTC)
    # Not strftime: glibc's %Y does not zero-pad years before 1000.
    return (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}T"
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}.{when.microsecond // 1000:03d}Z"
    )


def encode_event(
    type: EventType | str,
    *,
    data: Any,
    room: str | RoomName | None = None,
    seq: int | None = None,
    id: str | int | None = None,
    timestamp: str | None = None,
) -> bytes:
    """Encode one server frame as compact JSON bytes; ``None`` room/seq/id are omitted.

    Raises ``orjson.JSONEncodeError`` (a ``TypeError``) if ``data`` is not serialisable:
    that is a server bug, not a client error.
    """
    frame: dict[str, Any] = {"type": type.value if isinstance(type, Enum) else type}
    if room is not None:
        frame["room"] = str(room)
    if seq is not None:
        frame["seq"] = seq
    if id is not None:
        frame["id"] = id
    frame["timestamp"] = utc_timestamp() if timestamp is None else timestamp
    frame["data"] = data
    return orjson.dumps(frame, option=_DUMPS_OPTS)


def error_frame(
    code: ErrorCode | str,
    message: str,
    id: str | int | None = None,
    room: str | RoomName | None = None,
) -> bytes:
    """An ``error`` event; ``data`` is ``{"code", "message"}``."""
    code_str = code.value if isinstance(code, Enum) else code
    return encode_event(EventType.ERROR, data={"code": code_str, "message": message}, room=room, id=id)


def protocol_error_frame(exc: ProtocolError, room: str | RoomName | None = None) -> bytes:
    """The ``error`` event replying to a rejected frame, echoing its id when known."""
    return error_frame(exc.code, exc.message, id=exc.id, room=room)


def pong(id: str | int | None = None) -> bytes:
    """Reply to ``ping``."""
    return encode_event(EventType.PONG, data={}, id=id)


def ack(
    id: str | int | None,
    room: str | RoomName | None = None,
    seq: int | None = None,
    data: Any = None,
) -> bytes:
    """Acknowledge a command (e.g. a stored message with its assigned ``seq``)."""
    return encode_event(EventType.ACK, data={} if data is None else data, room=room, seq=seq, id=id)


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """A decoded server frame."""

    type: EventType
    room: str | None
    seq: int | None
    id: str | int | None
    timestamp: str
    data: Any

    def encode(self) -> bytes:
        """Re-encode; ``decode_event(e.encode()) == e``."""
        return encode_event(
            self.type,
            data=self.data,
            room=self.room,
            seq=self.seq,
            id=self.id,
            timestamp=self.timestamp,
        )


def _bad(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_FRAME, message)


def decode_event(raw: bytes | str) -> ServerEvent:
    """Parse and validate a server frame; anything else raises ``ProtocolError(BAD_FRAME)``.

    Strict on purpose (unknown ``type``, bad ``timestamp``, missing ``data`` are errors):
    its users are tests and tools that should notice a server sending malformed events.
    ``room`` is not checked against the room grammar, because errors echo whatever
    room string the client sent.
    """
    if not isinstance(raw, str | bytes | bytearray | memoryview):
        raise _bad("frame must be text")
    try:
        obj = orjson.loads(raw)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        raise _bad("frame is not valid JSON") from None
    if not isinstance(obj, dict):
        raise _bad("frame must be a JSON object")

    kind = obj.get("type")
    if not isinstance(kind, str):
        raise _bad("'type' must be a string")
    try:
        etype = EventType(kind)
    except ValueError:
        raise _bad("unknown event type") from None

    room = obj.get("room")
    if room is not None and not isinstance(room, str):
        raise _bad("'room' must be a string")
    seq = obj.get("seq")
    if seq is not None and not (type(seq) is int and seq >= 0):
        raise _bad("'seq' must be a non-negative integer")
    id = validate_id(obj.get("id"))
    timestamp = obj.get("timestamp")
    if not isinstance(timestamp, str) or _TIMESTAMP_RE.fullmatch(timestamp) is None:
        raise _bad("'timestamp' must be an ISO-8601 UTC timestamp ending in 'Z'")
    if "data" not in obj:
        raise _bad("missing field 'data'")
    return ServerEvent(etype, room, seq, id, timestamp, obj["data"])
