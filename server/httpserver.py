"""The HTTP server around the app: aiohttp's own parser refusals answered in our envelope.

A request aiohttp's parser refuses (a request line over `max_line_size`, a header over
`max_field_size`, a NUL in a header, garbage) never reaches the app or its middlewares: the
connection's `RequestHandler.handle_error` answers it, in plain text, and logs it at ERROR with a
traceback. aiohttp has no hook for that answer (aio-libs/aiohttp#3287), so `EnvelopeRequestHandler`
overrides that public method: the same status family with a stable code (400 `BAD_REQUEST`,
414 `URI_TOO_LONG`, 431 `HEADERS_TOO_LARGE`), the `{success, error, meta}` envelope, one WARNING
line and no traceback (a hostile client must not be able to fill the log with stack traces).

`Runner` is the `AppRunner` that serves with it (`pitchey serve`, and tests that need it): aiohttp
builds its `Server` and each connection's handler itself, so the runner re-types the server it
built as `EnvelopeServer` and that one re-types each handler it creates. Both subclasses add
behaviour only (no state, `__slots__ = ()` on the handler), so the objects aiohttp configured stay
exactly as it configured them. tests/test_hardening_http.py pins that the parser's errors reach
`handle_error` with the exception types mapped here.
"""

from __future__ import annotations

import logging
import secrets

import orjson
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong

from .envelope import utc_now_iso
from .errors import ApiError, HeadersTooLarge, MalformedRequest, UriTooLong
from .logs import escape_controls

log = logging.getLogger("pitchey.server.http")


class EnvelopeRequestHandler(web.RequestHandler):
    __slots__ = ()

    def classify(self, exc: BaseException | None) -> type[ApiError] | None:
        """The error a parser refusal is, or None for anything else (left to aiohttp)."""
        if not isinstance(exc, HttpProcessingError):
            return None
        if isinstance(exc, LineTooLong):
            # The exception carries the limit it hit: the request line's or a header's.
            limit = exc.args[1] if len(exc.args) > 1 else None
            if limit == self.max_field_size:
                return HeadersTooLarge
            if limit == self.max_line_size:
                return UriTooLong
        if "Too many headers" in (exc.message or ""):
            return HeadersTooLarge
        return MalformedRequest

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        kind = self.classify(exc)
        if kind is None or request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)
        rid = secrets.token_hex(8)
        level = logging.WARNING
        if self._request_count == 1 and isinstance(exc, BadHttpMethod):
            level = logging.DEBUG  # TLS or other non-HTTP traffic on the port: noise, as aiohttp says
        log.log(
            level,
            "%s refused by the HTTP parser request_id=%s from %s: %s",
            kind.status,
            rid,
            request.remote,
            escape_controls(str(getattr(exc, "message", "") or type(exc).__name__))[:200],
            extra={"request_id": rid, "status": kind.status, "code": kind.code},
        )
        body = orjson.dumps(
            {
                "success": False,
                "error": {"code": kind.code, "message": kind.default_message},
                "meta": {"requestId": rid, "timestamp": utc_now_iso()},
            }
        )
        resp = web.Response(
            status=kind.status, body=body, content_type="application/json", headers={"X-Request-Id": rid}
        )
        resp.force_close()
        return resp


class EnvelopeServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        handler = super().__call__()
        handler.__class__ = EnvelopeRequestHandler
        return handler


class Runner(web.AppRunner):
    """`web.AppRunner` whose connections answer parser errors in the envelope."""

    __slots__ = ()

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = EnvelopeServer
        return server
