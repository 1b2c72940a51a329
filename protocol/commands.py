"""Client commands: parsing untrusted frames into typed values, and encoding them back.

Parsing is total: any input (any bytes, any size, any JSON shape) either yields a
``Command`` or raises ``ProtocolError``, so the server has exactly one failure path.
All work is linear in the input size (orjson does the scanning).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeAlias

import orjson

from .errors import ErrorCode, ProtocolError
from .rooms import RoomName, parse_room
from .text import text_problem

__all__ = [
    "MAX_EPOCH_CHARS",
    "MAX_ID_CHARS",
    "MAX_MESSAGE_CHARS",
    "MAX_SINCE",
    "Command",
    "CommandType",
    "Ping",
    "PresenceQuery",
    "SendMessage",
    "Subscribe",
    "Typing",
    "Unsubscribe",
    "command_type",
    "encode_command",
    "parse_command",
    "validate_id",
]

MAX_ID_CHARS: Final = 64
MAX_MESSAGE_CHARS: Final = 4000
MAX_EPOCH_CHARS: Final = 128
"""Epochs are server-issued opaque tokens; the cap only stops clients storing junk."""
MAX_SINCE: Final = 2**63 - 1
"""Sequence numbers are signed 64-bit in storage."""
_MIN_INT_ID: Final = -(2**63)
_MAX_INT_ID: Final = 2**64 - 1
"""Integer ids must survive an orjson round trip so they can be echoed."""


class CommandType(StrEnum):
    """The ``type`` of a client frame."""

    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    MESSAGE = "message"
    PRESENCE = "presence"
    TYPING = "typing"
    PING = "ping"


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Join ``room``; ``since``/``epoch`` ask for a replay of events after ``since``."""

    room: RoomName
    since: int | None = None
    epoch: str | None = None
    id: str | int | None = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    room: RoomName
    id: str | int | None = None


@dataclass(frozen=True, slots=True)
class SendMessage:
    """A chat message; ``text`` is already stripped and 1..4000 characters."""

    room: RoomName
    text: str
    id: str | int | None = None


@dataclass(frozen=True, slots=True)
class PresenceQuery:
    room: RoomName
    id: str | int | None = None


@dataclass(frozen=True, slots=True)
class Typing:
    room: RoomName
    id: str | int | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    id: str | int | None = None


Command: TypeAlias = Subscribe | Unsubscribe | SendMessage | PresenceQuery | Typing | Ping

_COMMAND_TYPES: Final[dict[type[Any], CommandType]] = {
    Subscribe: CommandType.SUBSCRIBE,
    Unsubscribe: CommandType.UNSUBSCRIBE,
    SendMessage: CommandType.MESSAGE,
    PresenceQuery: CommandType.PRESENCE,
    Typing: CommandType.TYPING,
    Ping: CommandType.PING,
}


def _bad(message: str, id: str | int | None = None) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_FRAME, message, id)


