"""The application factory: wires settings, storage, services and routes into one aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web

from pitchey.storage.database import Database

from . import docs_ws, realtime, webapp
from .api import Api
from .auth import Passwords, RevocationCache, TokenService
from .cache import setup_cache
from .jobs import setup_jobs
from .middleware import edge
from .observability import setup_sentry
from .openapi import build_openapi
from .ratelimit import AttemptLimiter, AuthLimiter, WriteLimiter
from .routes import (
    analytics,
    collaborators,
    follows,
    investments,
    media,
    messages,
    notifications,
    payments,
    production,
    profiles,
    resources,
    saved,
    teams,
    timeline,
)
from .routes import auth as auth_routes
from .routes import nda_templates as nda_template_routes
from .routes import ndas as nda_routes
from .routes import ops as ops_routes
from .routes import pitches as pitch_routes
from .routes import system as system_routes
from .settings import Settings, load_or_create_secret
from .state import APP_STATE, MAX_BODY, OPENAPI, AppState

log = logging.getLogger("pitchey.server")

REVOCATION_PURGE_SECONDS = 3600.0


def _version() -> str:
    try:
        return version("pitchey-realtime")
    except PackageNotFoundError:
        return "0.0.0"


#: The app's endpoint declarations (the permission test and tools walk them).
API: web.AppKey[Api] = web.AppKey("pitchey.api", Api)


def build_api() -> Api:
    api = Api()
    for module in (
        system_routes,
        auth_routes,
        realtime,
        pitch_routes,
        nda_routes,
        nda_template_routes,
        follows,
        investments,
        payments,
        production,
        messages,
        notifications,
        analytics,
        collaborators,
        media,
        profiles,
        saved,
        teams,
        resources,
        timeline,
        ops_routes,
    ):
        api.include(module.api)
    return api


def openapi_document(api: Api | None = None, cookie_name: str | None = None) -> dict[str, Any]:
    """The OpenAPI document; needs no settings or database (`pitchey openapi` prints it, with
    the default session cookie name)."""
    extra = {"cookie_name": cookie_name} if cookie_name else {}
    return build_openapi((api or build_api()).endpoints, title="Pitchey API", version=_version(), **extra)


def create_app(settings: Settings, dsn: str) -> web.Application:
    """An app bound to one database. Connecting and migrating happen on startup, not here."""
    revocations = RevocationCache()
    # Several nodes share rate-limit counters through Redis; one node counts in memory.
    limits_uri = f"async+{settings.redis_url}" if settings.redis_url else "async+memory://"
    # Attempt reservations go through the cluster's Redis client once it has started.
    attempts = AttemptLimiter(lambda: state.cluster.redis if state.cluster is not None else None)
    state = AppState(
        settings=settings,
        tokens=TokenService(load_or_create_secret(settings), settings.token_ttl, revocations),
        revocations=revocations,
        passwords=Passwords(settings.argon2_profile),
        auth_limiter=AuthLimiter(settings.login_failure_limit, settings.auth_ip_limit, limits_uri, attempts),
        write_limiter=WriteLimiter(settings.write_user_limit, settings.write_ip_limit, limits_uri),
        attempts=attempts,
    )
    app = web.Application(
        middlewares=[edge],
        client_max_size=settings.max_body_bytes,
        # Different limits, so a parser refusal says which it hit: the request line (414) or a
        # header (431); server/httpserver.py answers both in the envelope.
        handler_args={"max_line_size": 8190, "max_field_size": 16 * 1024},
    )
    app[APP_STATE] = state
    state.dsn, state.version = dsn, _version()
    app[MAX_BODY] = settings.max_body_bytes
    setup_sentry(app)  # SENTRY_DSN: errors to Sentry (first to start, last to stop)
    api = build_api()
    api.install(app)
    app[API] = api
    app[OPENAPI] = openapi_document(api, settings.cookie_name)

    async def storage_context(app: web.Application) -> AsyncIterator[None]:
        state.db = await Database.connect(
            dsn,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout=settings.db_timeout,
        )
        try:
            await state.db.migrate()
            revocations.load(await state.revocation_store.active())
            purger = asyncio.create_task(_purge_revocations(state))
            yield
            purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purger
        finally:
            await state.db.close()
            log.info("database pool closed")

    app.cleanup_ctx.append(storage_context)
    realtime.setup_realtime(app)
    docs_ws.setup_docs(app)  # after: documents write back through the pitch rooms
    ops_routes.setup_ops(app)  # after realtime: it reads the hub and the sessions
    media.setup_media(app)
    setup_cache(app)
    payments.setup_payments(state)
    webapp.setup_webapp(app)  # the answer to what the router matched to no route (UNMATCHED)
    setup_jobs(app, dsn)  # the job queue, and a worker unless PITCHEY_JOB_WORKER=false
    return app


async def _purge_revocations(state: AppState) -> None:
    """Drop revocations of tokens that have expired anyway, in memory and on disk."""
    while True:
        await asyncio.sleep(REVOCATION_PURGE_SECONDS)
        state.revocations.purge()
        try:
            await state.revocation_store.purge_expired()
        except Exception:
            log.warning("could not purge expired revocations", exc_info=True)
