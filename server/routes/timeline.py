"""A project's timeline: phases (development, pre-production, shooting, post, distribution) with
dates and finish-to-start dependencies, and the project's milestones placed on it.

`PUT` is partial: phases sent are set, `remove` drops phases, the rest are kept, and phases that
depend on a moved one move with it (storage/timeline.py, `schedule`). A cycle, a dependency on a
phase not on the timeline, or a moved phase starting before its predecessor ends is a 422.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pitchey.storage.timeline import Phase, Timeline, TimelineError, TimelineStore

from ..api import Api, Call
from ..errors import NotFound, ValidationFailed
from ..schemas.teams import PhaseOut, TimelineMilestoneOut, TimelineOut, TimelineUpdate
from ._team import EDIT, READ, announce, project_role

api = Api()


def store(call: Call[Any, Any]) -> TimelineStore:
    return TimelineStore(call.state.database)


def timeline_out(t: Timeline, role: str) -> TimelineOut:
    today = datetime.now(UTC).date()

    def phase_of(due: Any) -> str | None:
        if due is None:
            return None
        return next((p.phase for p in t.phases if p.start_date <= due <= p.end_date), None)

    return TimelineOut(
        project_id=t.project_id,
        title=t.title,
        archived_at=t.archived_at,
        role=role,
        phases=[
            PhaseOut(
                phase=p.phase,
                start_date=p.start_date,
                end_date=p.end_date,
                depends_on=list(p.depends_on),
                done=p.done,
                overdue=not p.done and p.end_date < today,
            )
            for p in t.phases
        ],
        milestones=[
            TimelineMilestoneOut(
                id=m.id, title=m.title, due_date=m.due_date, done=m.done, phase=phase_of(m.due_date)
            )
            for m in t.milestones
        ],
    )


@api.route(
    "GET",
    "/api/production/projects/{id}/timeline",
    response=TimelineOut,
    permission=("read", "all_projects"),
    tags=("production", "timeline"),
    errors=(NotFound,),
    summary="The project's phases with dates, dependencies and overdue flags, and its milestones",
)
async def get_timeline(call: Call[Any, Any]) -> TimelineOut:
    project_id = call.path_id()
    access = await project_role(call, project_id, READ, "see the timeline")
    found = await store(call).get(project_id)
    if found is None:
        raise NotFound("Project not found")
    return timeline_out(found, access.role)


@api.route(
    "PUT",
    "/api/production/projects/{id}/timeline",
    body=TimelineUpdate,
    response=TimelineOut,
    permission=("update", "timeline"),
    tags=("production", "timeline"),
    errors=(NotFound,),
    summary="Set or move phases (dependents move along), remove phases; cycles are refused",
)
async def put_timeline(call: Call[TimelineUpdate, Any]) -> TimelineOut:
    project_id = call.path_id()
    access = await project_role(call, project_id, EDIT, "change the timeline")
    b = call.body
    sent = [
        Phase(p.phase, p.start_date, p.end_date, tuple(dict.fromkeys(p.depends_on)), p.done) for p in b.phases
    ]
    try:
        found = await store(call).write(project_id, sent, list(b.remove))
    except TimelineError as exc:
        raise ValidationFailed(
            f"phases: {exc.message}",
            details=[{"field": "phases", "message": exc.message, "type": "timeline"}],
        ) from None
    if found is None:
        raise NotFound("Project not found")
    await announce(call, project_id, "timeline")
    return timeline_out(found, access.role)