def validate_id(value: object) -> str | int | None:
    """Return a valid correlation id (None if absent) or raise ``BAD_FRAME`` without echo."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > MAX_ID_CHARS:
            raise _bad(f"id must be at most {MAX_ID_CHARS} characters")
        problem = text_problem(value, multiline=False)
        if problem is not None:
            raise _bad(f"'id' {problem}")
        return value
    # bool is an int subclass, but `true` is not a correlation id.
    if type(value) is int:
        if not _MIN_INT_ID <= value <= _MAX_INT_ID:
            raise _bad("id integer is out of range")
        return value
    raise _bad("id must be a string or an integer")


def _is_int(value: object) -> bool:
    return type(value) is int


def _room(obj: dict[str, Any], id: str | int | None) -> RoomName:
    if "room" not in obj or obj["room"] is None:
        raise _bad("missing field 'room'", id)
    try:
        return parse_room(obj["room"])
    except ProtocolError as exc:
        raise exc.with_id(id) from None


def _data(obj: dict[str, Any], id: str | int | None, *, required: bool) -> dict[str, Any]:
    data = obj.get("data")
    if data is None:
        if required:
            raise _bad("missing field 'data'", id)
        return {}
    if not isinstance(data, dict):
        raise _bad("'data' must be an object", id)
    return data


def _subscribe(obj: dict[str, Any], id: str | int | None) -> Subscribe:
    room = _room(obj, id)
    data = _data(obj, id, required=False)
    # Fields inside `data` win over the top-level convenience spelling.
    since = data.get("since")
    if since is None:
        since = obj.get("since")
    epoch = data.get("epoch")
    if epoch is None:
        epoch = obj.get("epoch")
    if since is not None and not (_is_int(since) and 0 <= since <= MAX_SINCE):
        raise _bad("'since' must be a non-negative integer", id)
    if epoch is not None:
        if not isinstance(epoch, str):
            raise _bad("'epoch' must be a string", id)
        if len(epoch) > MAX_EPOCH_CHARS:
            raise _bad(f"'epoch' must be at most {MAX_EPOCH_CHARS} characters", id)
        problem = text_problem(epoch, multiline=False)
        if problem is not None:
            raise _bad(f"'epoch' {problem}", id)
    return Subscribe(room, since, epoch, id)


def _message(obj: dict[str, Any], id: str | int | None) -> SendMessage:
    room = _room(obj, id)
    data = _data(obj, id, required=True)
    text = data.get("text")
    if text is None:
        raise _bad("missing field 'data.text'", id)
    if not isinstance(text, str):
        raise _bad("'data.text' must be a string", id)
    text = text.strip()
    if not text:
        raise _bad("message text is empty", id)
    if len(text) > MAX_MESSAGE_CHARS:
        raise _bad(f"message text is too long ({len(text)} characters, max {MAX_MESSAGE_CHARS})", id)
    # Checked here, at the edge: a NUL (which PostgreSQL refuses) used to fail inside the room's
    # turn and restart the room for every subscriber.
    problem = text_problem(text, multiline=True)
    if problem is not None:
        raise _bad(f"'data.text' {problem}", id)
    return SendMessage(room, text, id)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _escaped_surrogates(raw: str | bytes | bytearray | memoryview) -> Any:
    """orjson refuses an escaped unpaired surrogate (`"\\ud800"`), which JSON's grammar allows;
    such a frame is read by the standard library instead, so the text check refuses the field
    holding it by name and the error echoes the command's id. Anything else orjson refused is
    not JSON."""
    data = raw if isinstance(raw, str) else bytes(raw)
    escaped = "\\u" in data if isinstance(data, str) else b"\\u" in data
    if not escaped:
        raise _bad("frame is not valid JSON")
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise _bad("frame is not valid JSON") from None


def parse_command(raw: str | bytes) -> Command:
    """Parse one client text frame; raise ``ProtocolError`` for anything else.

    The error carries the frame's ``id`` whenever it was readable and valid, so the
    server can echo it in the ``error`` reply.
    """
    if not isinstance(raw, str | bytes | bytearray | memoryview):
        raise _bad("frame must be text")
    try:
        obj = orjson.loads(raw)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        obj = _escaped_surrogates(raw)
    if not isinstance(obj, dict):
        raise _bad("frame must be a JSON object")
    id = validate_id(obj.get("id"))

    kind = obj.get("type")
    if kind is None:
        raise _bad("missing field 'type'", id)
    if not isinstance(kind, str):
        raise _bad("'type' must be a string", id)
    try:
        ctype = CommandType(kind)
    except ValueError:
        shown = kind if len(kind) <= 32 else kind[:32] + "..."
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown command type {shown!r}", id) from None

    match ctype:
        case CommandType.SUBSCRIBE:
            return _subscribe(obj, id)
        case CommandType.UNSUBSCRIBE:
            return Unsubscribe(_room(obj, id), id)
        case CommandType.MESSAGE:
            return _message(obj, id)
        case CommandType.PRESENCE:
            return PresenceQuery(_room(obj, id), id)
        case CommandType.TYPING:
            return Typing(_room(obj, id), id)
        case CommandType.PING:
            return Ping(id)


def command_type(command: Command) -> CommandType:
    """The wire ``type`` of a command value."""
    return _COMMAND_TYPES[type(command)]


def encode_command(command: Command) -> bytes:
    """Encode a command as a client frame (for clients, tests and the load tester).

    ``parse_command(encode_command(c)) == c`` for every command ``parse_command`` returns.
    """
    frame: dict[str, Any] = {"type": command_type(command).value}
    if not isinstance(command, Ping):
        frame["room"] = str(command.room)
    if command.id is not None:
        frame["id"] = command.id
    if isinstance(command, Subscribe):
        data: dict[str, Any] = {}
        if command.since is not None:
            data["since"] = command.since
        if command.epoch is not None:
            data["epoch"] = command.epoch
        if data:
            frame["data"] = data
    elif isinstance(command, SendMessage):
        frame["data"] = {"text": command.text}
    return orjson.dumps(frame)
