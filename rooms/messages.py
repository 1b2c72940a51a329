"""Typed messages room actors accept. Hot paths `tell` these; no proxies (5x the cost of a tell).

A message that answers is an `Ask[R]`: `Hub.ask(room, SetLike(...))` is typed `LikeResult`, so a
caller never unpacks an untyped reply. One REST use case is one such message: the room writes,
publishes, notifies and invalidates the read cache within that one turn.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pitchey.protocol import RoomName
from pitchey.protocol.models import NotificationKind
from pitchey.storage.messages import DirectMessage as StoredDirectMessage
from pitchey.storage.ndas import Acceptance, Nda
from pitchey.storage.notifications import Notification
from pitchey.storage.pitches import DeletedPitch, Pitch

R_co = TypeVar("R_co", covariant=True)


class Ask(Generic[R_co]):
    """A room message whose handler answers an `R_co` (see `Hub.ask`)."""

    __slots__ = ()


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

    def evicted(self, room: RoomName) -> None:
        """The room dropped this session on its own initiative (access lost, pitch deleted)."""
        ...


CommandId = str | int | None


class SessionCommand:
    """A message sent on behalf of one session's command (`subscribe`, `message`, ...): it
    carries the session and the command's id, so a turn that fails on it answers that session
    with an `error` frame echoing the id, instead of failing the room (rooms/room.py)."""

    __slots__ = ()
    session: Subscriber
    id: CommandId


@dataclass(frozen=True, slots=True)
class Join(SessionCommand):
    session: Subscriber
    since: int | None = None
    epoch: str | None = None
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class Leave(SessionCommand):
    session: Subscriber
    id: CommandId = None
    reply: bool = False


@dataclass(frozen=True, slots=True)
class Watch(SessionCommand):
    """Subscribe a dashboard to this room's metrics (`metrics:<room>`)."""

    session: Subscriber
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class Unwatch(SessionCommand):
    session: Subscriber
    id: CommandId = None
    reply: bool = False


@dataclass(frozen=True, slots=True)
class Post(SessionCommand):
    session: Subscriber
    text: str
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class QueryPresence(SessionCommand):
    session: Subscriber
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class TypingNotice(SessionCommand):
    session: Subscriber
    id: CommandId = None


@dataclass(frozen=True, slots=True)
class RecordView(Ask[int | None]):
    """Count a signed-in viewer's first view of the day; answers the new total (None: not counted)."""

    user_id: int


@dataclass(frozen=True, slots=True)
class SetLike(Ask["LikeResult"]):
    user_id: int
    liked: bool


@dataclass(frozen=True, slots=True)
class LikeResult:
    changed: bool
    """False when the like was already so (idempotent)."""
    likes: int


@dataclass(frozen=True, slots=True)
class RequestNda(Ask[Nda]):
    pitch_id: int
    pitch_title: str
    requester_id: int
    requester_name: str | None
    owner_id: int
    message: str | None
    acceptance: Acceptance | None = None
    """The requester's acceptance of the pitch's NDA template version (None: it names none)."""


@dataclass(frozen=True, slots=True)
class DecideNda(Ask[Nda]):
    """Runs in the requester's room: decide, announce, notify. The owner was authorized by the
    caller; the store's conditional UPDATE decides whether the NDA is still pending."""

    nda_id: int
    pitch_id: int
    """The NDA's pitch (an NDA never changes pitch): its title goes into the announcement."""
    owner_id: int
    approve: bool
    reason: str | None
    ip: str | None = None
    """Where the owner countersigned from (approving an NDA made under a template)."""


@dataclass(frozen=True, slots=True)
class ExpireNda(Ask[Nda | None]):
    """Runs in the requester's room: flip an approved NDA whose term ended by `now` to expired,
    announce it (`nda_expired`) and notify; None when it was not due (any more)."""

    nda_id: int
    pitch_id: int
    now: datetime.datetime


@dataclass(frozen=True, slots=True)
class RecheckAccess(Ask[int]):
    """Runs in a pitch room: drop the sessions of one user who may no longer see the pitch (their
    NDA ended); answers how many were dropped."""

    user_id: int


@dataclass(frozen=True, slots=True)
class Notify(Ask[Notification]):
    """A notification for the user of a `user:` room."""

    kind: NotificationKind
    title: str
    body: str | None = None
    data: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class DirectMessage(Ask[StoredDirectMessage]):
    """A direct message for the user of a `user:` room: stored, then announced as `message`."""

    sender_id: int
    sender_name: str | None
    sender_type: str
    pitch_id: int | None
    pitch_title: str | None
    content: str


@dataclass(frozen=True, slots=True)
class InvestmentSettled(Ask[None]):
    """An investment in this pitch settled (a background job): announce how many investors
    back the pitch now, in its `pitch:` room."""

    investors: int


@dataclass(frozen=True, slots=True)
class ProjectChanged(Ask[None]):
    """A committed change to a production project, announced in its `project:` room."""

    what: str
    user_id: int


@dataclass(frozen=True, slots=True)
class EvictUser(Ask[int]):
    """Drop every session of one user from the room (removed from the team); answers how many."""

    user_id: int
    message: str


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
class UpdatePitch(Ask[Pitch | None]):
    """An owner's edit of a pitch, applied by its room, which then drops the subscribers who may
    no longer see the pitch (made private, draft or archived). Answers the updated Pitch or None."""

    owner_id: int
    changes: dict[str, object]


@dataclass(frozen=True, slots=True)
class DeletePitch(Ask[DeletedPitch | None]):
    """An owner deletes the pitch; its room drops every subscriber. Answers the DeletedPitch (with
    its media keys, for the caller to remove the objects) or None if the owner has no such pitch."""

    owner_id: int
