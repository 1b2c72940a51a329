"""Room names: ``pitch:<id>``, ``user:<id>``, ``project:<id>`` and their ``metrics:`` variants,
and ``metrics:ops``, the operators' global metrics room (every node's figures and their merge).

Rooms are parsed into a value type once, at the edge, so the rest of the server never
handles an unvalidated string and two spellings of the same room cannot exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, cast

from .errors import ErrorCode, ProtocolError

__all__ = ["MAX_ROOM_ID", "OPS_ROOM", "RoomKind", "RoomName", "parse_room"]

RoomKind = Literal["pitch", "user", "project", "ops"]

MAX_ROOM_ID: Final = 10**18 - 1
"""Largest id: at most 18 digits, which also fits a signed 64-bit database key."""

_MAX_ROOM_LEN: Final = len("metrics:project:") + 18
# [0-9] rather than \d: \d also matches non-ASCII digits such as U+0661 (Arabic-Indic one).
_ROOM_RE: Final = re.compile(r"(metrics:)?(pitch|user|project):([1-9][0-9]{0,17})")
OPS_ROOM: Final = "metrics:ops"
"""The operators' room: it exists only as a metrics room (no events, no presence), with no id."""


@dataclass(frozen=True, slots=True)
class RoomName:
    """A validated room; ``str(room)`` is its canonical wire name."""

    kind: RoomKind
    id: int
    metrics: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("pitch", "user", "project", "ops"):
            raise ValueError(f"invalid room kind {self.kind!r}")
        if self.kind == "ops" and (self.id != 1 or self.metrics is not True):
            raise ValueError("the ops room is RoomName.ops() only")
        if type(self.id) is not int or not 1 <= self.id <= MAX_ROOM_ID:
            raise ValueError(f"invalid room id {self.id!r}")
        if type(self.metrics) is not bool:
            raise ValueError(f"invalid metrics flag {self.metrics!r}")

    def __str__(self) -> str:
        if self.kind == "ops":
            return OPS_ROOM
        base = f"{self.kind}:{self.id}"
        return f"metrics:{base}" if self.metrics else base

    @property
    def target(self) -> RoomName:
        """The underlying room of a metrics room (a plain room, and the ops room, are their own)."""
        if self.kind == "ops":
            return self
        return RoomName(self.kind, self.id) if self.metrics else self

    @property
    def metrics_room(self) -> RoomName:
        """The metrics room watching this room."""
        return self if self.metrics else RoomName(self.kind, self.id, True)

    @classmethod
    def ops(cls) -> RoomName:
        """``metrics:ops``: the operators' global metrics room."""
        return cls("ops", 1, True)

    @classmethod
    def pitch(cls, id: int) -> RoomName:
        return cls("pitch", id)

    @classmethod
    def user(cls, id: int) -> RoomName:
        return cls("user", id)

    @classmethod
    def project(cls, id: int) -> RoomName:
        """A production project's room: its company's team, present and hearing its changes."""
        return cls("project", id)


def parse_room(name: object) -> RoomName:
    """Parse a wire room name; anything non-canonical raises ``ProtocolError(BAD_FRAME)``."""
    if not isinstance(name, str):
        raise ProtocolError(ErrorCode.BAD_FRAME, "room must be a string")
    if name == OPS_ROOM:
        return RoomName.ops()
    # Length check first so a huge string is rejected without being scanned or echoed.
    match = _ROOM_RE.fullmatch(name) if len(name) <= _MAX_ROOM_LEN else None
    if match is None:
        shown = name if len(name) <= _MAX_ROOM_LEN else name[:_MAX_ROOM_LEN] + "..."
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            f"invalid room name {shown!r}: expected pitch:<id>, user:<id>, project:<id>, "
            "metrics:pitch:<id>, metrics:user:<id> or metrics:ops",
        )
    metrics, kind, digits = match.groups()
    return RoomName(cast(RoomKind, kind), int(digits), metrics is not None)
