"""Errors to Sentry: the one module that knows sentry_sdk.

Off while `SENTRY_DSN` is unset: nothing is initialised and every `report_*` returns at once, so
a node without Sentry opens no connection and pays one attribute check per reported error.

What is reported, each with the `node` tag (host:port) and the release (the package version):

- a 500: an exception that reached the request middleware (`report_request_error`), tagged with
  the request id, with the request as the aiohttp integration describes it;
- a room actor crash: the Hub's failure hook (`Hub.failure_hook`, installed here at startup, so
  the rooms and actors packages import nothing of Sentry), tagged with the room;
- a WebSocket session error (`report_session_error`), tagged with the request id of the upgrade
  and the room of the command being handled.

Log lines are breadcrumbs only (the per-request access line not even that), never events: the
three seams above report with their tags, and an ERROR line of theirs would be the same failure a
second time without them.

Nothing secret leaves the process: `scrub` runs on every event, transaction and breadcrumb and
drops the values of sensitive keys (Authorization, Cookie, password, token, email, ...) anywhere in
it, then masks JWTs, bearer tokens, `password=`-style pairs (server/logs.py's redaction) and email
addresses in every remaining string; local variables are not sent at all.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import socket
import traceback
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import sentry_sdk
from aiohttp import web
from sentry_sdk.integrations.aiohttp import AioHttpIntegration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger

from .envelope import REQUEST_ID_KEY
from .logs import redact
from .settings import Settings
from .state import APP_STATE

if TYPE_CHECKING:
    from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint

    from .ws import WsSession

FILTERED = "[Filtered]"
EMAIL_MASK = "[email]"
_SENSITIVE_KEY = re.compile(
    r"(?i)authorization|cookie|passw|secret|token|jwt|e-?mail|api[-_]?key|credential|ticket|dsn"
)
# An address, also as a URL carries it (%40 for the @: a page's ?q=, a request's query string).
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_MAX_DEPTH = 20  # events are JSON trees of modest depth; deeper is not ours to walk
# A stack frame's lines of our own source: code, not data (masking `token = ...` in it would
# only garble what Sentry shows).
_SOURCE_KEYS = frozenset({"pre_context", "context_line", "post_context"})
CLOSE_TIMEOUT = 2.0  # seconds to flush queued events at shutdown


@functools.cache
def release() -> str:
    """The release events carry, server and web app alike: the package's name and version."""
    try:
        return f"pitchey-realtime@{version('pitchey-realtime')}"
    except PackageNotFoundError:
        return "pitchey-realtime@0.0.0"


def node_name(settings: Settings) -> str:
    """This node among several: its host and port (the `node` tag, and Sentry's server_name)."""
    return f"{socket.gethostname()}:{settings.port}"


def web_dsn(settings: Settings) -> str | None:
    """The DSN the browser reports to (GET /api/config), or None when the web app reports nothing."""
    return settings.sentry_web_dsn or settings.sentry_dsn


# -- scrubbing ------------------------------------------------------------------------------


def scrub_text(text: str) -> str:
    return _EMAIL.sub(EMAIL_MASK, redact(text))


