"""Read-only aggregates for the analytics endpoints: dashboards per portal, a pitch's daily views
and likes, a company's production figures and a project's spend over time.

Windows are half-open `[start, end)` in UTC; a dashboard compares `[mid, end)` (the current range)
with `[start, mid)` (the range before it). Days are UTC calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .database import Database
from .production import LIVE_INVESTMENT

Window = tuple[datetime, datetime, datetime]  # start, mid, end


@dataclass(frozen=True, slots=True)
class Pair:
    """One figure in the current range and in the range before it."""

    current: int | Decimal
    previous: int | Decimal


@dataclass(frozen=True, slots=True)
class DailyCounts:
    views: dict[date, int]
    likes: dict[date, int]
    unique_viewers: int


@dataclass(frozen=True, slots=True)
class OverBudgetLine:
    project_id: int
    project_title: str
    line_id: int
    category: str
    allocated: Decimal
    spent: Decimal


@dataclass(frozen=True, slots=True)
class UpcomingMilestone:
    project_id: int
    project_title: str
    milestone_id: int
    title: str
    due_date: date


@dataclass(frozen=True, slots=True)
class ProductionFigures:
    by_stage: dict[str, int]
    budget: Decimal
    allocated: Decimal
    spent: Decimal
    over_budget_lines: list[OverBudgetLine]
    over_budget_projects: int
    milestones_done: int
    milestones_total: int
    milestones_overdue: int
    upcoming: list[UpcomingMilestone]


@dataclass(frozen=True, slots=True)
class SpendPoint:
    day: date
    line_id: int
    amount: Decimal


class AnalyticsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- pitches ---------------------------------------------------------------------------

    async def pitch_daily(self, pitch_id: int, start: datetime, end: datetime) -> DailyCounts:
        """Views and likes of one pitch per UTC day within `[start, end)`.

        Likes are the likes that still stand (an unlike removes its row).
        """
        async with self.db.acquire() as conn:
            views = await conn.fetch(
                """SELECT (viewed_at AT TIME ZONE 'utc')::date AS day, count(*) AS n
                   FROM pitch_views
                   WHERE pitch_id = $1 AND viewed_at >= $2 AND viewed_at < $3
                   GROUP BY 1""",
                pitch_id,
                start,
                end,
            )
            likes = await conn.fetch(
                """SELECT (created_at AT TIME ZONE 'utc')::date AS day, count(*) AS n
                   FROM pitch_likes
                   WHERE pitch_id = $1 AND created_at >= $2 AND created_at < $3
                   GROUP BY 1""",
                pitch_id,
                start,
                end,
            )
            unique = await conn.fetchval(
                """SELECT count(DISTINCT user_id) FROM pitch_views
                   WHERE pitch_id = $1 AND viewed_at >= $2 AND viewed_at < $3""",
                pitch_id,
                start,
                end,
            )
        return DailyCounts(
            {r["day"]: int(r["n"]) for r in views}, {r["day"]: int(r["n"]) for r in likes}, int(unique)
        )

    # -- dashboards ------------------------------------------------------------------------

    async def creator_dashboard(self, user_id: int, w: Window) -> tuple[dict[str, Pair], dict[str, Any]]:
        start, mid, end = w
        async with self.db.acquire() as conn:
            pitches = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE created_at >= $3 AND created_at < $4) AS pitches_cur,
                          count(*) FILTER (WHERE created_at >= $2 AND created_at < $3)
                              AS pitches_prev,
                          count(*) AS total,
                          count(*) FILTER (WHERE status = 'published') AS published,
                          coalesce(sum(view_count), 0)::bigint AS views_all,
                          coalesce(sum(like_count), 0)::bigint AS likes_all
                   FROM pitches WHERE user_id = $1""",
                user_id,
                start,
                mid,
                end,
            )
            views = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE v.viewed_at >= $3) AS views_cur,
                          count(*) FILTER (WHERE v.viewed_at < $3) AS views_prev
                   FROM pitch_views v JOIN pitches p ON p.id = v.pitch_id
                   WHERE p.user_id = $1 AND v.viewed_at >= $2 AND v.viewed_at < $4""",
                user_id,
                start,
                mid,
                end,
            )
            likes = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE l.created_at >= $3) AS likes_cur,
                          count(*) FILTER (WHERE l.created_at < $3) AS likes_prev
                   FROM pitch_likes l JOIN pitches p ON p.id = l.pitch_id
                   WHERE p.user_id = $1 AND l.created_at >= $2 AND l.created_at < $4""",
                user_id,
                start,
                mid,
                end,
            )
            ndas = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE created_at >= $3) AS nda_cur,
                          count(*) FILTER (WHERE created_at < $3) AS nda_prev
                   FROM nda_requests
                   WHERE owner_id = $1 AND created_at >= $2 AND created_at < $4""",
                user_id,
                start,
                mid,
                end,
            )
            invest = await conn.fetchrow(
                f"""SELECT coalesce(sum(i.amount) FILTER (WHERE i.created_at >= $3), 0)
                               AS inv_cur,
                           coalesce(sum(i.amount) FILTER (WHERE i.created_at < $3), 0)
                               AS inv_prev,
                           count(*) FILTER (WHERE i.created_at >= $3) AS cnt_cur,
                           count(*) FILTER (WHERE i.created_at < $3) AS cnt_prev
                    FROM investments i JOIN pitches p ON p.id = i.pitch_id
                    WHERE p.user_id = $1 AND i.{LIVE_INVESTMENT}
                      AND i.created_at >= $2 AND i.created_at < $4""",
                user_id,
                start,
                mid,
                end,
            )
            invested_all = await conn.fetchval(
                f"""SELECT coalesce(sum(i.amount), 0) FROM investments i
                    JOIN pitches p ON p.id = i.pitch_id
                    WHERE p.user_id = $1 AND i.{LIVE_INVESTMENT}""",
                user_id,
            )
        assert pitches and views and likes and ndas and invest
        metrics = {
            "pitches": Pair(pitches["pitches_cur"], pitches["pitches_prev"]),
            "views": Pair(views["views_cur"], views["views_prev"]),
            "likes": Pair(likes["likes_cur"], likes["likes_prev"]),
            "ndaRequests": Pair(ndas["nda_cur"], ndas["nda_prev"]),
            "investmentsReceived": Pair(invest["inv_cur"], invest["inv_prev"]),
            "investmentCount": Pair(invest["cnt_cur"], invest["cnt_prev"]),
        }
        totals = {
            "pitches": pitches["total"],
            "publishedPitches": pitches["published"],
            "views": pitches["views_all"],
            "likes": pitches["likes_all"],
            "investmentsReceived": invested_all,
        }
        return metrics, totals

    async def investor_dashboard(self, user_id: int, w: Window) -> tuple[dict[str, Pair], dict[str, Any]]:
        start, mid, end = w
        async with self.db.acquire() as conn:
            invest = await conn.fetchrow(
                f"""SELECT coalesce(sum(amount) FILTER (WHERE created_at >= $3), 0) AS inv_cur,
                           coalesce(sum(amount) FILTER (WHERE created_at < $3), 0) AS inv_prev,
                           count(*) FILTER (WHERE created_at >= $3) AS cnt_cur,
                           count(*) FILTER (WHERE created_at < $3) AS cnt_prev
                    FROM investments
                    WHERE investor_id = $1 AND {LIVE_INVESTMENT}
                      AND created_at >= $2 AND created_at < $4""",
                user_id,
                start,
                mid,
                end,
            )
            ndas = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE decided_at >= $3) AS nda_cur,
                          count(*) FILTER (WHERE decided_at < $3) AS nda_prev
                   FROM nda_requests
                   WHERE requester_id = $1 AND status IN ('approved', 'expired')
                     AND decided_at >= $2 AND decided_at < $4""",
                user_id,
                start,
                mid,
                end,
            )
            totals = await conn.fetchrow(
                f"""SELECT coalesce(sum(amount), 0) AS invested,
                           count(DISTINCT pitch_id) AS positions,
                           count(*) AS investments
                    FROM investments WHERE investor_id = $1 AND {LIVE_INVESTMENT}""",
                user_id,
            )
            signed = await conn.fetchval(
                # Signed stays signed when its term ends (an expired NDA was approved).
                """SELECT count(*) FROM nda_requests
                   WHERE requester_id = $1 AND status IN ('approved', 'expired')""",
                user_id,
            )
        assert invest and ndas and totals
        metrics = {
            "invested": Pair(invest["inv_cur"], invest["inv_prev"]),
            "investments": Pair(invest["cnt_cur"], invest["cnt_prev"]),
            "ndasSigned": Pair(ndas["nda_cur"], ndas["nda_prev"]),
        }
        return metrics, {
            "invested": totals["invested"],
            "positions": totals["positions"],
            "investments": totals["investments"],
            "ndasSigned": signed,
        }

    async def production_dashboard(self, user_id: int, w: Window) -> tuple[dict[str, Pair], dict[str, Any]]:
        start, mid, end = w
        async with self.db.acquire() as conn:
            projects = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE created_at >= $3 AND created_at < $4) AS cur,
                          count(*) FILTER (WHERE created_at >= $2 AND created_at < $3) AS prev,
                          count(*) AS total,
                          count(*) FILTER (WHERE stage <> 'completed') AS active
                   FROM production_projects WHERE company_id = $1""",
                user_id,
                start,
                mid,
                end,
            )
            spend = await conn.fetchrow(
                """SELECT coalesce(sum(e.amount) FILTER (WHERE e.spent_at >= $3), 0) AS cur,
                          coalesce(sum(e.amount) FILTER (WHERE e.spent_at < $3), 0) AS prev
                   FROM production_expenses e
                   JOIN production_projects pr ON pr.id = e.project_id
                   WHERE pr.company_id = $1 AND e.spent_at >= $2 AND e.spent_at < $4""",
                user_id,
                start,
                mid,
                end,
            )
            invest = await conn.fetchrow(
                f"""SELECT coalesce(sum(amount) FILTER (WHERE created_at >= $3), 0) AS cur,
                           coalesce(sum(amount) FILTER (WHERE created_at < $3), 0) AS prev
                    FROM investments
                    WHERE {LIVE_INVESTMENT} AND created_at >= $2 AND created_at < $4
                      AND pitch_id IN (SELECT pitch_id FROM production_projects
                                       WHERE company_id = $1 AND pitch_id IS NOT NULL)""",
                user_id,
                start,
                mid,
                end,
            )
            totals = await conn.fetchrow(
                f"""SELECT
                      (SELECT coalesce(sum(l.spent), 0) FROM production_budget_lines l
                       JOIN production_projects pr ON pr.id = l.project_id
                       WHERE pr.company_id = $1) AS spent,
                      (SELECT coalesce(sum(budget), 0) FROM production_projects
                       WHERE company_id = $1) AS budget,
                      (SELECT coalesce(sum(amount), 0) FROM investments
                       WHERE {LIVE_INVESTMENT} AND pitch_id IN (
                           SELECT pitch_id FROM production_projects
                           WHERE company_id = $1 AND pitch_id IS NOT NULL)) AS invested""",
                user_id,
            )
        assert projects and spend and invest and totals
        metrics = {
            "projects": Pair(projects["cur"], projects["prev"]),
            "spend": Pair(spend["cur"], spend["prev"]),
            "investedInPitches": Pair(invest["cur"], invest["prev"]),
        }
        return metrics, {
            "projects": projects["total"],
            "activeProjects": projects["active"],
            "budget": totals["budget"],
            "spent": totals["spent"],
            "investedInPitches": totals["invested"],
        }

    # -- production ------------------------------------------------------------------------

    async def production_figures(
        self, company_id: int, today: date, upcoming_limit: int = 10
    ) -> ProductionFigures:
        async with self.db.acquire() as conn:
            stages = await conn.fetch(
                """SELECT stage, count(*) AS n FROM production_projects
                   WHERE company_id = $1 GROUP BY stage""",
                company_id,
            )
            budget = await conn.fetchrow(
                """SELECT coalesce(sum(pr.budget), 0) AS budget,
                          coalesce(sum(l.allocated), 0) AS allocated,
                          coalesce(sum(l.spent), 0) AS spent,
                          count(*) FILTER (WHERE coalesce(l.spent, 0) > pr.budget) AS over
                   FROM production_projects pr
                   LEFT JOIN LATERAL (
                       SELECT sum(allocated) AS allocated, sum(spent) AS spent
                       FROM production_budget_lines WHERE project_id = pr.id
                   ) l ON true
                   WHERE pr.company_id = $1""",
                company_id,
            )
            over = await conn.fetch(
                """SELECT pr.id AS project_id, pr.title AS project_title, l.id AS line_id,
                          l.category, l.allocated, l.spent
                   FROM production_budget_lines l
                   JOIN production_projects pr ON pr.id = l.project_id
                   WHERE pr.company_id = $1 AND l.spent > l.allocated
                   ORDER BY (l.spent - l.allocated) DESC, l.id""",
                company_id,
            )
            ms = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE m.done) AS done, count(*) AS total,
                          count(*) FILTER (WHERE NOT m.done AND m.due_date < $2) AS overdue
                   FROM production_milestones m
                   JOIN production_projects pr ON pr.id = m.project_id
                   WHERE pr.company_id = $1""",
                company_id,
                today,
            )
            upcoming = await conn.fetch(
                """SELECT pr.id AS project_id, pr.title AS project_title,
                          m.id AS milestone_id, m.title, m.due_date
                   FROM production_milestones m
                   JOIN production_projects pr ON pr.id = m.project_id
                   WHERE pr.company_id = $1 AND NOT m.done AND m.due_date >= $2
                   ORDER BY m.due_date, m.id LIMIT $3""",
                company_id,
                today,
                upcoming_limit,
            )
        assert budget is not None and ms is not None
        return ProductionFigures(
            by_stage={r["stage"]: int(r["n"]) for r in stages},
            budget=budget["budget"],
            allocated=budget["allocated"],
            spent=budget["spent"],
            over_budget_lines=[OverBudgetLine(**dict(r)) for r in over],
            over_budget_projects=int(budget["over"]),
            milestones_done=int(ms["done"]),
            milestones_total=int(ms["total"]),
            milestones_overdue=int(ms["overdue"]),
            upcoming=[UpcomingMilestone(**dict(r)) for r in upcoming],
        )

    async def project_spend(self, project_id: int) -> list[SpendPoint]:
        """Net spend per budget line per UTC day (expenses and adjustments), oldest day first."""
        rows = await self.db.fetch(
            """SELECT (spent_at AT TIME ZONE 'utc')::date AS day, budget_line_id AS line_id,
                      sum(amount) AS amount
               FROM production_expenses WHERE project_id = $1
               GROUP BY 1, 2 ORDER BY 1, 2""",
            project_id,
        )
        return [SpendPoint(**dict(r)) for r in rows]

    async def owned_pitches(self, user_id: int, limit: int = 200) -> list[tuple[int, str]]:
        """(id, title) of a user's most recent pitches, for live room figures."""
        rows = await self.db.fetch(
            "SELECT id, title FROM pitches WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            user_id,
            limit,
        )
        return [(r["id"], r["title"]) for r in rows]
