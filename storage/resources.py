"""A production company's resources (crew, equipment, locations) and their bookings.

A booking (allocation) holds a resource for a project over inclusive dates. Double booking is
refused by the database's exclusion constraint (migration 0009), so concurrent requests cannot
both win. A booking's cost is added to the project's budget line of the resource's kind (created
when missing) in the same transaction, and taken off when the booking is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from .database import Database
from .production import ProductionError

KINDS = ("crew", "equipment", "location")
# The budget line each kind's bookings are costed to.
LINE_FOR_KIND = {"crew": "Crew", "equipment": "Equipment", "location": "Locations"}


class ResourceError(ProductionError):
    """A refused resource write; `message` is safe to show."""


class DoubleBooking(ResourceError):
    """The resource is already booked on some of those days."""


class ResourceInUse(ResourceError):
    """The resource has bookings (delete or change of kind refused)."""


class ProjectUnavailable(ResourceError):
    """The project is not the resource's company's, or it is archived."""


class _Clashed(Exception):
    """Internal: the insert hit the exclusion constraint (rolls the transaction back)."""


@dataclass(frozen=True, slots=True)
class Allocation:
    id: int
    resource_id: int
    project_id: int
    project_title: str
    start_date: date
    end_date: date
    days: int
    cost: Decimal
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Resource:
    id: int
    company_id: int
    kind: str
    name: str
    cost_per_day: Decimal
    notes: str | None
    created_at: datetime
    updated_at: datetime
    allocations: list[Allocation] = field(default_factory=list)


_RESOURCE = "id, company_id, kind, name, cost_per_day, notes, created_at, updated_at"
_ALLOCATION = """a.id, a.resource_id, a.project_id, p.title AS project_title, a.start_date,
                 a.end_date, (a.end_date - a.start_date + 1) AS days, a.cost, a.created_at"""


def _allocation(row: asyncpg.Record) -> Allocation:
    return Allocation(**dict(row))


class ResourceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _with_allocations(self, conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[Resource]:
        ids = [r["id"] for r in rows]
        by_resource: dict[int, list[Allocation]] = {i: [] for i in ids}
        if ids:
            for r in await conn.fetch(
                f"""SELECT {_ALLOCATION} FROM production_allocations a
                    JOIN production_projects p ON p.id = a.project_id
                    WHERE a.resource_id = ANY($1::bigint[]) ORDER BY a.start_date, a.id""",
                ids,
            ):
                by_resource[r["resource_id"]].append(_allocation(r))
        return [Resource(**dict(r), allocations=by_resource[r["id"]]) for r in rows]

    async def list(self, company_id: int, kind: str | None = None) -> list[Resource]:
        async with self.db.acquire() as conn:
            rows = await conn.fetch(
                f"""SELECT {_RESOURCE} FROM production_resources
                    WHERE company_id = $1 AND ($2::text IS NULL OR kind = $2)
                    ORDER BY kind, lower(name), id""",
                company_id,
                kind,
            )
            return await self._with_allocations(conn, list(rows))

    async def get(self, company_id: int, resource_id: int) -> Resource | None:
        async with self.db.acquire() as conn:
            return await self._get(conn, company_id, resource_id)

    async def _get(self, conn: asyncpg.Connection, company_id: int, resource_id: int) -> Resource | None:
        row = await conn.fetchrow(
            f"SELECT {_RESOURCE} FROM production_resources WHERE id = $1 AND company_id = $2",
            resource_id,
            company_id,
        )
        return (await self._with_allocations(conn, [row]))[0] if row else None

    async def company_of(self, resource_id: int) -> int | None:
        found: int | None = await self.db.fetchval(
            "SELECT company_id FROM production_resources WHERE id = $1", resource_id
        )
        return found

    async def create(
        self, company_id: int, kind: str, name: str, cost_per_day: Decimal, notes: str | None
    ) -> Resource:
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"""INSERT INTO production_resources (company_id, kind, name, cost_per_day, notes)
                    VALUES ($1, $2, $3, $4, $5) RETURNING {_RESOURCE}""",
                company_id,
                kind,
                name,
                cost_per_day,
                notes,
            )
            assert row is not None
            return Resource(**dict(row))

    async def update(self, company_id: int, resource_id: int, values: dict[str, Any]) -> Resource | None:
        """Change the fields given. The kind of a booked resource stays (its bookings are costed
        to that kind's budget line); a new cost per day applies to later bookings only."""
        async with self.db.transaction() as conn:
            current = await conn.fetchrow(
                f"""SELECT {_RESOURCE} FROM production_resources
                    WHERE id = $1 AND company_id = $2 FOR UPDATE""",
                resource_id,
                company_id,
            )
            if current is None:
                return None
            merged = dict(current) | values
            if merged["kind"] != current["kind"]:
                booked = await conn.fetchval(
                    "SELECT count(*) FROM production_allocations WHERE resource_id = $1", resource_id
                )
                if booked:
                    raise ResourceInUse(
                        f"The resource has {booked} booking(s); remove them before changing its kind"
                    )
            await conn.execute(
                """UPDATE production_resources
                   SET kind = $2, name = $3, cost_per_day = $4, notes = $5, updated_at = now()
                   WHERE id = $1""",
                resource_id,
                merged["kind"],
                merged["name"],
                merged["cost_per_day"],
                merged["notes"],
            )
            return await self._get(conn, company_id, resource_id)

    async def delete(self, company_id: int, resource_id: int) -> bool:
        async with self.db.transaction() as conn:
            found = await conn.fetchval(
                "SELECT true FROM production_resources WHERE id = $1 AND company_id = $2 FOR UPDATE",
                resource_id,
                company_id,
            )
            if not found:
                return False
            booked = await conn.fetchval(
                "SELECT count(*) FROM production_allocations WHERE resource_id = $1", resource_id
            )
            if booked:
                raise ResourceInUse(f"The resource has {booked} booking(s); remove them first")
            await conn.execute("DELETE FROM production_resources WHERE id = $1", resource_id)
            return True

    # -- bookings --------------------------------------------------------------------------

    async def allocate(
        self,
        company_id: int,
        resource_id: int,
        project_id: int,
        start: date,
        end: date,
        user_id: int,
    ) -> Allocation | None:
        """Book the resource; None if it is not the company's. The cost lands on the project's
        budget line of the resource's kind in the same transaction."""
        try:
            async with self.db.transaction() as conn:
                res = await conn.fetchrow(
                    "SELECT kind, cost_per_day FROM production_resources WHERE id = $1 AND company_id = $2",
                    resource_id,
                    company_id,
                )
                if res is None:
                    return None
                project = await conn.fetchrow(
                    "SELECT archived_at FROM production_projects WHERE id = $1 AND company_id = $2",
                    project_id,
                    company_id,
                )
                if project is None:
                    raise ProjectUnavailable("projectId: not one of this company's projects")
                if project["archived_at"] is not None:
                    raise ProjectUnavailable("The project is archived; it takes no new bookings")
                days = (end - start).days + 1
                cost = res["cost_per_day"] * days
                try:
                    allocation_id = await conn.fetchval(
                        """INSERT INTO production_allocations
                               (resource_id, project_id, start_date, end_date, cost, created_by)
                           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
                        resource_id,
                        project_id,
                        start,
                        end,
                        cost,
                        user_id,
                    )
                except asyncpg.ExclusionViolationError:
                    # Described once this transaction has let its connection go: asking for a
                    # second one while holding the first could starve a busy pool.
                    raise _Clashed() from None
                await conn.execute(
                    """INSERT INTO production_budget_lines (project_id, category, allocated)
                       VALUES ($1, $2, $3)
                       ON CONFLICT (project_id, lower(category))
                       DO UPDATE SET allocated = production_budget_lines.allocated + EXCLUDED.allocated""",
                    project_id,
                    LINE_FOR_KIND[res["kind"]],
                    cost,
                )
                row = await conn.fetchrow(
                    f"""SELECT {_ALLOCATION} FROM production_allocations a
                        JOIN production_projects p ON p.id = a.project_id WHERE a.id = $1""",
                    allocation_id,
                )
                assert row is not None
                return _allocation(row)
        except _Clashed:
            raise DoubleBooking(await self._clash(resource_id, start, end)) from None
        except asyncpg.NumericValueOutOfRangeError:
            raise ResourceError("The booking's cost is too large") from None

    async def _clash(self, resource_id: int, start: date, end: date) -> str:
        """Words for a refused booking, read after the refusal (outside its failed transaction)."""
        row = await self.db.fetchrow(
            """SELECT a.start_date, a.end_date, p.title FROM production_allocations a
               JOIN production_projects p ON p.id = a.project_id
               WHERE a.resource_id = $1
                 AND daterange(a.start_date, a.end_date, '[]') && daterange($2::date, $3::date, '[]')
               ORDER BY a.start_date LIMIT 1""",
            resource_id,
            start,
            end,
        )
        if row is None:
            return "The resource is already booked on some of those days"
        return (
            f"The resource is already booked from {row['start_date']} to {row['end_date']} for {row['title']}"
        )

    async def unallocate(self, company_id: int, resource_id: int, allocation_id: int) -> int | None:
        """Remove a booking and take its cost off the budget line it was added to; the booking's
        project id, or None if there was no such booking of the company's resource."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                """DELETE FROM production_allocations a USING production_resources r
                   WHERE a.id = $1 AND a.resource_id = $2 AND r.id = a.resource_id
                     AND r.company_id = $3
                   RETURNING a.project_id, a.cost, r.kind""",
                allocation_id,
                resource_id,
                company_id,
            )
            if row is None:
                return None
            await conn.execute(
                """UPDATE production_budget_lines SET allocated = greatest(allocated - $3, 0)
                   WHERE project_id = $1 AND lower(category) = lower($2)""",
                row["project_id"],
                LINE_FOR_KIND[row["kind"]],
                row["cost"],
            )
            project_id: int = row["project_id"]
            return project_id
