"""The shapes of things a client sees, shared by the REST answers and the live frames.

One model per thing: an NDA in `GET /api/ndas/...` and in an `nda_approved` frame is the same
`NdaOut`, a notification in the list and in a `notification` frame the same `NotificationOut`. The
models live here, in the protocol's leaf package, because both sides need them and the protocol may
not import the server: `server/` re-exports them for its endpoints, `rooms/` builds frames from
them, and `EVENT_MODELS` (protocol/events.py) names the model of every event's `data`.

Field names are snake_case in Python and camelCase on the wire (aliases). `from_attributes` lets a
model be read straight off a storage dataclass (`NdaOut.model_validate(nda)`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "NOTIFICATION_KINDS",
    "AckData",
    "ConnectedData",
    "DirectMessageOut",
    "EmptyData",
    "ErrorData",
    "InvestmentUpdate",
    "LikeUpdate",
    "MessageOut",
    "MetricsData",
    "NdaEventOut",
    "NdaOut",
    "NdaRequestEventOut",
    "NotificationKind",
    "NotificationOut",
    "OpsFigures",
    "OpsMetricsData",
    "OpsNodeFigures",
    "OpsRoomFigures",
    "PresenceData",
    "PresenceEntry",
    "ProjectUpdate",
    "RoomMessageOut",
    "SubscribedData",
    "TypingData",
    "UserJoined",
    "UserLeft",
    "ViewUpdate",
    "WireModel",
]


class WireModel(BaseModel):
    """Base: camelCase aliases, either spelling accepted, readable from storage dataclasses."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        str_strip_whitespace=True,
        from_attributes=True,
    )


# -- things REST answers and frames share ----------------------------------------------------------


class NdaOut(WireModel):
    id: int
    pitch_id: int
    requester_id: int
    owner_id: int
    status: Literal["pending", "approved", "rejected", "revoked", "expired"]
    message: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    # Signing (NDA templates): the version the requester accepted and its hash, when each party
    # signed, and the term's end; null for an NDA requested without a template.
    template_version_id: int | None = None
    template_hash: str | None = None
    accepted_at: datetime | None = None
    countersigned_at: datetime | None = None
    expires_at: datetime | None = None
    expired_at: datetime | None = None


class MessageOut(WireModel):
    id: int
    sender_id: int
    recipient_id: int
    pitch_id: int | None
    content: str
    created_at: datetime
    read_at: datetime | None


# Every kind of notification the server stores: each can be switched per channel in
# /api/user/preferences (live, email digest). One list, so a new kind cannot be stored without
# being switchable: rooms and routes take a `NotificationKind`, which mypy checks at each call.
NotificationKind = Literal[
    # pitches and NDAs
    "nda_request",
    "nda_approved",
    "nda_rejected",
    "nda_expired",
    "collaborator_invite",
    "collaborator_accepted",
    "collaborator_declined",
    "collaborator_removed",
    # people and messages
    "new_follower",
    "new_message",
    # money
    "new_investment",
    "investment_completed",
    "investment_failed",
    "subscription_renewed",
    "subscription_past_due",
    "subscription_expired",
    # production teams
    "team_invitation",
    "team_invitation_accepted",
    "team_invitation_declined",
    "team_removed",
]
NOTIFICATION_KINDS: tuple[NotificationKind, ...] = get_args(NotificationKind)


class NotificationOut(WireModel):
    id: int
    kind: str
    title: str
    body: str | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


# -- frame payloads: a shared thing plus what the live event adds ----------------------------------


class NdaEventOut(NdaOut):
    """`nda_approved` / `nda_rejected` / `nda_expired`: the NDA (exactly NdaOut's fields) and its
    pitch's title."""

    pitch_title: str


class NdaRequestEventOut(NdaEventOut):
    """`nda_request`: also who asked, by name, for the owner's inbox."""

    requester_name: str | None


class DirectMessageOut(MessageOut):
    """A direct message as its recipient hears of it live: the MessageOut plus who sent it and the
    pitch it is about, by name, so a new conversation can be shown without another request."""

    sender_name: str | None
    sender_type: str
    pitch_title: str | None


