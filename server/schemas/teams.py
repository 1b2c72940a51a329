"""Request and response models of production teams, resources with their bookings, project
timelines and project archiving/deletion. Money is Decimal with two places (a JSON string)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from . import Input, Schema, not_null
from .accounts import Email
from .fields import Day, DayCostIn, Flag, Id, Line, Para, QueryId
from .platform import Money, ProductionAnalyticsOut

Role = Literal["producer", "coordinator", "finance", "viewer"]
Kind = Literal["crew", "equipment", "location"]
PhaseName = Literal["development", "pre_production", "shooting", "post", "distribution"]
# NUMERIC(12, 2) in the database (DayCostIn holds the same bound).
MAX_DAY_COST = Decimal("9999999999.99")
# Ids in bodies are `Id` (strict BIGINT: a huge number is a 422 naming the field, never a 500),
# in query strings `QueryId`; text is `Line`/`Para` (no NUL, no control characters).


def _end_after_start(v: date | None, info: ValidationInfo) -> date | None:
    start = info.data.get("start_date")
    if v is not None and isinstance(start, date) and v < start:
        raise ValueError("must not be before startDate")
    return v


# -- teams ----------------------------------------------------------------------------------


class InviteBody(Input):
    email: Email
    role: Role


class RoleBody(Input):
    role: Role


class MemberOut(Schema):
    id: int
    user_id: int
    email: str
    name: str | None
    username: str | None
    company_name: str | None
    role: str
    status: str = Field(description="`pending` until the invitee accepts, then `active`")
    created_at: datetime
    responded_at: datetime | None


class MembershipOut(Schema):
    id: int = Field(description="The invitation/membership id (accept and decline take it)")
    company_id: int
    company_name: str | None
    company_username: str | None
    role: str
    status: str = Field(description="`pending`, `active`, or `declined` in a decline's answer")
    created_at: datetime


class TeamOut(Schema):
    company_id: int
    role: str = Field(description="The caller's role in this company: `owner` for their own")
    members: list[MemberOut]
    memberships: list[MembershipOut] = Field(description="Teams the caller is on or invited to")


class TeamQuery(Input):
    company_id: QueryId | None = Field(None, description="Another company whose team you are on")


class TeamProjectOut(Schema):
    id: int
    company_id: int
    company_name: str | None
    role: str
    title: str
    stage: str
    archived_at: datetime | None


# -- resources ------------------------------------------------------------------------------


class ResourceCreate(Input):
    kind: Kind
    name: Line = Field(min_length=1, max_length=200)
    cost_per_day: DayCostIn
    notes: Para | None = Field(None, max_length=2000)


class ResourceUpdate(Input):
    # The route refuses null for these (an optional field is left out, never cleared).
    model_config = ConfigDict(json_schema_extra=not_null("kind", "name", "cost_per_day"))

    kind: Kind | None = None
    name: Line | None = Field(None, min_length=1, max_length=200)
    cost_per_day: DayCostIn | None = None
    notes: Para | None = Field(None, max_length=2000)


class ResourceQuery(Input):
    kind: Kind | None = None
    company_id: QueryId | None = Field(None, description="Another company whose team you are on")


class AllocationCreate(Input):
    project_id: Id
    start_date: Day
    end_date: Day

    _end = field_validator("end_date")(_end_after_start)


class AllocationOut(Schema):
    id: int
    resource_id: int
    project_id: int
    project_title: str
    start_date: date
    end_date: date
    days: int
    cost: Money


class ResourceOut(Schema):
    id: int
    company_id: int
    kind: str
    name: str
    cost_per_day: Money
    notes: str | None
    created_at: datetime
    updated_at: datetime
    allocations: list[AllocationOut]


class Deleted(Schema):
    id: int
    deleted: bool = True


# -- timeline -------------------------------------------------------------------------------


class PhaseIn(Input):
    phase: PhaseName
    start_date: Day
    end_date: Day
    depends_on: list[PhaseName] = Field(default_factory=list, max_length=5)
    done: Flag = False

    _end = field_validator("end_date")(_end_after_start)


class TimelineUpdate(Input):
    phases: list[PhaseIn] = Field(default_factory=list, max_length=5)
    remove: list[PhaseName] = Field(default_factory=list, max_length=5)

    @field_validator("phases")
    @classmethod
    def _once(cls, v: list[PhaseIn]) -> list[PhaseIn]:
        names = [p.phase for p in v]
        for n in names:
            if names.count(n) > 1:
                raise ValueError(f"phase {n} appears twice")
        return v


class PhaseOut(Schema):
    phase: str
    start_date: date
    end_date: date
    depends_on: list[str]
    done: bool
    overdue: bool = Field(description="Not done and ended before today (UTC)")


class TimelineMilestoneOut(Schema):
    id: int
    title: str
    due_date: date | None
    done: bool
    phase: str | None = Field(description="The phase whose dates hold the due date")


class TimelineOut(Schema):
    project_id: int
    title: str
    archived_at: datetime | None = Field(description="When the project was archived (it may then be deleted)")
    role: str = Field(description="The caller's standing: `owner` or their team role")
    phases: list[PhaseOut]
    milestones: list[TimelineMilestoneOut]


# -- archive and delete ---------------------------------------------------------------------


class ArchiveBody(Input):
    archived: Flag = True


class ArchiveOut(Schema):
    id: int
    archived: bool
    archived_at: datetime | None


class OverduePhaseOut(Schema):
    project_id: int
    project_title: str
    phase: str
    end_date: date


class ProductionAnalyticsWithPhases(ProductionAnalyticsOut):
    """`GET /api/analytics/production` with the timeline's overdue phases."""

    overdue_phases: list[OverduePhaseOut] = Field(
        description="Open phases whose end date has passed, in projects not archived"
    )
