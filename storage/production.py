"""Production projects of one company: budget lines, expenses (spend over time) and milestones.

Every query is scoped by `company_id`, so another company's project is simply not there. A line's
`spent` is kept equal to the sum of its expense rows: both change in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from .database import Database, StorageError
from .pitches import visible_sql

STAGES = ("development", "pre_production", "production", "post_production", "distribution", "completed")


class ProductionError(StorageError):
    """A refused production write; `message` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownBudgetLine(ProductionError):
    """A budget line id that is not one of this project's lines."""


class UnknownMilestone(ProductionError):
    """A milestone id that is not one of this project's milestones."""


class DuplicateCategory(ProductionError):
    """Two budget lines of one project with the same category (case-insensitive)."""


class InvalidProjectData(ProductionError):
    """Values that pass the schema but not together (end before start, overflowing sums)."""


@dataclass(frozen=True, slots=True)
class BudgetLine:
    id: int
    project_id: int
    category: str
    allocated: Decimal
    spent: Decimal
    created_at: datetime

    @property
    def over_budget(self) -> bool:
        return self.spent > self.allocated


@dataclass(frozen=True, slots=True)
class Milestone:
    id: int
    project_id: int
    title: str
    due_date: date | None
    done: bool
    done_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Expense:
    id: int
    project_id: int
    budget_line_id: int
    kind: str
    amount: Decimal
    note: str | None
    spent_at: datetime
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    company_id: int
    pitch_id: int | None
    title: str
    stage: str
    budget: Decimal
    start_date: date | None
    end_date: date | None
    created_at: datetime
    updated_at: datetime
    budget_lines: list[BudgetLine] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)

    @property
    def allocated(self) -> Decimal:
        return sum((b.allocated for b in self.budget_lines), Decimal("0.00"))

    @property
    def spent(self) -> Decimal:
        return sum((b.spent for b in self.budget_lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class NewLine:
    category: str
    allocated: Decimal


@dataclass(frozen=True, slots=True)
class NewMilestone:
    title: str
    due_date: date | None


@dataclass(frozen=True, slots=True)
class LinePatch:
    """Change to one budget line: `id` None creates one (category and allocated required)."""

    id: int | None
    category: str | None = None
    allocated: Decimal | None = None
    spent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MilestonePatch:
    """Change to one milestone: `id` None creates one (title required)."""

    id: int | None
    title: str | None = None
    due_date: date | None = None
    due_date_set: bool = False
    done: bool | None = None


@dataclass(frozen=True, slots=True)
class ProjectPatch:
    """Only the fields in `fields` change; a field listed with None clears it."""

    values: dict[str, Any]
    lines: list[LinePatch] = field(default_factory=list)
    milestones: list[MilestonePatch] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FollowedPitch:
    pitch_id: int
    title: str
    logline: str | None
    genre: str | None
    format: str | None
    visibility: str
    require_nda: bool
    published_at: datetime
    user_id: int
    username: str | None
    name: str | None
    company_name: str | None
    user_type: str


@dataclass(frozen=True, slots=True)
class PitchInvestment:
    project_id: int
    project_title: str
    pitch_id: int
    pitch_title: str
    invested: Decimal
    completed: Decimal
    pending: Decimal
    investments: int
    investors: int


@dataclass(frozen=True, slots=True)
class InvestmentOverview:
    projects: list[PitchInvestment]
    total_invested: Decimal
    total_completed: Decimal
    total_pending: Decimal
    investors: int
    investments: int
    linked_pitches: int
    project_count: int
    budget: Decimal
    allocated: Decimal
    spent: Decimal


_PROJECT = "id, company_id, pitch_id, title, stage, budget, start_date, end_date, created_at, updated_at"
# The company may see the linked pitch `p` now (`visible_sql`, the list form of rooms.access.decide,
# with the company as the viewer): a pitch that became private or unpublished since it was linked
# is not named by the project (its pitchId reads null) nor in the investment overview.
_COMPANY_SEES = visible_sql(
    "pr.company_id",
    "'production'",
    has_nda="""EXISTS (SELECT 1 FROM nda_requests a WHERE a.pitch_id = p.id
                              AND a.requester_id = pr.company_id AND a.status = 'approved')""",
)
# A project as its company reads it: the link only to a pitch it may see.
_PROJECT_READ = (
    "pr.id, pr.company_id, CASE WHEN " + _COMPANY_SEES + " THEN pr.pitch_id END AS pitch_id, pr.title, "
    "pr.stage, pr.budget, pr.start_date, pr.end_date, pr.created_at, pr.updated_at"
)
_PROJECT_FROM = "production_projects pr LEFT JOIN pitches p ON p.id = pr.pitch_id"
_LINE = "id, project_id, category, allocated, spent, created_at"
_MILESTONE = "id, project_id, title, due_date, done, done_at, created_at"
_EXPENSE = "id, project_id, budget_line_id, kind, amount, note, spent_at, created_by, created_at"
# Investments that still count: not cancelled and not refunded.
LIVE_INVESTMENT = "status NOT IN ('cancelled', 'refunded')"


def _line(row: asyncpg.Record) -> BudgetLine:
    return BudgetLine(**dict(row))


def _milestone(row: asyncpg.Record) -> Milestone:
    return Milestone(**dict(row))


def _expense(row: asyncpg.Record) -> Expense:
    return Expense(**dict(row))


class ProductionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ---------------------------------------------------------------------------

    async def _children(self, conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[Project]:
        ids = [r["id"] for r in rows]
        lines: dict[int, list[BudgetLine]] = {i: [] for i in ids}
        milestones: dict[int, list[Milestone]] = {i: [] for i in ids}
        if ids:
            for r in await conn.fetch(
                f"SELECT {_LINE} FROM production_budget_lines WHERE project_id = ANY($1::bigint[]) "
                "ORDER BY id",
                ids,
            ):
                lines[r["project_id"]].append(_line(r))
            for r in await conn.fetch(
                f"""SELECT {_MILESTONE} FROM production_milestones
                    WHERE project_id = ANY($1::bigint[])
                    ORDER BY due_date NULLS LAST, id""",
                ids,
            ):
                milestones[r["project_id"]].append(_milestone(r))
        return [Project(**dict(r), budget_lines=lines[r["id"]], milestones=milestones[r["id"]]) for r in rows]

    async def get(self, company_id: int, project_id: int) -> Project | None:
        async with self.db.acquire() as conn:
            return await self._get(conn, company_id, project_id)

    async def _get(self, conn: asyncpg.Connection, company_id: int, project_id: int) -> Project | None:
        row = await conn.fetchrow(
            f"SELECT {_PROJECT_READ} FROM {_PROJECT_FROM} WHERE pr.id = $1 AND pr.company_id = $2",
            project_id,
            company_id,
        )
        if row is None:
            return None
        return (await self._children(conn, [row]))[0]

    async def page(
        self, company_id: int, *, limit: int, offset: int, stage: str | None = None
    ) -> tuple[list[Project], int]:
        """A page of the company's projects, newest first, and how many there are."""
        async with self.db.acquire() as conn:
            total = await conn.fetchval(
                """SELECT count(*) FROM production_projects
                   WHERE company_id = $1 AND ($2::text IS NULL OR stage = $2)""",
                company_id,
                stage,
            )
            rows = await conn.fetch(
                f"""SELECT {_PROJECT_READ} FROM {_PROJECT_FROM}
                    WHERE pr.company_id = $1 AND ($2::text IS NULL OR pr.stage = $2)
                    ORDER BY pr.id DESC LIMIT $3 OFFSET $4""",
                company_id,
                stage,
                limit,
                offset,
            )
            return await self._children(conn, list(rows)), int(total)

    async def expenses(
        self, company_id: int, project_id: int, *, limit: int, offset: int
    ) -> tuple[list[Expense], int] | None:
        """A page of a project's expenses, latest first; None if not the company's project."""
        async with self.db.acquire() as conn:
            owned = await conn.fetchval(
                "SELECT true FROM production_projects WHERE id = $1 AND company_id = $2",
                project_id,
                company_id,
            )
            if not owned:
                return None
            total = await conn.fetchval(
                "SELECT count(*) FROM production_expenses WHERE project_id = $1", project_id
            )
            rows = await conn.fetch(
                f"""SELECT {_EXPENSE} FROM production_expenses WHERE project_id = $1
                    ORDER BY spent_at DESC, id DESC LIMIT $2 OFFSET $3""",
                project_id,
                limit,
                offset,
            )
            return [_expense(r) for r in rows], int(total)

    # -- writing ---------------------------------------------------------------------------

    async def create(
        self,
        company_id: int,
        *,
        title: str,
        stage: str,
        budget: Decimal,
        pitch_id: int | None,
        start_date: date | None,
        end_date: date | None,
        lines: list[NewLine],
        milestones: list[NewMilestone],
    ) -> Project:
        """The project with its lines and milestones, all or nothing."""
        try:
            async with self.db.transaction() as conn:
                row = await conn.fetchrow(
                    f"""INSERT INTO production_projects
                            (company_id, pitch_id, title, stage, budget, start_date, end_date)
                        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_PROJECT}""",
                    company_id,
                    pitch_id,
                    title,
                    stage,
                    budget,
                    start_date,
                    end_date,
                )
                assert row is not None
                for line in lines:
                    await self._add_line(conn, row["id"], line.category, line.allocated)
                for m in milestones:
                    await conn.execute(
                        """INSERT INTO production_milestones (project_id, title, due_date)
                           VALUES ($1, $2, $3)""",
                        row["id"],
                        m.title,
                        m.due_date,
                    )
                return (await self._children(conn, [row]))[0]
        except asyncpg.CheckViolationError as exc:
            raise InvalidProjectData(_check_message(exc)) from None

    async def _add_line(
        self, conn: asyncpg.Connection, project_id: int, category: str, allocated: Decimal
    ) -> int:
        try:
            async with conn.transaction():  # a savepoint: the caller's transaction survives
                line_id: int = await conn.fetchval(
                    """INSERT INTO production_budget_lines (project_id, category, allocated)
                       VALUES ($1, $2, $3) RETURNING id""",
                    project_id,
                    category,
                    allocated,
                )
        except asyncpg.UniqueViolationError:
            raise DuplicateCategory(f"Budget line '{category}' already exists") from None
        return line_id

    async def update(
        self, company_id: int, project_id: int, patch: ProjectPatch, user_id: int
    ) -> Project | None:
        """Apply a partial update in one transaction; None if not the company's project.

        Setting a line's `spent` records the difference as an 'adjustment' expense, so the spend
        series and the line always agree.
        """
        try:
            async with self.db.transaction() as conn:
                current = await conn.fetchrow(
                    f"""SELECT {_PROJECT} FROM production_projects
                        WHERE id = $1 AND company_id = $2 FOR UPDATE""",
                    project_id,
                    company_id,
                )
                if current is None:
                    return None
                merged = dict(current)
                merged.update(patch.values)
                if (
                    merged["start_date"] is not None
                    and merged["end_date"] is not None
                    and merged["end_date"] < merged["start_date"]
                ):
                    raise InvalidProjectData("endDate must not be before startDate")
                await conn.execute(
                    """UPDATE production_projects
                       SET title = $2, pitch_id = $3, stage = $4, budget = $5, start_date = $6,
                           end_date = $7, updated_at = now()
                       WHERE id = $1""",
                    project_id,
                    merged["title"],
                    merged["pitch_id"],
                    merged["stage"],
                    merged["budget"],
                    merged["start_date"],
                    merged["end_date"],
                )
                for lp in patch.lines:
                    await self._apply_line(conn, project_id, lp, user_id)
                for mp in patch.milestones:
                    await self._apply_milestone(conn, project_id, mp)
                return await self._get(conn, company_id, project_id)
        except asyncpg.NumericValueOutOfRangeError:
            raise InvalidProjectData("An amount is too large") from None
        except asyncpg.CheckViolationError as exc:
            raise InvalidProjectData(_check_message(exc)) from None

    async def _apply_line(
        self, conn: asyncpg.Connection, project_id: int, lp: LinePatch, user_id: int
    ) -> None:
        if lp.id is None:
            assert lp.category is not None
            line_id = await self._add_line(conn, project_id, lp.category, lp.allocated or Decimal("0"))
            old_spent = Decimal("0")
        else:
            row = await conn.fetchrow(
                """SELECT id, spent FROM production_budget_lines
                   WHERE id = $1 AND project_id = $2 FOR UPDATE""",
                lp.id,
                project_id,
            )
            if row is None:
                raise UnknownBudgetLine(f"Budget line {lp.id} not found in this project")
            line_id, old_spent = row["id"], row["spent"]
            if lp.category is not None:
                try:
                    async with conn.transaction():
                        await conn.execute(
                            "UPDATE production_budget_lines SET category = $2 WHERE id = $1",
                            line_id,
                            lp.category,
                        )
                except asyncpg.UniqueViolationError:
                    raise DuplicateCategory(f"Budget line '{lp.category}' already exists") from None
            if lp.allocated is not None:
                await conn.execute(
                    "UPDATE production_budget_lines SET allocated = $2 WHERE id = $1", line_id, lp.allocated
                )
        if lp.spent is not None and lp.spent != old_spent:
            await conn.execute(
                """INSERT INTO production_expenses
                       (project_id, budget_line_id, kind, amount, note, created_by)
                   VALUES ($1, $2, 'adjustment', $3, 'spent set by project update', $4)""",
                project_id,
                line_id,
                lp.spent - old_spent,
                user_id,
            )
            await conn.execute(
                "UPDATE production_budget_lines SET spent = $2 WHERE id = $1", line_id, lp.spent
            )

    async def _apply_milestone(self, conn: asyncpg.Connection, project_id: int, mp: MilestonePatch) -> None:
        if mp.id is None:
            assert mp.title is not None
            done = bool(mp.done)
            await conn.execute(
                """INSERT INTO production_milestones (project_id, title, due_date, done, done_at)
                   VALUES ($1, $2, $3, $4, CASE WHEN $4 THEN now() END)""",
                project_id,
                mp.title,
                mp.due_date,
                done,
            )
            return
        found = await conn.fetchval(
            """UPDATE production_milestones
               SET title = coalesce($3, title),
                   due_date = CASE WHEN $4 THEN $5 ELSE due_date END,
                   done = coalesce($6, done),
                   done_at = CASE WHEN $6 IS NULL THEN done_at
                                  WHEN $6 THEN coalesce(done_at, now())
                                  ELSE NULL END
               WHERE id = $1 AND project_id = $2 RETURNING true""",
            mp.id,
            project_id,
            mp.title,
            mp.due_date_set,
            mp.due_date,
            mp.done,
        )
        if not found:
            raise UnknownMilestone(f"Milestone {mp.id} not found in this project")

    async def add_expense(
        self,
        company_id: int,
        project_id: int,
        line_id: int,
        amount: Decimal,
        note: str | None,
        spent_at: datetime | None,
        user_id: int,
    ) -> tuple[Expense, BudgetLine] | None:
        """Append an expense and raise its line's spent, atomically.

        None if the project is not the company's; UnknownBudgetLine if the line is not the
        project's.
        """
        try:
            async with self.db.transaction() as conn:
                owned = await conn.fetchval(
                    """UPDATE production_projects SET updated_at = now()
                       WHERE id = $1 AND company_id = $2 RETURNING true""",
                    project_id,
                    company_id,
                )
                if not owned:
                    return None
                line = await conn.fetchrow(
                    f"""UPDATE production_budget_lines SET spent = spent + $3
                        WHERE id = $1 AND project_id = $2 RETURNING {_LINE}""",
                    line_id,
                    project_id,
                    amount,
                )
                if line is None:
                    raise UnknownBudgetLine(f"Budget line {line_id} not found in this project")
                row = await conn.fetchrow(
                    f"""INSERT INTO production_expenses
                            (project_id, budget_line_id, kind, amount, note, spent_at, created_by)
                        VALUES ($1, $2, 'expense', $3, $4, coalesce($5, now()), $6)
                        RETURNING {_EXPENSE}""",
                    project_id,
                    line_id,
                    amount,
                    note,
                    spent_at,
                    user_id,
                )
                assert row is not None
                return _expense(row), _line(line)
        except asyncpg.NumericValueOutOfRangeError:
            raise InvalidProjectData("The line's total spend would be too large") from None

    # -- the production portal's views ---------------------------------------------------

    async def following(self, company_id: int, *, limit: int, offset: int) -> tuple[list[FollowedPitch], int]:
        """Published pitches of the users this company follows that it may see, newest first."""
        where = """FROM follows f
                   JOIN pitches p ON p.user_id = f.followee_id
                   JOIN users u ON u.id = p.user_id
                   WHERE f.follower_id = $1 AND p.status = 'published'
                     AND (p.visibility IN ('public', 'investors_only')
                          OR EXISTS (SELECT 1 FROM nda_requests n
                                     WHERE n.pitch_id = p.id AND n.requester_id = $1
                                       AND n.status = 'approved'))"""
        async with self.db.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) {where}", company_id)
            rows = await conn.fetch(
                f"""SELECT p.id AS pitch_id, p.title, p.logline, p.genre, p.format, p.visibility,
                           p.require_nda, coalesce(p.published_at, p.created_at) AS published_at,
                           u.id AS user_id, u.username, u.name, u.company_name, u.user_type
                    {where}
                    ORDER BY coalesce(p.published_at, p.created_at) DESC, p.id DESC
                    LIMIT $2 OFFSET $3""",
                company_id,
                limit,
                offset,
            )
        return [FollowedPitch(**dict(r)) for r in rows], int(total)

    async def investment_overview(self, company_id: int) -> InvestmentOverview:
        """Real sums of live investments in the pitches the company's projects are linked to,
        each pitch counted once in the totals, plus the company's own budget totals."""
        async with self.db.acquire() as conn:
            rows = await conn.fetch(
                f"""SELECT pr.id AS project_id, pr.title AS project_title, p.id AS pitch_id,
                           p.title AS pitch_title,
                           coalesce(i.invested, 0) AS invested,
                           coalesce(i.completed, 0) AS completed,
                           coalesce(i.pending, 0) AS pending,
                           coalesce(i.investments, 0) AS investments,
                           coalesce(i.investors, 0) AS investors
                    FROM production_projects pr
                    JOIN pitches p ON p.id = pr.pitch_id
                    LEFT JOIN LATERAL (
                        SELECT sum(amount) AS invested,
                               sum(amount) FILTER (WHERE status = 'completed') AS completed,
                               sum(amount) FILTER (WHERE status = 'pending') AS pending,
                               count(*) AS investments,
                               count(DISTINCT investor_id) AS investors
                        FROM investments WHERE pitch_id = p.id AND {LIVE_INVESTMENT}
                    ) i ON true
                    WHERE pr.company_id = $1 AND {_COMPANY_SEES}
                    ORDER BY pr.id DESC""",
                company_id,
            )
            totals = await conn.fetchrow(
                f"""SELECT coalesce(sum(amount), 0) AS invested,
                           coalesce(sum(amount) FILTER (WHERE status = 'completed'), 0)
                               AS completed,
                           coalesce(sum(amount) FILTER (WHERE status = 'pending'), 0) AS pending,
                           count(*) AS investments,
                           count(DISTINCT investor_id) AS investors,
                           count(DISTINCT pitch_id) AS pitches
                    FROM investments
                    WHERE {LIVE_INVESTMENT} AND pitch_id IN (
                        SELECT pr.pitch_id FROM production_projects pr
                        JOIN pitches p ON p.id = pr.pitch_id
                        WHERE pr.company_id = $1 AND {_COMPANY_SEES})""",
                company_id,
            )
            linked = await conn.fetchval(
                f"""SELECT count(DISTINCT pr.pitch_id) FROM production_projects pr
                    JOIN pitches p ON p.id = pr.pitch_id
                    WHERE pr.company_id = $1 AND {_COMPANY_SEES}""",
                company_id,
            )
            budget = await conn.fetchrow(
                """SELECT count(*) AS projects, coalesce(sum(pr.budget), 0) AS budget,
                          coalesce(sum(l.allocated), 0) AS allocated,
                          coalesce(sum(l.spent), 0) AS spent
                   FROM production_projects pr
                   LEFT JOIN LATERAL (
                       SELECT sum(allocated) AS allocated, sum(spent) AS spent
                       FROM production_budget_lines WHERE project_id = pr.id
                   ) l ON true
                   WHERE pr.company_id = $1""",
                company_id,
            )
        assert totals is not None and budget is not None
        return InvestmentOverview(
            projects=[PitchInvestment(**dict(r)) for r in rows],
            total_invested=totals["invested"],
            total_completed=totals["completed"],
            total_pending=totals["pending"],
            investors=totals["investors"],
            investments=totals["investments"],
            linked_pitches=int(linked),
            project_count=budget["projects"],
            budget=budget["budget"],
            allocated=budget["allocated"],
            spent=budget["spent"],
        )


def _check_message(exc: asyncpg.CheckViolationError) -> str:
    name = getattr(exc, "constraint_name", "") or ""
    if name.endswith("dates_check"):
        return "endDate must not be before startDate"
    return f"Invalid value ({name or 'constraint'})"
