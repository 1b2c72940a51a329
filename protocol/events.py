"""Server events: every frame the server sends is built here, and decoded here (clients, tests,
load tools).

Two kinds of constructor, both keyed by `EventType`:

- room events (`like_update`, `nda_request`, `notification`, ...) return an `Event`: the type and
  its payload. The backplane gives it the room's next `seq` and encodes it once for every
  subscriber (rooms/backplane.py);
- direct frames (`subscribed`, `error_frame`, `ack`, ...) go to one session and return the JSON
  bytes at once.

`EVENT_MODELS` names the pydantic model (protocol/models.py) of each type's `data`: the same model a
REST answer uses for the same thing, so a client sees one shape per thing, and tests validate every
frame the server emits against it. Payloads of hot events are built as dicts with the models'
camelCase keys (no model instance per typing notice); the others are dumped from the model.

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
from .models import (
    AckData,
    ConnectedData,
    DirectMessageOut,
    EmptyData,
    ErrorData,
    InvestmentUpdate,
    LikeUpdate,
    MetricsData,
    NdaEventOut,
    NdaRequestEventOut,
    NotificationOut,
    OpsMetricsData,
    PresenceData,
    ProjectUpdate,
    RoomMessageOut,
    SubscribedData,
    TypingData,
    UserJoined,
    UserLeft,
    ViewUpdate,
    WireModel,
)
from .rooms import OPS_ROOM, RoomName

__all__ = [
    "EVENT_MODELS",
    "Event",
    "EventType",
    "ServerEvent",
    "ack",
    "check_data",
    "connected",
    "data_model",
    "decode_event",
    "direct_message",
    "encode_data",
    "encode_event",
    "encode_sequenced",
    "error_frame",
    "investment_update",
    "like_update",
    "metrics",
    "nda_decided",
    "nda_expired",
    "nda_request",
    "notification",
    "pong",
    "presence",
    "project_update",
    "protocol_error_frame",
    "room_message",
    "subscribed",
    "typing",
    "unsubscribed",
    "user_joined",
    "user_left",
    "utc_timestamp",
    "view_update",
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
    NDA_EXPIRED = "nda_expired"
    PROJECT_UPDATE = "project_update"
    INVESTMENT_UPDATE = "investment_update"
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


def encode_sequenced(type: str, room: str, seq: int, timestamp: str, data_json: bytes) -> bytes:
    """The bytes `encode_event` gives for a room event whose ``data`` was encoded (to JSON) before
    its ``seq`` was known: a Redis backplane encodes the data once on the publishing node, Redis
    assigns the seq, and every node builds the same frame from these parts."""
    head = orjson.dumps({"type": type, "room": room, "seq": seq, "timestamp": timestamp})
    return head[:-1] + b',"data":' + data_json + b"}"


def encode_data(data: Any) -> bytes:
    """An event's ``data`` as JSON, encoded as `encode_event` would (for `encode_sequenced`)."""
    return orjson.dumps(data, option=_DUMPS_OPTS)


def error_frame(
    code: ErrorCode | str,
    message: str,
    id: str | int | None = None,
    room: str | RoomName | None = None,
    retry_after: float | None = None,
) -> bytes:
    """An ``error`` event; ``data`` is ``{"code", "message"}``, plus ``retryAfter`` (seconds,
    milliseconds precision) when a rate limit says when to try again."""
    code_str = code.value if isinstance(code, Enum) else code
    data: dict[str, Any] = {"code": code_str, "message": message}
    if retry_after is not None:
        data["retryAfter"] = round(retry_after, 3)
    return encode_event(EventType.ERROR, data=data, room=room, id=id)


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


# -- direct frames (one session) -------------------------------------------------------------


def connected(user_id: int, user_type: str, session_id: str) -> bytes:
    """The first frame of every connection: who the server thinks you are."""
    return encode_event(
        EventType.CONNECTED, data={"userId": user_id, "userType": user_type, "sessionId": session_id}
    )


def subscribed(
    room: str | RoomName,
    *,
    seq: int,
    epoch: str,
    recovered: bool,
    presence: list[dict[str, Any]],
    id: str | int | None = None,
    resync: bool = False,
) -> bytes:
    """Where the room's stream stands for this session. ``resync``: sent by the server on its own
    (a restarted room, a changed stream), not as a reply; the client re-subscribes to recover."""
    data: dict[str, Any] = {"seq": seq, "epoch": epoch, "recovered": recovered}
    if resync:
        data["resync"] = True
    data["presence"] = presence
    return encode_event(EventType.SUBSCRIBED, data=data, room=room, id=id)


def unsubscribed(room: str | RoomName, id: str | int | None = None) -> bytes:
    return encode_event(EventType.UNSUBSCRIBED, data={}, room=room, id=id)


def presence(room: str | RoomName, users: list[dict[str, Any]], id: str | int | None = None) -> bytes:
    """Who is in the room (``users``: ``{userId, userType, connections}`` each)."""
    return encode_event(EventType.PRESENCE, data={"users": users}, room=room, id=id)


def typing(room: str | RoomName, user_id: int) -> bytes:
    return encode_event(EventType.TYPING, data={"userId": user_id}, room=room)


def metrics(room: str | RoomName, figures: dict[str, Any]) -> bytes:
    """A room's live figures for a dashboard (``metrics:<room>``); see rooms/metrics.py."""
    return encode_event(EventType.METRICS, data=figures, room=room)


