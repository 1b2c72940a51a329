"""Accounts. Emails arrive normalised; uniqueness is the database's job, not a racy pre-check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database, StorageError


class EmailTaken(StorageError):
    pass


class UsernameTaken(StorageError):
    pass


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    username: str | None
    name: str | None
    company_name: str | None
    user_type: str
    password_hash: str
    created_at: datetime


_COLUMNS = "id, email, username, name, company_name, user_type, password_hash, created_at"


def _user(row: asyncpg.Record) -> User:
    return User(**dict(row))


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        email: str,
        password_hash: str,
        user_type: str,
        username: str | None = None,
        name: str | None = None,
        company_name: str | None = None,
    ) -> User:
        try:
            row = await self.db.fetchrow(
                f"""INSERT INTO users (email, password_hash, user_type, username, name, company_name)
                    VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}""",
                email,
                password_hash,
                user_type,
                username,
                name,
                company_name,
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "users_username_key":
                raise UsernameTaken(username) from None
            raise EmailTaken(email) from None
        assert row is not None
        return _user(row)

    async def by_email(self, email: str) -> User | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE email = $1", email)
        return _user(row) if row else None

    async def by_id(self, user_id: int) -> User | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
        return _user(row) if row else None

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Used when a stored hash was made with weaker parameters than today's."""
        await self.db.execute(
            "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
            user_id,
            password_hash,
        )
