"""Production companies' projects: budget lines, expenses, milestones, the investment overview of
the pitches they produce and the activity of the users they follow.

Every project query is scoped to the calling company, so another company's project id answers 404
exactly like an id that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pitchey.storage.production import (
    BudgetLine,
    DuplicateCategory,
    InvalidProjectData,
    LinePatch,
    MilestonePatch,
    NewLine,
    NewMilestone,
    ProductionStore,
    Project,
    ProjectPatch,
    UnknownBudgetLine,
    UnknownMilestone,
)
from pitchey.storage.timeline import ProjectNotDeletable, TimelineStore

from ..api import Api, Call, Reply
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..schemas import PageQuery, pagination
from ..schemas.platform import (
    ActivityOut,
    BudgetLineOut,
    BudgetTotals,
    ExpenseCreate,
    ExpenseOut,
    ExpenseResult,
    FollowedPitchOut,
    InvestmentOverviewOut,
    InvestmentTotals,
    MilestoneOut,
    PersonOut,
    ProjectCreate,
    ProjectInvestmentOut,
    ProjectListQuery,
    ProjectOut,
    ProjectTotals,
    ProjectUpdate,
)
from ..schemas.teams import ArchiveBody, ArchiveOut, Deleted
from ._shared import visible_pitch
from ._team import EDIT, OWNER, READ, SPEND, announce, project_role

api = Api()

# Clock skew tolerated on a client-supplied `spentAt`.
FUTURE_TOLERANCE = timedelta(minutes=5)


def store(call: Call[Any, Any]) -> ProductionStore:
    return ProductionStore(call.state.database)


class ProjectNotFound(NotFound):
    default_message = "Project not found"


# -- shaping --------------------------------------------------------------------------------


def line_out(line: BudgetLine) -> BudgetLineOut:
    return BudgetLineOut(
        id=line.id,
        category=line.category,
        allocated=line.allocated,
        spent=line.spent,
        remaining=line.allocated - line.spent,
        over_budget=line.over_budget,
    )


def project_totals(project: Project) -> ProjectTotals:
    allocated, spent = project.allocated, project.spent
    return ProjectTotals(
        budget=project.budget,
        allocated=allocated,
        spent=spent,
        remaining=project.budget - spent,
        unallocated=project.budget - allocated,
        over_budget=spent > project.budget,
        lines_over_budget=sum(1 for b in project.budget_lines if b.over_budget),
    )


def project_out(project: Project) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        company_id=project.company_id,
        pitch_id=project.pitch_id,
        title=project.title,
        stage=project.stage,
        budget=project.budget,
        start_date=project.start_date,
        end_date=project.end_date,
        created_at=project.created_at,
        updated_at=project.updated_at,
        totals=project_totals(project),
        budget_lines=[line_out(b) for b in project.budget_lines],
        milestones=[
            MilestoneOut(id=m.id, title=m.title, due_date=m.due_date, done=m.done, done_at=m.done_at)
            for m in project.milestones
        ],
    )


def _refusal(exc: Exception) -> Exception:
    """Storage refusals as API errors (the message names the offending value)."""
    if isinstance(exc, (UnknownBudgetLine, UnknownMilestone)):
        return NotFound(exc.message)
    if isinstance(exc, DuplicateCategory):
        return Conflict(exc.message)
    if isinstance(exc, InvalidProjectData):
        return ValidationFailed(exc.message)
    return exc


async def _check_pitch(call: Call[Any, Any], pitch_id: int | None) -> None:
    """A project may only be linked to a pitch the company can see (404/403 like a read)."""
    if pitch_id is not None:
        await visible_pitch(call, pitch_id)


# -- projects -------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/production/projects",
    query=ProjectListQuery,
    response=ProjectOut,
    response_list=True,
    permission=("read", "all_projects"),
    tags=("production",),
    summary="The company's own projects, newest first (filter by `stage`)",
)
async def list_projects(call: Call[Any, ProjectListQuery]) -> Reply:
    q = call.query
    projects, total = await store(call).page(call.user.user_id, limit=q.limit, offset=q.offset, stage=q.stage)
    return Reply([project_out(p) for p in projects], meta=pagination(q, total))


@api.route(
    "POST",
    "/api/production/projects",
    body=ProjectCreate,
    response=ProjectOut,
    status=201,
    permission=("create", "project"),
    tags=("production",),
    errors=(NotFound, Forbidden),
    summary="Create a project with its budget lines and milestones",
)
async def create_project(call: Call[ProjectCreate, Any]) -> Reply:
    b = call.body
    await _check_pitch(call, b.pitch_id)
    try:
        project = await store(call).create(
            call.user.user_id,
            title=b.title,
            stage=b.stage,
            budget=b.budget,
            pitch_id=b.pitch_id,
            start_date=b.start_date,
            end_date=b.end_date,
            lines=[NewLine(x.category, x.allocated) for x in b.budget_lines],
            milestones=[NewMilestone(m.title, m.due_date) for m in b.milestones],
        )
    except (DuplicateCategory, InvalidProjectData) as exc:
        raise _refusal(exc) from None
    return Reply(project_out(project), status=201)


@api.route(
    "GET",
    "/api/production/projects/{id}",
    response=ProjectOut,
    permission=("read", "all_projects"),
    tags=("production",),
    errors=(NotFound,),
    summary="One of the company's projects with budget lines, milestones and totals",
)
async def get_project(call: Call[Any, Any]) -> ProjectOut:
    project_id = call.path_id()
    access = await project_role(call, project_id, READ, "see this project")
    project = await store(call).get(access.company_id, project_id)
    if project is None:
        raise ProjectNotFound()
    return project_out(project)


@api.route(
    "PUT",
    "/api/production/projects/{id}",
    body=ProjectUpdate,
    response=ProjectOut,
    permission=("update", "projects"),
    tags=("production",),
    errors=(NotFound, Forbidden, Conflict),
    summary="Change stage, budget, dates, budget lines (allocated, spent) and milestones",
)
async def update_project(call: Call[ProjectUpdate, Any]) -> ProjectOut:
    project_id = call.path_id()
    b = call.body
    sent = b.model_fields_set
    values: dict[str, Any] = {
        name: getattr(b, name)
        for name in ("title", "pitch_id", "stage", "budget", "start_date", "end_date")
        if name in sent
    }
    st = store(call)
    # Ownership (or a team role that may edit) first: a foreign project id is a 404 whatever
    # pitch the body names.
    company_id = (await project_role(call, project_id, EDIT, "change this project")).company_id
    if values.get("pitch_id") is not None:
        await _check_pitch(call, values["pitch_id"])
    patch = ProjectPatch(
        values=values,
        lines=[LinePatch(x.id, x.category, x.allocated, x.spent) for x in b.budget_lines],
        milestones=[
            MilestonePatch(m.id, m.title, m.due_date, "due_date" in m.model_fields_set, m.done)
            for m in b.milestones
        ],
    )
    try:
        project = await st.update(company_id, project_id, patch, call.user.user_id)
    except (UnknownBudgetLine, UnknownMilestone, DuplicateCategory, InvalidProjectData) as exc:
        raise _refusal(exc) from None
    if project is None:
        raise ProjectNotFound()
    await announce(call, project_id, "project")
    return project_out(project)


@api.route(
    "POST",
    "/api/production/projects/{id}/expenses",
    body=ExpenseCreate,
    response=ExpenseResult,
    status=201,
    permission=("update", "projects"),
    tags=("production",),
    errors=(NotFound,),
    summary="Record spend on a budget line (may go over budget: flagged, not refused)",
)
async def add_expense(call: Call[ExpenseCreate, Any]) -> Reply:
    project_id = call.path_id()
    b = call.body
    spent_at = b.spent_at
    if spent_at is not None:
        if spent_at.tzinfo is None:
            spent_at = spent_at.replace(tzinfo=UTC)
        if spent_at > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValidationFailed(
                "spentAt: must not be in the future",
                details=[{"field": "spentAt", "message": "in the future", "type": "future"}],
            )
    st = store(call)
    company_id = (await project_role(call, project_id, SPEND, "record expenses")).company_id
    try:
        result = await st.add_expense(
            company_id, project_id, b.budget_line_id, b.amount, b.note, spent_at, call.user.user_id
        )
    except (UnknownBudgetLine, InvalidProjectData) as exc:
        raise _refusal(exc) from None
    if result is None:
        raise ProjectNotFound()
    expense, line = result
    project = await st.get(company_id, project_id)
    if project is None:  # deleted in between
        raise ProjectNotFound()
    await announce(call, project_id, "expenses")
    return Reply(
        ExpenseResult(
            expense=ExpenseOut.model_validate(expense),
            budget_line=line_out(line),
            totals=project_totals(project),
        ),
        status=201,
    )


@api.route(
    "GET",
    "/api/production/projects/{id}/expenses",
    query=PageQuery,
    response=ExpenseOut,
    response_list=True,
    permission=("read", "budgets"),
    tags=("production",),
    errors=(NotFound,),
    summary="A project's expenses and adjustments, latest first",
)
async def list_expenses(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    project_id = call.path_id()
    company_id = (await project_role(call, project_id, READ, "see expenses")).company_id
    found = await store(call).expenses(company_id, project_id, limit=q.limit, offset=q.offset)
    if found is None:
        raise ProjectNotFound()
    expenses, total = found
    return Reply([ExpenseOut.model_validate(e) for e in expenses], meta=pagination(q, total))


# -- archive and delete ---------------------------------------------------------------------


@api.route(
    "POST",
    "/api/production/projects/{id}/archive",
    body=ArchiveBody,
    response=ArchiveOut,
    permission=("update", "projects"),
    tags=("production",),
    errors=(NotFound, Forbidden),
    summary="Archive a project (`{archived: false}` restores it); an archived project may be deleted",
)
async def archive_project(call: Call[ArchiveBody, Any]) -> ArchiveOut:
    project_id = call.path_id()
    await project_role(call, project_id, OWNER, "archive projects")
    stamp = await TimelineStore(call.state.database).archive(project_id, call.body.archived)
    await announce(call, project_id, "archive")
    return ArchiveOut(id=project_id, archived=stamp is not None, archived_at=stamp)


@api.route(
    "DELETE",
    "/api/production/projects/{id}",
    response=Deleted,
    permission=("delete", "projects"),
    tags=("production",),
    errors=(NotFound, Forbidden, Conflict),
    summary="Delete a project; 409 naming its bookings and expenses unless it is archived first",
)
async def delete_project(call: Call[Any, Any]) -> Deleted:
    project_id = call.path_id()
    await project_role(call, project_id, OWNER, "delete projects")
    try:
        deleted = await TimelineStore(call.state.database).delete(project_id)
    except ProjectNotDeletable as exc:
        raise Conflict(exc.message) from None
    if not deleted:
        raise ProjectNotFound()
    await announce(call, project_id, "deleted")
    return Deleted(id=project_id)


# -- overview and following -----------------------------------------------------------------


@api.route(
    "GET",
    "/api/production/investments/overview",
    response=InvestmentOverviewOut,
    permission=("read", "budgets"),
    tags=("production",),
    summary="Money invested in the pitches the company's projects produce, and its own budget totals",
)
async def investments_overview(call: Call[Any, Any]) -> InvestmentOverviewOut:
    o = await store(call).investment_overview(call.user.user_id)
    return InvestmentOverviewOut(
        totals=InvestmentTotals(
            invested=o.total_invested,
            completed=o.total_completed,
            pending=o.total_pending,
            investments=o.investments,
            investors=o.investors,
            linked_pitches=o.linked_pitches,
        ),
        budget=BudgetTotals(
            projects=o.project_count,
            budget=o.budget,
            allocated=o.allocated,
            spent=o.spent,
            remaining=o.budget - o.spent,
        ),
        projects=[
            ProjectInvestmentOut(
                project_id=p.project_id,
                project_title=p.project_title,
                pitch_id=p.pitch_id,
                pitch_title=p.pitch_title,
                invested=p.invested,
                completed=p.completed,
                pending=p.pending,
                investments=p.investments,
                investors=p.investors,
            )
            for p in o.projects
        ],
    )


@api.route(
    "GET",
    "/api/production/following",
    query=PageQuery,
    response=ActivityOut,
    response_list=True,
    portals=("production",),
    tags=("production",),
    summary="Pitches recently published by the users the company follows",
)
async def following(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    items, total = await store(call).following(call.user.user_id, limit=q.limit, offset=q.offset)
    return Reply(
        [
            ActivityOut(
                type="pitch_published",
                at=i.published_at,
                user=PersonOut(
                    id=i.user_id,
                    username=i.username,
                    name=i.name,
                    company_name=i.company_name,
                    user_type=i.user_type,
                ),
                pitch=FollowedPitchOut(
                    id=i.pitch_id,
                    title=i.title,
                    logline=i.logline,
                    genre=i.genre,
                    format=i.format,
                    visibility=i.visibility,
                    require_nda=i.require_nda,
                ),
            )
            for i in items
        ],
        meta=pagination(q, total),
    )
