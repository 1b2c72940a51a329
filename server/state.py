"""Everything the app owns, in one object held by the aiohttp application (no module globals).

Each part is a typed attribute (no string-keyed bag): `state.realtime`, `state.cache`,
`state.blobs`, `state.payments`, `state.cluster`, `state.readiness`. They are attributes of the one
object under the `APP_STATE` key rather than app keys of their own because most exist only once
the app has started (its cleanup contexts create them), and aiohttp freezes the application's
mapping at startup: writing a key then is deprecated. Reading one is as typed either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from pitchey.storage.database import Database
from pitchey.storage.revocations import RevocationStore
from pitchey.storage.users import UserStore

from .auth import Passwords, RevocationCache, TokenService
from .cache import Cache, TtlCache
from .ratelimit import AttemptLimiter, AuthLimiter, WriteLimiter
from .settings import Settings
from .views import SeenViews

if TYPE_CHECKING:
    from procrastinate import App as JobQueue

    from .blobstore import BlobStore
    from .cluster import Cluster
    from .payments import PaymentProvider
    from .realtime import Realtime

#: A readiness probe of a part of the app (`/ready`): "ok" or "degraded".
Probe = Callable[[], Awaitable[str]]


@dataclass
class AppState:
    settings: Settings
    tokens: TokenService
    revocations: RevocationCache
    passwords: Passwords
    auth_limiter: AuthLimiter
    write_limiter: WriteLimiter
    attempts: AttemptLimiter = field(default_factory=AttemptLimiter)
    """Attempts reserved before the check they guard: failed logins, declined cards."""
    db: Database | None = None
    cache: Cache = field(default_factory=TtlCache)
    seen_views: SeenViews = field(default_factory=SeenViews)
    """The (pitch, reader) pairs whose view this node already sent to the pitch's room today."""
    """The read cache (server/cache.py); shared across nodes once `cluster` is set."""
    live: Realtime | None = None
    """Hub, backplane, sessions and tickets, from startup on (server/realtime.py)."""
    blobs: BlobStore | None = None
    """The media store while it is open (server/routes/media.py)."""
    payments: PaymentProvider | None = None
    jobs: JobQueue | None = None
    """The background job queue while the app runs (server/jobs.py)."""
    dsn: str = field(default="", repr=False)
    """The database this app was built for (jobs that run client tools, e.g. backups, need it)."""
    version: str = ""
    """The package version (the release in reports and backups)."""
    cluster: Cluster | None = None
    readiness: dict[str, Probe] = field(default_factory=dict)
    """Probes `/ready` reports beside the database's, by name."""

    @property
    def database(self) -> Database:
        assert self.db is not None, "database not connected yet"
        return self.db

    @property
    def realtime(self) -> Realtime:
        assert self.live is not None, "realtime not started yet"
        return self.live

    @property
    def users(self) -> UserStore:
        return UserStore(self.database)

    @property
    def revocation_store(self) -> RevocationStore:
        return RevocationStore(self.database)


APP_STATE: web.AppKey[AppState] = web.AppKey("pitchey.state", AppState)
MAX_BODY: web.AppKey[int] = web.AppKey("pitchey.max_body", int)
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("pitchey.openapi", dict)
