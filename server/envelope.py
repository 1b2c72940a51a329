"""The `{success, data, meta}` envelope of the original Pitchey API, so its clients can read ours."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel

REQUEST_ID_KEY = "pitchey.request_id"
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")


def new_request_id(incoming: str | None = None) -> str:
    """Keep a caller's well-formed X-Request-Id (tracing across services), else mint one."""
    if incoming and _INCOMING_ID.match(incoming):
        return incoming
    return secrets.token_hex(8)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", by_alias=True)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)


def request_id(request: web.Request) -> str:
    rid = request.get(REQUEST_ID_KEY)
    return rid if isinstance(rid, str) else new_request_id()


def meta(request: web.Request, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"requestId": request_id(request), "timestamp": utc_now_iso()}
    if extra:
        m.update(extra)
    return m


def success(
    request: web.Request,
    data: Any,
    *,
    status: int = 200,
    meta_extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = dumps({"success": True, "data": data, "meta": meta(request, meta_extra)})
    return web.Response(body=body, status=status, content_type="application/json",
                        headers=headers)


def failure(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    body = dumps({"success": False, "error": error, "meta": meta(request)})
    return web.Response(body=body, status=status, content_type="application/json",
                        headers=headers)
