"""Analytics: dashboards per portal, a pitch's daily views and likes, production figures, a
project's spend over time, and live room figures. Series are chart-ready: `labels` (UTC days)
and `series` of `{name, data}` aligned with them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pitchey.storage.analytics import AnalyticsStore, Pair
from pitchey.storage.production import STAGES, ProductionStore
from pitchey.storage.timeline import TimelineStore

from ..api import Api, Call
from ..errors import NotFound, PitchNotFound
from ..schemas.platform import (
    BudgetAnalyticsOut,
    BudgetLineUse,
    CountSeries,
    DashboardOut,
    Metric,
    MilestoneFigures,
    MoneySeries,
    NodeLiveOut,
    OverBudgetLineOut,
    PitchAnalyticsOut,
    PitchTotals,
    PresenceOut,
    ProductionBudget,
    RangeQuery,
    RealtimeOut,
    RoomLiveOut,
    StageCounts,
    UpcomingMilestoneOut,
)
from ..schemas.teams import OverduePhaseOut, ProductionAnalyticsWithPhases
from ._shared import realtime_hub
from .production import ProjectNotFound, project_totals

api = Api()

RANGE_DAYS = {"7d": 7, "30d": 30, "90d": 90}


def store(call: Call[Any, Any]) -> AnalyticsStore:
    return AnalyticsStore(call.state.database)


def one_decimal(value: Decimal) -> float:
    """Rounded half up, as people expect (50.05 -> 50.1), before it becomes a float."""
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def change_percent(current: int | Decimal, previous: int | Decimal) -> float | None:
    """Relative change in percent, one decimal; None when it has no finite value."""
    if previous == 0:
        return 0.0 if current == 0 else None
    return one_decimal((Decimal(current) - Decimal(previous)) / Decimal(previous) * 100)


def metric(pair: Pair) -> Metric:
    money = isinstance(pair.current, Decimal) or isinstance(pair.previous, Decimal)
    return Metric(
        current=pair.current,
        previous=pair.previous,
        change_percent=change_percent(pair.current, pair.previous),
        unit="money" if money else "count",
    )


def percent(part: Decimal | int, whole: Decimal | int) -> float | None:
    if whole == 0:
        return None
    return one_decimal(Decimal(part) / Decimal(whole) * 100)


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


@api.route(
    "GET",
    "/api/analytics/dashboard",
    query=RangeQuery,
    response=DashboardOut,
    permission=("read", "analytics"),
    tags=("analytics",),
    summary="The caller's portal dashboard: figures in the range, the range before it "
    "and the change in percent, plus all-time totals",
)
async def dashboard(call: Call[Any, RangeQuery]) -> DashboardOut:
    me = call.user
    days = RANGE_DAYS[call.query.range]
    end = datetime.now(UTC)
    mid = end - timedelta(days=days)
    window = (mid - timedelta(days=days), mid, end)
    st = store(call)
    if me.user_type == "creator":
        pairs, totals = await st.creator_dashboard(me.user_id, window)
    elif me.user_type == "investor":
        pairs, totals = await st.investor_dashboard(me.user_id, window)
    else:
        pairs, totals = await st.production_dashboard(me.user_id, window)
    return DashboardOut(
        portal=me.user_type,
        range=call.query.range,
        since=mid,
        until=end,
        metrics={k: metric(v) for k, v in pairs.items()},
        totals=totals,
    )


@api.route(
    "GET",
    "/api/analytics/pitch/{id}",
    query=RangeQuery,
    response=PitchAnalyticsOut,
    permission=("read", "analytics"),
    tags=("analytics",),
    errors=(NotFound,),
    summary="Views and likes of one of your pitches per day over the range",
)
async def pitch_analytics(call: Call[Any, RangeQuery]) -> PitchAnalyticsOut:
    pitch = await realtime_hub(call).pitches.get(call.path_id())
    if pitch is None or pitch.user_id != call.user.user_id:
        raise PitchNotFound()
    days = RANGE_DAYS[call.query.range]
    today = datetime.now(UTC).date()
    labels = [today - timedelta(days=days - 1 - i) for i in range(days)]
    counts = await store(call).pitch_daily(
        pitch.id, day_start(labels[0]), day_start(today + timedelta(days=1))
    )
    views = [counts.views.get(d, 0) for d in labels]
    likes = [counts.likes.get(d, 0) for d in labels]
    return PitchAnalyticsOut(
        pitch_id=pitch.id,
        title=pitch.title,
        range=call.query.range,
        labels=labels,
        series=[CountSeries(name="views", data=views), CountSeries(name="likes", data=likes)],
        totals=PitchTotals(
            views=sum(views),
            likes=sum(likes),
            unique_viewers=counts.unique_viewers,
            all_time_views=pitch.view_count,
            all_time_likes=pitch.like_count,
        ),
    )


@api.route(
    "GET",
    "/api/analytics/production",
    response=ProductionAnalyticsWithPhases,
    permission=("read", "budgets"),
    tags=("analytics",),
    summary="Projects by stage, budget vs spend, over-budget lines, milestones and overdue phases",
)
async def production_analytics(call: Call[Any, Any]) -> ProductionAnalyticsWithPhases:
    today = datetime.now(UTC).date()
    f = await store(call).production_figures(call.user.user_id, today)
    overdue = await TimelineStore(call.state.database).overdue(call.user.user_id, today)
    by_stage = {s: f.by_stage.get(s, 0) for s in STAGES}
    return ProductionAnalyticsWithPhases(
        projects=StageCounts(total=sum(by_stage.values()), by_stage=by_stage),
        budget=ProductionBudget(
            budget=f.budget,
            allocated=f.allocated,
            spent=f.spent,
            remaining=f.budget - f.spent,
            over_budget_projects=f.over_budget_projects,
        ),
        over_budget_lines=[
            OverBudgetLineOut(
                project_id=x.project_id,
                project_title=x.project_title,
                line_id=x.line_id,
                category=x.category,
                allocated=x.allocated,
                spent=x.spent,
                over_by=x.spent - x.allocated,
            )
            for x in f.over_budget_lines
        ],
        milestones=MilestoneFigures(
            done=f.milestones_done,
            total=f.milestones_total,
            overdue=f.milestones_overdue,
            completion_percent=percent(f.milestones_done, f.milestones_total),
        ),
        upcoming_milestones=[
            UpcomingMilestoneOut(
                project_id=m.project_id,
                project_title=m.project_title,
                milestone_id=m.milestone_id,
                title=m.title,
                due_date=m.due_date,
            )
            for m in f.upcoming
        ],
        overdue_phases=[
            OverduePhaseOut(project_id=pid, project_title=title, phase=phase, end_date=end)
            for pid, title, phase, end in overdue
        ],
    )


@api.route(
    "GET",
    "/api/analytics/budget/{id}",
    response=BudgetAnalyticsOut,
    permission=("read", "budgets"),
    tags=("analytics",),
    errors=(NotFound,),
    summary="One of your projects: allocated vs spent per line and cumulative spend per line over time",
)
async def budget_analytics(call: Call[Any, Any]) -> BudgetAnalyticsOut:
    project = await ProductionStore(call.state.database).get(call.user.user_id, call.path_id())
    if project is None:
        raise ProjectNotFound()
    points = await store(call).project_spend(project.id)
    labels = sorted({p.day for p in points})
    index = {d: i for i, d in enumerate(labels)}
    daily: dict[int, list[Decimal]] = {b.id: [Decimal(0)] * len(labels) for b in project.budget_lines}
    for p in points:
        daily.setdefault(p.line_id, [Decimal(0)] * len(labels))[index[p.day]] += p.amount
    series = []
    total = [Decimal(0)] * len(labels)
    for line in project.budget_lines:
        running, data = Decimal(0), []
        for i, amount in enumerate(daily[line.id]):
            running += amount
            data.append(running)
            total[i] += running
        series.append(MoneySeries(name=line.category, line_id=line.id, data=data))
    return BudgetAnalyticsOut(
        project_id=project.id,
        title=project.title,
        totals=project_totals(project),
        lines=[
            BudgetLineUse(
                id=b.id,
                category=b.category,
                allocated=b.allocated,
                spent=b.spent,
                remaining=b.allocated - b.spent,
                over_budget=b.over_budget,
                percent_used=percent(b.spent, b.allocated),
            )
            for b in project.budget_lines
        ],
        labels=labels,
        series=series,
        cumulative_total=total,
    )


@api.route(
    "GET",
    "/api/analytics/realtime",
    response=RealtimeOut,
    permission=("read", "analytics"),
    tags=("analytics",),
    summary="Live figures from the room actors: each of your pitch rooms (subscribers, "
    "presence) and this node's active rooms and connections",
)
async def realtime_analytics(call: Call[Any, Any]) -> RealtimeOut:
    realtime = call.state.realtime
    hub = realtime.hub
    rooms = []
    for pitch_id, title in await store(call).owned_pitches(call.user.user_id):
        name = f"pitch:{pitch_id}"
        snap = hub.room_snapshot(name)
        presence = snap["presence"] if snap else []
        rooms.append(
            RoomLiveOut(
                pitch_id=pitch_id,
                title=title,
                room=name,
                active=snap is not None,
                subscribers=snap["subscribers"] if snap else 0,
                viewers=len(presence),
                presence=[
                    PresenceOut(user_id=p["userId"], user_type=p["userType"], connections=p["connections"])
                    for p in presence
                ],
            )
        )
    return RealtimeOut(
        pitches=rooms,
        node=NodeLiveOut(active_rooms=hub.active_rooms(), connections=len(realtime.sessions.sessions)),
    )
