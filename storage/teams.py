"""Production teams: who works for which company, in which role, and the access that follows.

A company is a production account; its team members are other production accounts. Access to a
company's things (projects, resources, timelines) is resolved here on every request, from the
rows as they are now, so a removed member's very next request is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database
from .production import ProductionError

ROLES = ("producer", "coordinator", "finance", "viewer")


class TeamError(ProductionError):
    """A refused team write; `message` is safe to show."""


class UnknownInvitee(TeamError):
    """No production account has that email."""


class AlreadyMember(TeamError):
    """The account is already on the team (or invited)."""


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    company_id: int
    user_id: int
    role: str
    status: str
    email: str
    name: str | None
    username: str | None
    company_name: str | None
    created_at: datetime
    responded_at: datetime | None


@dataclass(frozen=True, slots=True)
class Membership:
    """One team the caller is on or invited to, seen from the member's side."""

    id: int
    company_id: int
    company_name: str | None
    company_username: str | None
    role: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Access:
    """The caller's standing in a company: `owner` or a team role."""

    company_id: int
    role: str


@dataclass(frozen=True, slots=True)
class TeamProject:
    id: int
    company_id: int
    company_name: str | None
    role: str
    title: str
    stage: str
    archived_at: datetime | None


_MEMBER = """m.id, m.company_id, m.user_id, m.role, m.status, u.email, u.name, u.username,
             u.company_name, m.created_at, m.responded_at"""


class TeamStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- access ----------------------------------------------------------------------------

    async def company_access(self, user_id: int, company_id: int) -> Access | None:
        if user_id == company_id:
            owner = await self.db.fetchval(
                "SELECT true FROM users WHERE id = $1 AND user_type = 'production'", user_id
            )
            return Access(company_id, "owner") if owner else None
        role = await self.db.fetchval(
            """SELECT role FROM production_team_members
               WHERE company_id = $1 AND user_id = $2 AND status = 'active'""",
            company_id,
            user_id,
        )
        return Access(company_id, role) if role else None

    async def project_access(self, user_id: int, project_id: int) -> Access | None:
        """The caller's standing in the company owning the project; None if they have none (or
        the project does not exist: the caller cannot tell the two apart)."""
        row = await self.db.fetchrow(
            """SELECT p.company_id,
                      CASE WHEN p.company_id = $1 THEN 'owner' ELSE m.role END AS role
               FROM production_projects p
               LEFT JOIN production_team_members m
                 ON m.company_id = p.company_id AND m.user_id = $1 AND m.status = 'active'
               WHERE p.id = $2 AND (p.company_id = $1 OR m.user_id IS NOT NULL)""",
            user_id,
            project_id,
        )
        return Access(row["company_id"], row["role"]) if row else None

    async def label(self, user_id: int) -> str:
        """How a company (or person) is named in notifications."""
        row = await self.db.fetchrow("SELECT company_name, name, username FROM users WHERE id = $1", user_id)
        if row is None:
            return f"Company {user_id}"
        return str(row["company_name"] or row["name"] or row["username"] or f"Company {user_id}")

    async def team_projects(self, user_id: int, limit: int = 500) -> list[TeamProject]:
        """Projects of the companies whose team the user is an active member of, newest first."""
        rows = await self.db.fetch(
            """SELECT p.id, p.company_id, c.company_name, m.role, p.title, p.stage, p.archived_at
               FROM production_team_members m
               JOIN production_projects p ON p.company_id = m.company_id
               JOIN users c ON c.id = m.company_id
               WHERE m.user_id = $1 AND m.status = 'active'
               ORDER BY p.id DESC LIMIT $2""",
            user_id,
            limit,
        )
        return [TeamProject(**dict(r)) for r in rows]

    async def project_ids(self, company_id: int) -> list[int]:
        rows = await self.db.fetch("SELECT id FROM production_projects WHERE company_id = $1", company_id)
        return [r["id"] for r in rows]

    async def companies_of(self, user_id: int) -> list[Access]:
        """The companies whose team the user is an active member of."""
        rows = await self.db.fetch(
            """SELECT company_id, role FROM production_team_members
               WHERE user_id = $1 AND status = 'active' ORDER BY company_id""",
            user_id,
        )
        return [Access(r["company_id"], r["role"]) for r in rows]

    # -- the company's side ----------------------------------------------------------------

    async def members(self, company_id: int) -> list[Member]:
        rows = await self.db.fetch(
            f"""SELECT {_MEMBER} FROM production_team_members m JOIN users u ON u.id = m.user_id
                WHERE m.company_id = $1 ORDER BY m.status, m.id""",
            company_id,
        )
        return [Member(**dict(r)) for r in rows]

    async def member(self, company_id: int, member_id: int) -> Member | None:
        row = await self.db.fetchrow(
            f"""SELECT {_MEMBER} FROM production_team_members m JOIN users u ON u.id = m.user_id
                WHERE m.company_id = $1 AND m.id = $2""",
            company_id,
            member_id,
        )
        return Member(**dict(row)) if row else None

    async def invite(self, company_id: int, email: str, role: str, invited_by: int) -> Member:
        """A pending membership for the production account with that email."""
        async with self.db.transaction() as conn:
            user_id = await conn.fetchval(
                "SELECT id FROM users WHERE email = $1 AND user_type = 'production'",
                email.strip().lower(),
            )
            if user_id is None:
                raise UnknownInvitee(f"No production account uses {email}")
            if user_id == company_id:
                raise AlreadyMember("You own this team")
            try:
                member_id = await conn.fetchval(
                    """INSERT INTO production_team_members (company_id, user_id, role, invited_by)
                       VALUES ($1, $2, $3, $4) RETURNING id""",
                    company_id,
                    user_id,
                    role,
                    invited_by,
                )
            except asyncpg.UniqueViolationError:
                raise AlreadyMember(f"{email} is already on the team or invited") from None
            row = await conn.fetchrow(
                f"""SELECT {_MEMBER} FROM production_team_members m JOIN users u ON u.id = m.user_id
                    WHERE m.id = $1""",
                member_id,
            )
            assert row is not None
            return Member(**dict(row))

    async def set_role(self, company_id: int, member_id: int, role: str) -> Member | None:
        done = await self.db.fetchval(
            """UPDATE production_team_members SET role = $3
               WHERE company_id = $1 AND id = $2 RETURNING id""",
            company_id,
            member_id,
            role,
        )
        return await self.member(company_id, member_id) if done else None

    async def remove(self, company_id: int, member_id: int) -> Member | None:
        """Remove a member or withdraw an invitation; the removed row, or None."""
        found = await self.member(company_id, member_id)
        if found is None:
            return None
        await self.db.execute(
            "DELETE FROM production_team_members WHERE company_id = $1 AND id = $2", company_id, member_id
        )
        return found

    # -- the member's side -----------------------------------------------------------------

    async def memberships(self, user_id: int) -> list[Membership]:
        rows = await self.db.fetch(
            """SELECT m.id, m.company_id, c.company_name, c.username AS company_username, m.role,
                      m.status, m.created_at
               FROM production_team_members m JOIN users c ON c.id = m.company_id
               WHERE m.user_id = $1 ORDER BY m.status DESC, m.id""",
            user_id,
        )
        return [Membership(**dict(r)) for r in rows]

    async def respond(self, user_id: int, member_id: int, accept: bool) -> Membership | None:
        """Accept (active) or decline (the invitation goes) a pending invitation addressed to
        this user; None when there is no such pending invitation."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                """SELECT id FROM production_team_members
                   WHERE id = $1 AND user_id = $2 AND status = 'pending' FOR UPDATE""",
                member_id,
                user_id,
            )
            if row is None:
                return None
            if accept:
                await conn.execute(
                    """UPDATE production_team_members SET status = 'active', responded_at = now()
                       WHERE id = $1""",
                    member_id,
                )
            out = await conn.fetchrow(
                """SELECT m.id, m.company_id, c.company_name, c.username AS company_username,
                          m.role, CASE WHEN $2 THEN m.status ELSE 'declined' END AS status,
                          m.created_at
                   FROM production_team_members m JOIN users c ON c.id = m.company_id
                   WHERE m.id = $1""",
                member_id,
                accept,
            )
            assert out is not None
            if not accept:
                await conn.execute("DELETE FROM production_team_members WHERE id = $1", member_id)
            return Membership(**dict(out))
