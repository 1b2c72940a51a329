"""Request middleware: request ids, the one access line per request, errors -> envelope, CORS.

One middleware (`edge`) does all of it: every layer aiohttp runs costs a coroutine and a call per
request, and a cached read spends most of its time in such framework work (issue 16). The order
of the former layers is kept: the handler's answer (or its error, as the envelope) gets the
request id, compression when asked for, and the CORS headers of an allowed origin, then one
access line.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from pitchey.storage.database import StorageUnavailable

from . import envelope
from .errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge, Unavailable
from .observability import report_request_error
from .state import APP_STATE

log = logging.getLogger("pitchey.server")
access = logging.getLogger("pitchey.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

#: Answers requests the router matched to no route (the web app's pages and assets), called by
#: `edge` for those only: a routed request (the whole API) then passes one middleware layer.
UNMATCHED: web.AppKey[Middleware] = web.AppKey("pitchey.unmatched", Middleware)  # type: ignore[arg-type]

# A caller's own id is kept when well formed (tracing across services); `fullmatch`, so not even
# a trailing newline gets through (the id is written into answers as it is).
_INCOMING_ID = re.compile(r"[A-Za-z0-9._\-]{8,64}")
# Minted ids only need to be unique enough to find a request in the logs, not unguessable: the
# process' Mersenne Twister instead of an os.urandom system call per request.
_bits = random.Random().getrandbits  # noqa: S311 - an id, not a secret


def request_id_for(incoming: str | None) -> str:
    """The caller's well-formed X-Request-Id, else a fresh 16-hex-digit one."""
    if incoming is not None and _INCOMING_ID.fullmatch(incoming):
        return incoming
    return f"{_bits(64):016x}"


def _error_response(request: web.Request, err: ApiError) -> web.Response:
    return envelope.failure(
        request, err.status, err.code, err.message, details=err.details, headers=err.headers
    )


_PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id"
    ),
    "Access-Control-Max-Age": "600",
}


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer, even a crash, is the envelope, carries X-Request-Id, CORS headers for the
    configured front-end origins only (credentials allowed, so never '*'), and is logged."""
    headers = request.headers
    rid = request_id_for(headers.get("X-Request-Id"))
    request[envelope.REQUEST_ID_KEY] = rid
    started = time.perf_counter()
    origin = headers.get("Origin")
    allowed: str | None = None
    if origin:
        origin = origin.rstrip("/")
        if origin and origin in request.app[APP_STATE].settings.cors_origins:
            allowed = origin
    response: web.StreamResponse
    try:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in headers:
            if allowed is None:
                response = envelope.failure(request, 403, "FORBIDDEN", "Origin not allowed")
            else:
                response = web.Response(status=204, headers=_PREFLIGHT_HEADERS)
        elif request.match_info.http_exception is not None and UNMATCHED in request.app:
            response = await request.app[UNMATCHED](request, handler)
        else:
            response = await handler(request)
    except ApiError as err:
        response = _error_response(request, err)
    except StorageUnavailable as exc:
        log.warning("database unavailable request_id=%s: %s", rid, exc)
        response = _error_response(request, Unavailable())
        response.headers["Retry-After"] = "5"
    except web.HTTPException as exc:
        response = _http_exception(request, exc)
    except Exception as exc:
        refused = _refused_by_database(exc)
        if refused is not None:
            # Validation should have caught it; the caller still gets a clear answer, not a 500.
            # Logged with the SQLSTATE and constraint only: the refused value may be private.
            status, code, message = refused
            log.warning(
                "database refused request_id=%s %s %s: %s sqlstate=%s constraint=%s",
                rid,
                request.method,
                request.path,
                type(exc).__name__,
                getattr(exc, "sqlstate", None),
                getattr(exc, "constraint_name", None),
            )
            response = envelope.failure(request, status, code, message)
        else:
            log.exception("unhandled error request_id=%s %s %s", rid, request.method, request.path)
            report_request_error(exc, request)
            response = envelope.failure(request, 500, "INTERNAL", "Internal server error")
    if not response.prepared:
        out = response.headers
        out["X-Request-Id"] = rid
        if headers.get("Accept-Encoding"):
            _maybe_compress(response)
        if allowed is not None and "Access-Control-Allow-Origin" not in out:
            out["Access-Control-Allow-Origin"] = allowed
            out["Access-Control-Allow-Credentials"] = "true"
            out["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After, ETag"
            out.add("Vary", "Origin")
    if access.isEnabledFor(logging.INFO):
        duration_ms = (time.perf_counter() - started) * 1000
        access.info(
            "%s %s %s %d %.1fms",
            rid,
            request.method,
            request.path,
            response.status,
            duration_ms,
            extra={
                "request_id": rid,
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": round(duration_ms, 2),
            },
        )
    return response


COMPRESS_MIN_BYTES = 1024


def _maybe_compress(response: web.StreamResponse) -> None:
    """gzip/deflate JSON answers worth it, per Accept-Encoding (the seed's "Compression"); only
    called when the request sent one."""
    if (
        isinstance(response, web.Response)
        and isinstance(response.body, bytes)
        and len(response.body) >= COMPRESS_MIN_BYTES
        and response.content_type == "application/json"
        and "Content-Encoding" not in response.headers
    ):
        response.enable_compression()


# SQLSTATEs that mean "this request's data", not "the server is broken" (PostgreSQL appendix A):
# a duplicate, an exclusion overlap or a row that vanished meanwhile is a conflict with what is
# stored; a value out of range, too long or failing a CHECK is a value the API should have refused.
_CONFLICT_STATES = frozenset({"23505", "23P01", "23503"})


def _refused_by_database(exc: BaseException) -> tuple[int, str, str] | None:
    sqlstate = getattr(exc, "sqlstate", None)
    if not isinstance(sqlstate, str):
        return None
    if sqlstate in _CONFLICT_STATES:
        return 409, "CONFLICT", "This conflicts with what is already stored; reload and try again"
    if sqlstate[:2] in ("22", "23"):
        return 422, "VALIDATION_ERROR", "The database refused a value of this request"
    return None


def _http_exception(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    if exc.status == 404:
        return _error_response(request, NotFound(f"No route for {request.method} {request.path}"))
    if exc.status == 405:
        err = MethodNotAllowed(f"{request.method} is not allowed here")
        allowed = exc.headers.get("Allow")
        if allowed:
            err.headers["Allow"] = allowed
        return _error_response(request, err)
    if exc.status == 413:
        return _error_response(request, PayloadTooLarge())
    if exc.status < 400:
        return exc  # redirects and the like pass through untouched
    return envelope.failure(request, exc.status, "HTTP_ERROR", exc.reason)
