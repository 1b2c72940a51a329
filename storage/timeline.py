"""A project's timeline (phases with finish-to-start dependencies), and archiving or deleting a
project.

Writing a timeline is one rule, `schedule`, kept pure so it is tested without a database: phases
sent with new dates are "moved"; a phase that depends on a moved one moves by the same number of
days as its predecessor's end (so moving shooting a week later moves post and distribution a
week later); a phase that would then start before a predecessor ends is pushed after it, and a
moved phase that does is refused. Dependencies must form no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import asyncpg

from .database import Database
from .production import ProductionError

PHASES = ("development", "pre_production", "shooting", "post", "distribution")


class TimelineError(ProductionError):
    """A timeline that cannot be: a cycle, an unknown dependency, a moved phase overlapping."""


class ProjectNotDeletable(ProductionError):
    """The project still has bookings or expenses and is not archived."""


@dataclass(frozen=True, slots=True)
class Phase:
    phase: str
    start_date: date
    end_date: date
    depends_on: tuple[str, ...] = ()
    done: bool = False


@dataclass(frozen=True, slots=True)
class TimelineMilestone:
    id: int
    title: str
    due_date: date | None
    done: bool


@dataclass(frozen=True, slots=True)
class Timeline:
    project_id: int
    title: str
    archived_at: datetime | None
    phases: list[Phase]
    milestones: list[TimelineMilestone]


def _order(phases: dict[str, Phase]) -> list[str]:
    """Topological order (predecessors first); a cycle raises naming its phases."""
    indegree = {p: 0 for p in phases}
    for ph in phases.values():
        for dep in ph.depends_on:
            if dep not in phases:
                raise TimelineError(f"{ph.phase} depends on {dep}, which is not on the timeline")
            if dep == ph.phase:
                raise TimelineError(f"{ph.phase} cannot depend on itself")
            indegree[ph.phase] += 1
    ready = [p for p in PHASES if p in phases and indegree[p] == 0]
    out: list[str] = []
    while ready:
        p = ready.pop(0)
        out.append(p)
        for other in PHASES:
            if other in phases and p in phases[other].depends_on:
                indegree[other] -= 1
                if indegree[other] == 0:
                    ready.append(other)
    if len(out) != len(phases):
        stuck = [p for p in PHASES if p in phases and p not in out]
        raise TimelineError(f"Dependencies form a cycle: {', '.join(stuck)}")
    return out


def schedule(old: dict[str, Phase], sent: list[Phase], removed: list[str]) -> dict[str, Phase]:
    """The timeline after a write (see the module's docstring)."""
    merged = dict(old)
    for p in removed:
        merged.pop(p, None)
    for ph in sent:
        merged[ph.phase] = ph
    sent_names = {ph.phase for ph in sent}
    for ph in list(merged.values()):
        if ph.phase in sent_names:
            continue  # a phase sent naming a removed one is refused below, not quietly changed
        kept = tuple(d for d in ph.depends_on if d not in removed)
        if kept != ph.depends_on:
            merged[ph.phase] = replace(ph, depends_on=kept)
    order = _order(merged)
    moved = {
        ph.phase
        for ph in sent
        if ph.phase not in old
        or (old[ph.phase].start_date, old[ph.phase].end_date) != (ph.start_date, ph.end_date)
    }
    shift: dict[str, timedelta] = {}
    for name in order:
        ph = merged[name]
        if name in moved:
            before = old.get(name)
            shift[name] = ph.end_date - before.end_date if before else timedelta(0)
            continue
        deltas = [shift[d] for d in ph.depends_on if shift.get(d)]
        delta = max(deltas) if deltas else timedelta(0)
        if delta:
            ph = replace(ph, start_date=ph.start_date + delta, end_date=ph.end_date + delta)
        shift[name] = delta
        merged[name] = ph
    # Finish-to-start: nothing starts before every predecessor has ended.
    for name in order:
        ph = merged[name]
        if not ph.depends_on:
            continue
        earliest = max(merged[d].end_date for d in ph.depends_on) + timedelta(days=1)
        if ph.start_date < earliest:
            if name in moved:
                late = max(ph.depends_on, key=lambda d: merged[d].end_date)
                raise TimelineError(f"{name} starts on {ph.start_date}, before {late} ends")
            push = earliest - ph.start_date
            merged[name] = replace(ph, start_date=ph.start_date + push, end_date=ph.end_date + push)
    return {name: merged[name] for name in order}


class TimelineStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, project_id: int) -> Timeline | None:
        async with self.db.acquire() as conn:
            project = await conn.fetchrow(
                "SELECT title, archived_at FROM production_projects WHERE id = $1", project_id
            )
            if project is None:
                return None
            rows = await conn.fetch(
                """SELECT phase, start_date, end_date, depends_on, done
                   FROM production_timeline_phases WHERE project_id = $1""",
                project_id,
            )
            phases = {r["phase"]: _phase(r) for r in rows}
            milestones = await conn.fetch(
                """SELECT id, title, due_date, done FROM production_milestones
                   WHERE project_id = $1 ORDER BY due_date NULLS LAST, id""",
                project_id,
            )
            return Timeline(
                project_id,
                project["title"],
                project["archived_at"],
                [phases[p] for p in PHASES if p in phases],
                [TimelineMilestone(**dict(m)) for m in milestones],
            )

    async def write(self, project_id: int, sent: list[Phase], removed: list[str]) -> Timeline | None:
        """Apply `schedule` and store the result, the project row locked so two writers queue."""
        async with self.db.transaction() as conn:
            locked = await conn.fetchval(
                "SELECT true FROM production_projects WHERE id = $1 FOR UPDATE", project_id
            )
            if not locked:
                return None
            rows = await conn.fetch(
                """SELECT phase, start_date, end_date, depends_on, done
                   FROM production_timeline_phases WHERE project_id = $1""",
                project_id,
            )
            result = schedule({r["phase"]: _phase(r) for r in rows}, sent, removed)
            await conn.execute("DELETE FROM production_timeline_phases WHERE project_id = $1", project_id)
            await conn.executemany(
                """INSERT INTO production_timeline_phases
                       (project_id, phase, start_date, end_date, depends_on, done)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                [
                    (project_id, p.phase, p.start_date, p.end_date, list(p.depends_on), p.done)
                    for p in result.values()
                ],
            )
        return await self.get(project_id)

    async def overdue(self, company_id: int, today: date) -> list[tuple[int, str, str, date]]:
        """(project id, project title, phase, end date) of open phases that ended before today."""
        rows = await self.db.fetch(
            """SELECT p.id, p.title, t.phase, t.end_date
               FROM production_timeline_phases t JOIN production_projects p ON p.id = t.project_id
               WHERE p.company_id = $1 AND NOT t.done AND t.end_date < $2
                 AND p.archived_at IS NULL
               ORDER BY t.end_date, p.id""",
            company_id,
            today,
        )
        return [(r["id"], r["title"], r["phase"], r["end_date"]) for r in rows]

    # -- archive and delete ----------------------------------------------------------------

    async def archive(self, project_id: int, archived: bool) -> datetime | None:
        """Set or clear the project's archive mark; the mark (None when cleared)."""
        stamp: datetime | None = await self.db.fetchval(
            """UPDATE production_projects
               SET archived_at = CASE WHEN $2 THEN coalesce(archived_at, now()) END, updated_at = now()
               WHERE id = $1 RETURNING archived_at""",
            project_id,
            archived,
        )
        return stamp

    async def archived_at(self, project_id: int) -> datetime | None:
        stamp: datetime | None = await self.db.fetchval(
            "SELECT archived_at FROM production_projects WHERE id = $1", project_id
        )
        return stamp

    async def delete(self, project_id: int) -> bool:
        """Delete the project (its lines, expenses, bookings, phases go with it). Refused while it
        has bookings or expenses and is not archived; the refusal names what it has."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                """SELECT archived_at,
                          (SELECT count(*) FROM production_allocations WHERE project_id = p.id) AS bookings,
                          (SELECT count(*) FROM production_expenses WHERE project_id = p.id) AS expenses
                   FROM production_projects p WHERE id = $1 FOR UPDATE""",
                project_id,
            )
            if row is None:
                return False
            if row["archived_at"] is None and (row["bookings"] or row["expenses"]):
                has = []
                if row["bookings"]:
                    has.append(f"{row['bookings']} resource booking(s)")
                if row["expenses"]:
                    has.append(f"{row['expenses']} expense(s)")
                raise ProjectNotDeletable(
                    f"The project has {' and '.join(has)}; archive it first, then delete it"
                )
            await conn.execute("DELETE FROM production_projects WHERE id = $1", project_id)
            return True


def _phase(r: asyncpg.Record) -> Phase:
    return Phase(r["phase"], r["start_date"], r["end_date"], tuple(r["depends_on"]), r["done"])