class RoomMessageOut(WireModel):
    """A chat message in a `pitch:` room."""

    id: int
    pitch_id: int
    user_id: int
    user_type: str
    text: str
    created_at: datetime


class ViewUpdate(WireModel):
    pitch_id: int
    views: int
    user_id: int


class LikeUpdate(WireModel):
    pitch_id: int
    likes: int
    user_id: int
    liked: bool


class InvestmentUpdate(WireModel):
    """An investment in the pitch settled: how many investors now back it (no amounts, no
    names: the room is the pitch's audience)."""

    pitch_id: int
    investors: int


class ProjectUpdate(WireModel):
    """Something of a project changed (`what`: project, expenses, timeline, bookings, archive);
    subscribers refetch that part."""

    project_id: int
    what: str
    user_id: int


class UserJoined(WireModel):
    user_id: int
    user_type: str


class UserLeft(WireModel):
    user_id: int


class PresenceEntry(WireModel):
    user_id: int
    user_type: str
    connections: int


class PresenceData(WireModel):
    users: list[PresenceEntry]


class SubscribedData(WireModel):
    seq: int
    epoch: str
    recovered: bool
    presence: list[PresenceEntry]
    resync: bool | None = Field(None, description="Present (true) when a restarted room takes over")


class TypingData(WireModel):
    user_id: int


class ConnectedData(WireModel):
    user_id: int
    user_type: str
    session_id: str


class AckData(WireModel):
    message_id: int | None = Field(None, description="The stored message's id (acks of `message`)")


class ErrorData(WireModel):
    code: str
    message: str
    retry_after: float | None = Field(None, description="Seconds to wait (RATE_LIMITED only)")


class EmptyData(WireModel):
    pass


class LatencyFigures(WireModel):
    p50: float | None
    p99: float | None
    max: float | None


class MetricsData(WireModel):
    subscribers: int
    events_in_per_sec: float
    events_out_per_sec: float
    dropped_frames: int
    fanout_latency_ms: LatencyFigures
    window_seconds: float
    nodes: int | None = Field(None, description="How many nodes reported (several nodes only)")


class OpsFigures(WireModel):
    """The platform's live figures over the last window (about a second): one node's, or every
    node's merged (`metrics:ops`, `GET /api/ops/overview`; rooms/metrics.py: OpsMetrics)."""

    connections: int = Field(description="Open WebSocket sessions")
    subscribers: int = Field(description="Room subscriptions of those sessions")
    watchers: int = Field(description="Dashboard subscriptions (metrics rooms)")
    active_rooms: int = Field(description="Room actors in memory (summed over nodes)")
    events_per_sec: float = Field(description="Room events fanned out per second (each event once)")
    deliveries_per_sec: float = Field(description="Event frames queued to sessions per second")
    slow_consumer_closes: int = Field(description="Sessions closed with 4009 in the window")
    slow_consumer_closes_total: int = Field(description="... since the node(s) started")
    recovered: int = Field(description="Subscribes with since/epoch answered with every missed event")
    recovery_lost: int = Field(description="Subscribes with since/epoch whose gap was no longer held")
    recovered_total: int
    recovery_lost_total: int
    fanout_p99_ms: float | None = Field(description="Publish to last subscriber queued, 99th percentile")
    window_seconds: float


class OpsNodeFigures(OpsFigures):
    node: str = Field(description="The node's name: host, process id and a start-up tag")


class OpsRoomFigures(WireModel):
    room: str
    subscribers: int = Field(description="Live subscribers on every node")
    events_per_sec: float
    nodes: int = Field(description="Nodes with subscribers in the room")


class OpsMetricsData(WireModel):
    """A `metrics` frame of `metrics:ops`: the merge, each node, and the busiest rooms."""

    cluster: OpsFigures
    nodes: list[OpsNodeFigures]
    rooms: list[OpsRoomFigures] = Field(description="The busiest rooms, by subscribers then events")
