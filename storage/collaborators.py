"""Collaborators of a pitch: who its owner invited to edit or read its documents.

Read afresh on every document update (storage/documents.py checks the role in the statement that
stores the update), so a removal or a demotion holds at the very next update.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass
from datetime import datetime

import asyncpg

from .database import Database

ROLES = ("editor", "viewer")

_COLUMNS = """c.pitch_id, c.user_id, c.role, c.status, c.invited_by, c.invited_at, c.responded_at,
              COALESCE(u.name, u.username, split_part(u.email, '@', 1)) AS name, u.user_type"""


@dataclass(frozen=True, slots=True)
class Collaborator:
    pitch_id: int
    user_id: int
    name: str
    user_type: str
    role: str
    status: str
    invited_by: int | None
    invited_at: datetime
    responded_at: datetime | None


@dataclass(frozen=True, slots=True)
class Collaboration(Collaborator):
    """One collaboration seen from the collaborator's side: with its pitch's title."""

    pitch_title: str


def _row(row: asyncpg.Record) -> Collaborator:
    return Collaborator(
        pitch_id=row["pitch_id"],
        user_id=row["user_id"],
        name=row["name"],
        user_type=row["user_type"],
        role=row["role"],
        status=row["status"],
        invited_by=row["invited_by"],
        invited_at=row["invited_at"],
        responded_at=row["responded_at"],
    )


class CollaboratorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def invite(
        self, pitch_id: int, user_id: int, role: str, invited_by: int
    ) -> tuple[Collaborator, bool]:
        """Invite, or change the role of an existing collaborator (an accepted one stays accepted,
        a declined one is invited again). Answers the row and whether the invitation is new or
        renewed (the invitee is to be told)."""
        row = await self.db.fetchrow(
            f"""WITH prior AS (
                    SELECT status FROM pitch_collaborators WHERE pitch_id = $1 AND user_id = $2
                ), up AS (
                    INSERT INTO pitch_collaborators (pitch_id, user_id, role, invited_by)
                    VALUES ($1, $2, $3, $4)
                    ON CONFLICT (pitch_id, user_id) DO UPDATE SET
                        role = EXCLUDED.role,
                        status = CASE WHEN pitch_collaborators.status = 'accepted'
                                      THEN 'accepted' ELSE 'pending' END,
                        invited_by = EXCLUDED.invited_by,
                        invited_at = CASE WHEN pitch_collaborators.status = 'accepted'
                                          THEN pitch_collaborators.invited_at ELSE now() END,
                        responded_at = CASE WHEN pitch_collaborators.status = 'accepted'
                                            THEN pitch_collaborators.responded_at END
                    RETURNING *
                )
                SELECT {_COLUMNS}, (SELECT status FROM prior) AS prior_status
                FROM up c JOIN users u ON u.id = c.user_id""",
            pitch_id,
            user_id,
            role,
            invited_by,
        )
        assert row is not None
        return _row(row), row["prior_status"] != "accepted"

    async def get(self, pitch_id: int, user_id: int) -> Collaborator | None:
        row = await self.db.fetchrow(
            f"""SELECT {_COLUMNS} FROM pitch_collaborators c JOIN users u ON u.id = c.user_id
                WHERE c.pitch_id = $1 AND c.user_id = $2""",
            pitch_id,
            user_id,
        )
        return _row(row) if row else None

    async def list(self, pitch_id: int) -> builtins.list[Collaborator]:
        rows = await self.db.fetch(
            f"""SELECT {_COLUMNS} FROM pitch_collaborators c JOIN users u ON u.id = c.user_id
                WHERE c.pitch_id = $1 ORDER BY c.invited_at, c.user_id""",
            pitch_id,
        )
        return [_row(r) for r in rows]

    async def for_user(self, user_id: int) -> builtins.list[Collaboration]:
        rows = await self.db.fetch(
            f"""SELECT {_COLUMNS}, p.title AS pitch_title
                FROM pitch_collaborators c JOIN users u ON u.id = c.user_id
                JOIN pitches p ON p.id = c.pitch_id
                WHERE c.user_id = $1 ORDER BY c.invited_at DESC, c.pitch_id""",
            user_id,
        )
        return [Collaboration(**asdict(_row(r)), pitch_title=r["pitch_title"]) for r in rows]

    async def remove(self, pitch_id: int, user_id: int) -> bool:
        status = await self.db.execute(
            "DELETE FROM pitch_collaborators WHERE pitch_id = $1 AND user_id = $2", pitch_id, user_id
        )
        return status.endswith(" 1")

    async def respond(self, pitch_id: int, user_id: int, accept: bool) -> Collaborator | None:
        """The invitee's answer; None when there is no invitation to them. Accepting an accepted
        one changes nothing; declining an accepted one leaves the collaboration."""
        row = await self.db.fetchrow(
            f"""WITH up AS (
                    UPDATE pitch_collaborators SET
                        status = $3,
                        responded_at = CASE WHEN status = $3 THEN responded_at ELSE now() END
                    WHERE pitch_id = $1 AND user_id = $2
                    RETURNING *
                )
                SELECT {_COLUMNS} FROM up c JOIN users u ON u.id = c.user_id""",
            pitch_id,
            user_id,
            "accepted" if accept else "declined",
        )
        return _row(row) if row else None

    async def role(self, pitch_id: int, user_id: int) -> str | None:
        """The accepted role of a user on a pitch (None: not an accepted collaborator)."""
        role: str | None = await self.db.fetchval(
            """SELECT role FROM pitch_collaborators
               WHERE pitch_id = $1 AND user_id = $2 AND status = 'accepted'""",
            pitch_id,
            user_id,
        )
        return role
