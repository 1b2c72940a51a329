"""Everything the app owns, in one object held by the aiohttp application (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pitchey.storage.database import Database
from pitchey.storage.revocations import RevocationStore
from pitchey.storage.users import UserStore

from .auth import Passwords, RevocationCache, TokenService
from .ratelimit import AuthLimiter, WriteLimiter
from .settings import Settings


@dataclass
class AppState:
    settings: Settings
    tokens: TokenService
    revocations: RevocationCache
    passwords: Passwords
    auth_limiter: AuthLimiter
    write_limiter: WriteLimiter
    db: Database | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def database(self) -> Database:
        assert self.db is not None, "database not connected yet"
        return self.db

    @property
    def users(self) -> UserStore:
        return UserStore(self.database)

    @property
    def revocation_store(self) -> RevocationStore:
        return RevocationStore(self.database)


APP_STATE: web.AppKey[AppState] = web.AppKey("pitchey.state", AppState)
MAX_BODY: web.AppKey[int] = web.AppKey("pitchey.max_body", int)
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("pitchey.openapi", dict)
