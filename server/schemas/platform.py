"""Request and response models of the platform endpoints: production projects, messages,
notifications and analytics. Money is Decimal with two places (a JSON string on the wire)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from pitchey.protocol.models import MessageOut as MessageOut  # shared with the live frames
from pitchey.protocol.models import NotificationOut as NotificationOut

from . import Input, PageQuery, Schema, at_least_one, exactly_one, not_null
from .fields import AmountIn as AmountIn
from .fields import Day, Flag, Id, Line, Moment, Para, PositiveAmountIn, QueryFlag

_CENT = Decimal("0.01")


def _cents(v: Decimal) -> Decimal:
    return v.quantize(_CENT)


# Outputs: every amount rendered with exactly two decimals ("0.00", not "0").
Money = Annotated[Decimal, AfterValidator(_cents)]
# Inputs (`AmountIn`, `PositiveAmountIn`, from .fields): ASCII, at most two decimals, never rounded.

Stage = Literal["development", "pre_production", "production", "post_production", "distribution", "completed"]
Range = Literal["7d", "30d", "90d"]


# -- production -------------------------------------------------------------------------------


class BudgetLineIn(Input):
    category: Line = Field(min_length=1, max_length=100)
    allocated: AmountIn


class MilestoneIn(Input):
    title: Line = Field(min_length=1, max_length=255)
    due_date: Day | None = None


def _distinct_categories(categories: list[str]) -> None:
    seen: set[str] = set()
    for c in categories:
        if c.lower() in seen:
            raise ValueError(f"budget line category '{c}' appears twice")
        seen.add(c.lower())


class ProjectCreate(Input):
    title: Line = Field(min_length=1, max_length=255)
    pitch_id: Id | None = Field(None, description="A pitch visible to the company")
    stage: Stage = "development"
    budget: AmountIn
    start_date: Day | None = None
    end_date: Day | None = None
    budget_lines: list[BudgetLineIn] = Field(default_factory=list, max_length=100)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _check(self) -> ProjectCreate:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("endDate must not be before startDate")
        _distinct_categories([b.category for b in self.budget_lines])
        return self


class BudgetLinePatchIn(Input):
    """With `id`: change that line. Without: a new line (`category` required)."""

    model_config = ConfigDict(json_schema_extra=at_least_one("id", "category"))

    id: Id | None = None
    category: Line | None = Field(None, min_length=1, max_length=100)
    allocated: AmountIn | None = None
    spent: AmountIn | None = Field(
        None, description="Sets spent; the difference is recorded as an adjustment expense"
    )

    @model_validator(mode="after")
    def _check(self) -> BudgetLinePatchIn:
        if self.id is None and self.category is None:
            raise ValueError("a new budget line needs a category")
        return self


class MilestonePatchIn(Input):
    """With `id`: change that milestone. Without: a new one (`title` required)."""

    model_config = ConfigDict(json_schema_extra=at_least_one("id", "title"))

    id: Id | None = None
    title: Line | None = Field(None, min_length=1, max_length=255)
    due_date: Day | None = None
    done: Flag | None = None

    @model_validator(mode="after")
    def _check(self) -> MilestonePatchIn:
        if self.id is None and self.title is None:
            raise ValueError("a new milestone needs a title")
        return self


class ProjectUpdate(Input):
    """Only the fields sent change. `pitchId`, `startDate`, `endDate` may be null to clear."""

    model_config = ConfigDict(json_schema_extra=not_null("title", "stage", "budget"))

    title: Line | None = Field(None, min_length=1, max_length=255)
    pitch_id: Id | None = None
    stage: Stage | None = None
    budget: AmountIn | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    budget_lines: list[BudgetLinePatchIn] = Field(default_factory=list, max_length=100)
    milestones: list[MilestonePatchIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _check(self) -> ProjectUpdate:
        for name in ("title", "stage", "budget"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("endDate must not be before startDate")
        _distinct_categories([b.category for b in self.budget_lines if b.category])
        ids = [b.id for b in self.budget_lines if b.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("a budget line id appears twice")
        return self


class ProjectListQuery(PageQuery):
    stage: Stage | None = None


class BudgetLineOut(Schema):
    id: int
    category: str
    allocated: Money
    spent: Money
    remaining: Money = Field(description="allocated - spent; negative when over budget")
    over_budget: bool


class MilestoneOut(Schema):
    id: int
    title: str
    due_date: date | None
    done: bool
    done_at: datetime | None


class ProjectTotals(Schema):
    budget: Money
    allocated: Money = Field(description="Sum of the budget lines' allocations")
    spent: Money
    remaining: Money = Field(description="budget - spent")
    unallocated: Money = Field(description="budget - allocated")
    over_budget: bool = Field(description="spent > budget")
    lines_over_budget: int


class ProjectOut(Schema):
    id: int
    company_id: int
    pitch_id: int | None
    title: str
    stage: Stage
    budget: Money
    start_date: date | None
    end_date: date | None
    created_at: datetime
    updated_at: datetime
    totals: ProjectTotals
    budget_lines: list[BudgetLineOut]
    milestones: list[MilestoneOut]


class ExpenseCreate(Input):
    budget_line_id: Id
    amount: PositiveAmountIn
    note: Para | None = Field(None, max_length=1000)
    spent_at: Moment | None = Field(None, description="When it was spent (default now); not in the future")


class ExpenseOut(Schema):
    id: int
    project_id: int
    budget_line_id: int
    kind: Literal["expense", "adjustment"]
    amount: Money
    note: str | None
    spent_at: datetime
    created_by: int | None
    created_at: datetime


class ExpenseResult(Schema):
    expense: ExpenseOut
    budget_line: BudgetLineOut
    totals: ProjectTotals


class InvestmentTotals(Schema):
    invested: Money = Field(
        description="Live (not cancelled/refunded) investments, each linked pitch counted once"
    )
    completed: Money
    pending: Money
    investments: int
    investors: int
    linked_pitches: int


class BudgetTotals(Schema):
    projects: int
    budget: Money
    allocated: Money
    spent: Money
    remaining: Money


class ProjectInvestmentOut(Schema):
    project_id: int
    project_title: str
    pitch_id: int
    pitch_title: str
    invested: Money
    completed: Money
    pending: Money
    investments: int
    investors: int


class InvestmentOverviewOut(Schema):
    totals: InvestmentTotals
    budget: BudgetTotals
    projects: list[ProjectInvestmentOut]


class PersonOut(Schema):
    id: int
    username: str | None
    name: str | None
    company_name: str | None
    user_type: Literal["creator", "investor", "production"]


class FollowedPitchOut(Schema):
    id: int
    title: str
    logline: str | None
    genre: str | None
    format: str | None
    visibility: str
    require_nda: bool


class ActivityOut(Schema):
    type: Literal["pitch_published"]
    at: datetime
    user: PersonOut
    pitch: FollowedPitchOut


# -- messages ---------------------------------------------------------------------------------


class SendMessageBody(Input):
    model_config = ConfigDict(json_schema_extra=exactly_one("recipient_id", "pitch_id"))

    recipient_id: Id | None = None
    pitch_id: Id | None = Field(None, description="A message to this pitch's owner")
    content: Para = Field(min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _one_target(self) -> SendMessageBody:
        if (self.recipient_id is None) == (self.pitch_id is None):
            raise ValueError("send exactly one of recipientId and pitchId")
        return self


class ThreadOut(Schema):
    counterpart: PersonOut
    last_message: MessageOut
    unread_count: int
    message_count: int


class ConversationReadBody(Input):
    up_to: Id | None = Field(
        None, description="Mark only messages up to this id (the newest one shown); all when absent"
    )


class ConversationReadOut(Schema):
    marked: int = Field(description="How many messages from this person were unread and are read now")
    unread_count: int = Field(description="Messages still unread, in all conversations")


# -- notifications ----------------------------------------------------------------------------


class NotificationQuery(PageQuery):
    unread_only: QueryFlag = False


class ReadAllOut(Schema):
    marked: int = Field(description="How many notifications were unread and are read now")
    unread_count: int


# -- analytics --------------------------------------------------------------------------------


class RangeQuery(Input):
    range: Range = "30d"


class Metric(Schema):
    current: int | Money
    previous: int | Money
    change_percent: float | None = Field(
        description="(current - previous) / previous * 100, "
        "one decimal; null when previous is 0 and current is not"
    )
    unit: Literal["count", "money"]


class DashboardOut(Schema):
    portal: Literal["creator", "investor", "production"]
    range: Range
    since: datetime
    until: datetime
    metrics: dict[str, Metric] = Field(
        description="creator: pitches, views, likes, ndaRequests, "
        "investmentsReceived, investmentCount; investor: invested, "
        "investments, ndasSigned; production: projects, spend, "
        "investedInPitches"
    )
    totals: dict[str, int | Money] = Field(description="All-time figures of the same portal")


class CountSeries(Schema):
    name: str
    data: list[int]


class MoneySeries(Schema):
    name: str
    line_id: int | None = None
    data: list[Money]


class PitchTotals(Schema):
    views: int = Field(description="Views in the range")
    likes: int = Field(description="Likes in the range that still stand")
    unique_viewers: int
    all_time_views: int
    all_time_likes: int


class PitchAnalyticsOut(Schema):
    pitch_id: int
    title: str
    range: Range
    labels: list[date] = Field(description="Every UTC day of the range, oldest first")
    series: list[CountSeries] = Field(description="`views` and `likes` per day")
    totals: PitchTotals


class StageCounts(Schema):
    total: int
    by_stage: dict[str, int]


class ProductionBudget(Schema):
    budget: Money
    allocated: Money
    spent: Money
    remaining: Money
    over_budget_projects: int


class OverBudgetLineOut(Schema):
    project_id: int
    project_title: str
    line_id: int
    category: str
    allocated: Money
    spent: Money
    over_by: Money


class MilestoneFigures(Schema):
    done: int
    total: int
    overdue: int
    completion_percent: float | None


class UpcomingMilestoneOut(Schema):
    project_id: int
    project_title: str
    milestone_id: int
    title: str
    due_date: date


class ProductionAnalyticsOut(Schema):
    projects: StageCounts
    budget: ProductionBudget
    over_budget_lines: list[OverBudgetLineOut]
    milestones: MilestoneFigures
    upcoming_milestones: list[UpcomingMilestoneOut]


class BudgetLineUse(Schema):
    id: int
    category: str
    allocated: Money
    spent: Money
    remaining: Money
    over_budget: bool
    percent_used: float | None


class BudgetAnalyticsOut(Schema):
    project_id: int
    title: str
    totals: ProjectTotals
    lines: list[BudgetLineUse]
    labels: list[date] = Field(description="UTC days on which spend was recorded, oldest first")
    series: list[MoneySeries] = Field(description="Per budget line: cumulative spent at each day")
    cumulative_total: list[Money]


class PresenceOut(Schema):
    user_id: int
    user_type: str
    connections: int


class RoomLiveOut(Schema):
    pitch_id: int
    title: str
    room: str
    active: bool = Field(description="The room actor is in memory on this node")
    subscribers: int = Field(description="Sessions subscribed to the room")
    viewers: int = Field(description="Distinct users present")
    presence: list[PresenceOut]


class NodeLiveOut(Schema):
    active_rooms: int
    connections: int


class RealtimeOut(Schema):
    pitches: list[RoomLiveOut]
    node: NodeLiveOut
