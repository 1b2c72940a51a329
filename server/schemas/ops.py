"""Answers of the operators' endpoints (`/api/ops/*`). The overview is the `metrics:ops` frame's
data, defined once in protocol/models.py so the REST answer and the live frame cannot drift."""

from __future__ import annotations

from pydantic import Field

from pitchey.protocol.models import OpsFigures as OpsFigures
from pitchey.protocol.models import OpsMetricsData as OpsOverview
from pitchey.protocol.models import OpsNodeFigures as OpsNodeFigures
from pitchey.protocol.models import OpsRoomFigures as OpsRoomFigures
from pitchey.protocol.models import PresenceEntry

from . import Schema

__all__ = ["OpsFigures", "OpsNodeFigures", "OpsOverview", "OpsRoom", "OpsRoomFigures", "OpsStatus"]


class OpsStatus(Schema):
    operator: bool = Field(description="Whether the caller may open /ops")
    node: str = Field(description="The node that answered")


class OpsRoom(Schema):
    """One room as an operator sees it; its live rates come from `metrics:<room>`."""

    room: str
    active: bool = Field(description="The room's actor is in memory on the node that answered")
    subscribers: int = Field(description="Live subscribers on the node that answered")
    watchers: int = Field(description="Dashboards watching the room's metrics on that node")
    presence: list[PresenceEntry] = Field(description="Who is in the room, on every node")
