"""Request middleware: request ids, the one access line per request, errors -> envelope, CORS."""

from __future__ import annotations

import logging
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


def _error_response(request: web.Request, err: ApiError) -> web.Response:
    return envelope.failure(
        request, err.status, err.code, err.message, details=err.details, headers=err.headers
    )


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: every answer, even a crash, is the envelope, carries X-Request-Id and is logged."""
    rid = envelope.new_request_id(request.headers.get("X-Request-Id"))
    request[envelope.REQUEST_ID_KEY] = rid
    started = time.perf_counter()
    response: web.StreamResponse
    try:
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
        log.exception("unhandled error request_id=%s %s %s", rid, request.method, request.path)
        report_request_error(exc, request)
        response = envelope.failure(request, 500, "INTERNAL", "Internal server error")
    if not response.prepared:
        response.headers["X-Request-Id"] = rid
        _maybe_compress(request, response)
        if "Access-Control-Allow-Origin" not in response.headers:
            # Errors raised past `cors` became responses only here: they need CORS too, or a
            # browser front-end could not read the error code.
            _cors_headers(request, response)
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


def _maybe_compress(request: web.Request, response: web.StreamResponse) -> None:
    """gzip/deflate JSON answers worth it, per Accept-Encoding (the seed's "Compression")."""
    if (
        isinstance(response, web.Response)
        and response.content_type == "application/json"
        and isinstance(response.body, bytes)
        and len(response.body) >= COMPRESS_MIN_BYTES
        and "Content-Encoding" not in response.headers
        and request.headers.get("Accept-Encoding")
    ):
        response.enable_compression()


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


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS for the configured front-end origins only (credentials allowed, so never '*')."""
    origins = request.app[APP_STATE].settings.cors_origins
    origin = request.headers.get("Origin", "").rstrip("/")
    allowed = bool(origin) and origin in origins
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if not allowed:
            return envelope.failure(request, 403, "FORBIDDEN", "Origin not allowed")
        response: web.StreamResponse = web.Response(status=204)
        response.headers.update(
            {
                "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": (
                    "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id"
                ),
                "Access-Control-Max-Age": "600",
            }
        )
    else:
        response = await handler(request)
    _cors_headers(request, response)
    return response


def _cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    origin = request.headers.get("Origin", "").rstrip("/")
    if origin and origin in request.app[APP_STATE].settings.cors_origins and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After, ETag"
        response.headers.add("Vary", "Origin")
