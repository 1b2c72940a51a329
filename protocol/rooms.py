"""Room names: ``pitch:<id>``, ``user:<id>``, ``project:<id>`` and their ``metrics:`` variants.

Rooms are parsed into a value type once, at the edge, so the rest of the server never
handles an unvalidated string and two spellings of the same room cannot exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, cast

from .errors import ErrorCode, ProtocolError

__all__ = ["MAX_ROOM_ID", "RoomKind", "RoomName", "parse_room"]

RoomKind = Literal["pitch", "user", "project"]

MAX_ROOM_ID: Final = 10**18 - 1
"""Largest id: at most 18 digits, which also fits a signed 64-bit database key."""

_MAX_ROOM_LEN: Final = len("metrics:project:") + 18
# [0-9] rather than \d: \d also matches non-ASCII digits such as U+0661 (Arabic-Indic one).
_ROOM_RE: Final = re.compile(r"(metrics:)?(pitch|user|project):([1-9][0-9]{0,17})")


@dataclass(frozen=True, slots=True)
class RoomName:
    """A validated room; ``str(room)`` is its canonical wire name."""

    kind: RoomKind
    id: int
    metrics: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("pitch", "user", "project"):
            raise ValueError(f"invalid room kind {self.kind!r}")
        if type(self.id) is not int or not 1 <= self.id <= MAX_ROOM_ID:
            raise ValueError(f"invalid room id {self.id!r}")
        if type(self.metrics) is not bool:
            raise ValueError(f"invalid metrics flag {self.metrics!r}")

    def __str__(self) -> str:
        base = f"{self.kind}:{self.id}"
        return f"metrics:{base}" if self.metrics else base

    @property
    def target(self) -> RoomName:
        """The underlying room of a metrics room (a plain room is its own target)."""
        return RoomName(self.kind, self.id) if self.metrics else self

    @property
    def metrics_room(self) -> RoomName:
        """The metrics room watching this room."""
        return self if self.metrics else RoomName(self.kind, self.id, True)

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
    # Length check first so a huge string is rejected without being scanned or echoed.
    match = _ROOM_RE.fullmatch(name) if len(name) <= _MAX_ROOM_LEN else None
    if match is None:
        shown = name if len(name) <= _MAX_ROOM_LEN else name[:_MAX_ROOM_LEN] + "..."
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            f"invalid room name {shown!r}: expected pitch:<id>, user:<id>, project:<id>, "
            "metrics:pitch:<id> or metrics:user:<id>",
        )
    metrics, kind, digits = match.groups()
    return RoomName(cast(RoomKind, kind), int(digits), metrics is not None)
