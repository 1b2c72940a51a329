"""Error codes, close codes and the exception every parser in this package raises.

Codes are stable strings on the wire: clients switch on them, so never rename one.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["CloseCode", "ErrorCode", "ProtocolError"]


class ErrorCode(StrEnum):
    """The ``data.code`` of an ``error`` event."""

    BAD_FRAME = "BAD_FRAME"
    """Malformed JSON, not an object, missing/invalid field, bad room name, wrong types."""
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    """``type`` is a string but not a known command."""
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    NOT_SUBSCRIBED = "NOT_SUBSCRIBED"
    INTERNAL = "INTERNAL"
    UNAUTHORIZED = "UNAUTHORIZED"
    LIMIT = "LIMIT"
    """Too many subscriptions on one connection."""
    UNAVAILABLE = "UNAVAILABLE"
    """The database (or backplane) is unreachable; try again."""
    CONFLICT = "CONFLICT"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses (RFC 6455 section 7.4 plus private 4xxx)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    UNAUTHORIZED = 4001
    """Session expired or revoked: the client must re-authenticate before reconnecting."""
    SLOW_CONSUMER = 4009
    """The client did not read fast enough and its send buffer overflowed."""


class ProtocolError(Exception):
    """A frame was rejected; carries what the server needs to build an ``error`` event.

    ``id`` is the frame's correlation id when it could be read (and was valid), so the
    error reply can echo it; otherwise ``None``.
    """

    __slots__ = ("code", "id", "message")

    def __init__(self, code: ErrorCode, message: str, id: str | int | None = None) -> None:
        super().__init__(code, message, id)
        self.code: ErrorCode = ErrorCode(code)
        self.message: str = message
        self.id: str | int | None = id

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r}, id={self.id!r})"

    def with_id(self, id: str | int | None) -> ProtocolError:
        """Return a copy carrying ``id`` (used when a nested parser did not know it)."""
        return ProtocolError(self.code, self.message, id)