# -- room events (published: the backplane adds room, seq and timestamp) -------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """A room event before the backplane orders it: its type and its ``data``, ready for JSON."""

    type: EventType
    data: dict[str, Any]


def _dump(model: WireModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True)


def view_update(pitch_id: int, views: int, user_id: int) -> Event:
    return Event(EventType.VIEW_UPDATE, {"pitchId": pitch_id, "views": views, "userId": user_id})


def like_update(pitch_id: int, likes: int, user_id: int, liked: bool) -> Event:
    return Event(
        EventType.LIKE_UPDATE, {"pitchId": pitch_id, "likes": likes, "userId": user_id, "liked": liked}
    )


def investment_update(pitch_id: int, investors: int) -> Event:
    return Event(EventType.INVESTMENT_UPDATE, _dump(InvestmentUpdate(pitch_id=pitch_id, investors=investors)))


def project_update(project_id: int, what: str, user_id: int) -> Event:
    """A change to a production project, in its ``project:`` room."""
    return Event(EventType.PROJECT_UPDATE, {"projectId": project_id, "what": what, "userId": user_id})


def user_joined(user_id: int, user_type: str) -> Event:
    return Event(EventType.USER_JOINED, {"userId": user_id, "userType": user_type})


def user_left(user_id: int) -> Event:
    return Event(EventType.USER_LEFT, {"userId": user_id})


def room_message(message: RoomMessageOut) -> Event:
    """A chat message in a ``pitch:`` room."""
    return Event(EventType.MESSAGE, _dump(message))


def direct_message(message: DirectMessageOut) -> Event:
    """A direct message, in its recipient's ``user:`` room."""
    return Event(EventType.MESSAGE, _dump(message))


def nda_request(nda: NdaRequestEventOut) -> Event:
    return Event(EventType.NDA_REQUEST, _dump(nda))


def nda_decided(nda: NdaEventOut) -> Event:
    """``nda_approved`` or ``nda_rejected``, after the NDA's status."""
    kind = EventType.NDA_APPROVED if nda.status == "approved" else EventType.NDA_REJECTED
    return Event(kind, _dump(nda))


def nda_expired(nda: NdaEventOut) -> Event:
    """An approved NDA whose term ran out (the expiry sweep): its pitch's protected parts are
    locked again for the requester."""
    return Event(EventType.NDA_EXPIRED, _dump(nda))


def notification(note: NotificationOut) -> Event:
    return Event(EventType.NOTIFICATION, _dump(note))


#: The model of each event type's ``data``. ``message`` depends on the room: see `data_model`.
EVENT_MODELS: Final[dict[EventType, type[WireModel]]] = {
    EventType.NOTIFICATION: NotificationOut,
    EventType.VIEW_UPDATE: ViewUpdate,
    EventType.LIKE_UPDATE: LikeUpdate,
    EventType.USER_JOINED: UserJoined,
    EventType.USER_LEFT: UserLeft,
    EventType.MESSAGE: RoomMessageOut,
    EventType.NDA_REQUEST: NdaRequestEventOut,
    EventType.NDA_APPROVED: NdaEventOut,
    EventType.NDA_REJECTED: NdaEventOut,
    EventType.NDA_EXPIRED: NdaEventOut,
    EventType.PROJECT_UPDATE: ProjectUpdate,
    EventType.INVESTMENT_UPDATE: InvestmentUpdate,
    EventType.CONNECTED: ConnectedData,
    EventType.SUBSCRIBED: SubscribedData,
    EventType.UNSUBSCRIBED: EmptyData,
    EventType.PRESENCE: PresenceData,
    EventType.TYPING: TypingData,
    EventType.ACK: AckData,
    EventType.ERROR: ErrorData,
    EventType.PONG: EmptyData,
    EventType.METRICS: MetricsData,
}


def data_model(type: EventType, room: str | None) -> type[WireModel]:
    """The model of a frame's ``data``: a ``message`` in a ``user:`` room is a direct message."""
    if type is EventType.MESSAGE and room is not None and room.startswith("user:"):
        return DirectMessageOut
    if type is EventType.METRICS and room == OPS_ROOM:
        return OpsMetricsData
    return EVENT_MODELS[type]


def check_data(type: EventType, room: str | None, data: Any) -> None:
    """Raise ``ProtocolError(BAD_FRAME)`` unless ``data`` is exactly its declared model: it
    validates, every required field is there, and nothing the model does not name is (the models
    ignore unknown fields on input; a frame carrying one is a server that drifted from them)."""
    model = data_model(type, room)
    try:
        model.model_validate(data)
    except ValueError as exc:
        raise _bad(f"{type.value} data does not match {model.__name__}: {exc}") from None
    _exact_keys(model, data, type.value)


def _exact_keys(model: type[WireModel], data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise _bad(f"{where}: expected an object")
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    unknown = set(data) - set(fields)
    if unknown:
        raise _bad(f"{where}: fields not in {model.__name__}: {sorted(unknown)}")
    missing = {alias for alias, f in fields.items() if f.is_required() and alias not in data}
    if missing:
        raise _bad(f"{where}: {model.__name__} fields missing: {sorted(missing)}")
    for alias, f in fields.items():
        value = data.get(alias)
        inner = f.annotation
        args = getattr(inner, "__args__", ())
        if isinstance(inner, type) and issubclass(inner, WireModel) and value is not None:
            _exact_keys(inner, value, f"{where}.{alias}")
        elif args and isinstance(args[0], type) and issubclass(args[0], WireModel) and value:
            for item in value:
                _exact_keys(args[0], item, f"{where}.{alias}[]")


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
