"""The ``pitchey.v1`` WebSocket protocol, sans I/O.

Frames in, values out; values in, bytes out. Nothing here touches sockets, asyncio or
clocks (except through injectable defaults), so the server, tests and the load tester
all share one definition of the wire format.
"""

# This folder is the package pitchey.protocol (pitchey/protocol links here). Imported under its folder name
# (`import protocol` with the repository root on sys.path), every module would load a second time
# as a distinct copy, with its own classes and app keys; refuse at once instead.
if __name__ != "pitchey.protocol":
    raise ImportError(f"import pitchey.protocol, not {__name__} (see docs/architecture.md)")

from typing import Final

from .commands import (
    MAX_ID_CHARS,
    MAX_MESSAGE_CHARS,
    Command,
    CommandType,
    Ping,
    PresenceQuery,
    SendMessage,
    Subscribe,
    Typing,
    Unsubscribe,
    command_type,
    encode_command,
    parse_command,
)
from .errors import CloseCode, ErrorCode, ProtocolError
from .events import (
    EventType,
    ServerEvent,
    ack,
    decode_event,
    encode_event,
    error_frame,
    pong,
    protocol_error_frame,
    utc_timestamp,
)
from .ratelimit import TokenBucket
from .rooms import RoomKind, RoomName, parse_room
from .wsframe import close_frame, text_frame

SUBPROTOCOL: Final = "pitchey.v1"
"""The ``Sec-WebSocket-Protocol`` value clients must offer."""

__all__ = [
    "MAX_ID_CHARS",
    "MAX_MESSAGE_CHARS",
    "SUBPROTOCOL",
    "CloseCode",
    "Command",
    "CommandType",
    "ErrorCode",
    "EventType",
    "Ping",
    "PresenceQuery",
    "ProtocolError",
    "RoomKind",
    "RoomName",
    "SendMessage",
    "ServerEvent",
    "Subscribe",
    "TokenBucket",
    "Typing",
    "Unsubscribe",
    "ack",
    "close_frame",
    "command_type",
    "decode_event",
    "encode_command",
    "encode_event",
    "error_frame",
    "parse_command",
    "parse_room",
    "pong",
    "protocol_error_frame",
    "text_frame",
    "utc_timestamp",
]