def scrub(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON-like tree with secrets removed (see the module docstring)."""
    if isinstance(value, str):
        return scrub_text(value)
    if depth > _MAX_DEPTH:
        return FILTERED
    if isinstance(value, dict):
        return {key: _scrub_item(key, item, depth) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        # Header lists are [name, value] pairs: a sensitive name filters its value.
        if len(value) == 2 and isinstance(value[0], str) and _SENSITIVE_KEY.search(value[0]):
            return [value[0], FILTERED]
        return [scrub(item, depth + 1) for item in value]
    return value


def _scrub_item(key: object, item: Any, depth: int) -> Any:
    if not isinstance(key, str):
        return scrub(item, depth + 1)
    if key in _SOURCE_KEYS:
        return item
    if _SENSITIVE_KEY.search(key) and item not in (None, ""):
        return FILTERED
    return scrub(item, depth + 1)


def _before_send(event: Event, hint: Hint) -> Event | None:
    return scrub(event)  # type: ignore[no-any-return]


def _before_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb | None:
    return scrub(crumb)  # type: ignore[no-any-return]


# -- lifecycle ------------------------------------------------------------------------------


def init_sentry(settings: Settings) -> bool:
    """Initialise the SDK from the settings; False (and nothing done) when SENTRY_DSN is unset."""
    if not settings.sentry_dsn:
        return False
    node = node_name(settings)
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.sentry_environment,
        release=release(),
        server_name=node,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        # What the SDK collects by itself, at its source: no user details, cookies or request
        # bodies (a login's password, a registration's email), no local variables (a failing
        # frame's may hold any of those), sensitive headers and query parameters masked.
        # `scrub` still runs on everything, for what reaches an event some other way.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist", "terms": ["cookie", "email"]}},
            "http_bodies": [],
            "url_query_params": {"mode": "denylist", "terms": ["ticket", "email"]},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        # Only what is named here: the auto-enabled set would patch asyncpg, redis, boto and more.
        auto_enabling_integrations=False,
        integrations=[
            AioHttpIntegration(transaction_style="method_and_path_pattern"),
            LoggingIntegration(level=logging.INFO, event_level=None),
        ],
        # The same exception reported by two seams (a room crash during a REST call is also that
        # call's 500) is two observations with different tags: keep both.
        disabled_integrations=[DedupeIntegration()],
        before_send=_before_send,
        before_send_transaction=_before_send,
        before_breadcrumb=_before_breadcrumb,
    )
    sentry_sdk.get_global_scope().set_tag("node", node)
    # One access line per request, written after its answer: as a breadcrumb it would cost every
    # request a little and tell an event nothing its `request` does not.
    ignore_logger("pitchey.access")
    return True


def enabled() -> bool:
    return sentry_sdk.get_client().is_active()


def setup_sentry(app: web.Application) -> None:
    """Report to Sentry while the app runs, if SENTRY_DSN is set; a no-op otherwise.

    Initialised first at startup and closed (queued events flushed) last at cleanup, so failures
    of the other parts' startup and shutdown are reported too. The Hub's failure hook is installed
    once the realtime part has started (on_startup runs after every cleanup context's start).
    """
    state = app[APP_STATE]
    settings = state.settings
    if not settings.sentry_dsn:
        return

    async def context(app: web.Application) -> AsyncIterator[None]:
        init_sentry(settings)
        try:
            yield
        finally:
            client = sentry_sdk.get_client()
            # close() waits for the transport's worker thread: not on the loop.
            await asyncio.to_thread(client.close, CLOSE_TIMEOUT)
            # Back to the SDK's no-op client, so an app started later in this process (tests)
            # without SENTRY_DSN reports nothing.
            sentry_sdk.get_global_scope().set_client(None)

    async def install_hooks(app: web.Application) -> None:
        if state.live is not None:
            state.live.hub.failure_hook = report_room_crash

    app.cleanup_ctx.insert(0, context)
    app.on_startup.append(install_hooks)


# -- the three seams ------------------------------------------------------------------------


def report_request_error(exc: BaseException, request: web.Request) -> None:
    """A request ended in a 500 (the middleware's error path)."""
    if not enabled():
        return
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("request_id", request.get(REQUEST_ID_KEY, ""))
        scope.set_tag("kind", "http")
        sentry_sdk.capture_exception(exc)


def report_room_crash(room: str, exc: BaseException | None) -> None:
    """A room actor's handler raised and the Hub replaces it (the Hub's failure hook)."""
    if not enabled():
        return
    # Rooms run in a context of their own (actors/asyncio_actor.py), so nothing of the request
    # that woke the room leaks in; a fresh scope keeps this event's tags to itself too.
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("room", room)
        scope.set_tag("kind", "room")
        if exc is None:
            sentry_sdk.capture_message(f"room {room} failed", level="error")
        else:
            sentry_sdk.capture_exception(exc)


def report_session_error(exc: BaseException, request: web.Request, session: WsSession) -> None:
    """A WebSocket session's handling raised (server/ws.py); the session closes with 1011."""
    if not enabled():
        return
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("request_id", request.get(REQUEST_ID_KEY, ""))
        scope.set_tag("kind", "websocket")
        scope.set_tag("ws_session", session.session_id)
        room = _command_room(exc)
        if room is not None:
            scope.set_tag("room", room)
        sentry_sdk.capture_exception(exc)


def _command_room(exc: BaseException) -> str | None:
    """The room of the command the session was handling when it raised, if it names one.

    Read from `WsSession.handle_text`'s frame in the traceback, so the hot path of every command
    does not pay for remembering it."""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_name == "handle_text":
            room = getattr(frame.f_locals.get("command"), "room", None)
            return None if room is None else str(room)
    return None
