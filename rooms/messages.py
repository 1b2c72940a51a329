"""Typed messages room actors accept. Hot paths `tell` these; no proxies (5x the cost of a tell)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .backplane import Publication


class Subscriber(Protocol):
    """What a room needs of a live session: who it is and a way to queue frames to it."""

    session_id: str
    user_id: int
    user_type: str
    max_buffer: int
    """Bytes the session may have queued before it is closed as a slow consumer."""

    def deliver(self, frame: bytes) -> bool:
        """Queue one complete WebSocket frame; False when the session is gone."""
        ...

    def evicted(self, room: str) -> None:
        """The room dropped this session on its own initiative (access lost, pitch deleted)."""
        ...


CommandId = str | int | None


@dataclass(frozen=True, slots=True)
class Join:
    session: Subscriber
    since: int | None = None
    epoch: str | None = None
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class Leave:
    session: Subscriber
    id: CommandId = None
    reply: bool = False


@dataclass(frozen=True, slots=True)
class Watch:
    """Subscribe a dashboard to this room's metrics (`metrics:<room>`)."""

    session: Subscriber
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class Unwatch:
    session: Subscriber
    id: CommandId = None
    reply: bool = False


@dataclass(frozen=True, slots=True)
class Post:
    session: Subscriber
    text: str
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class QueryPresence:
    session: Subscriber
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class TypingNotice:
    session: Subscriber
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class Deliver:
    publication: Publication


@dataclass(frozen=True, slots=True)
class RecordView:
    user_id: int


@dataclass(frozen=True, slots=True)
class SetLike:
    user_id: int
    liked: bool


@dataclass(frozen=True, slots=True)
class RequestNda:
    pitch_id: int
    pitch_title: str
    requester_id: int
    requester_name: str | None
    owner_id: int
    message: str | None


@dataclass(frozen=True, slots=True)
class DecideNda:
    nda_id: int
    owner_id: int
    approve: bool
    reason: str | None
    pitch_title: str


@dataclass(frozen=True, slots=True)
class Notify:
    """A notification for the user of a `user:` room."""

    kind: str
    title: str
    body: str | None = None
    data: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """A direct message for the user of a `user:` room: stored, then announced as `message`."""

    sender_id: int
    sender_name: str | None
    sender_type: str
    pitch_id: int | None
    pitch_title: str | None
    content: str


@dataclass(frozen=True, slots=True)
class Resync:
    """Sent to a restarted room: the sessions and dashboards its failed predecessor served."""

    subscribers: tuple[Subscriber, ...]
    watchers: tuple[Subscriber, ...]


@dataclass(frozen=True, slots=True)
class Rebase:
    """The backplane's stream for this room changed under it (Redis lost or back): tell every
    subscriber the new position so none mistakes a new stream for the old one."""


@dataclass(frozen=True, slots=True)
class EmitMetrics:
    pass


@dataclass(frozen=True, slots=True)
class Passivate:
    pass


@dataclass(frozen=True, slots=True)
class UpdatePitch:
    """An owner's edit of a pitch, applied by its room, which then drops the subscribers who may
    no longer see the pitch (made private, draft or archived). Answers the updated Pitch or None."""

    owner_id: int
    changes: dict[str, object]


@dataclass(frozen=True, slots=True)
class DeletePitch:
    """An owner deletes the pitch; its room drops every subscriber. Answers the DeletedPitch (with
    its media keys, for the caller to remove the objects) or None if the owner has no such pitch."""

    owner_id: int
