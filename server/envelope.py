"""The `{success, data, meta}` envelope of the original Pitchey API, so its clients can read ours."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel

REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("pitchey.request_id", str)
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
    data_bytes = dumps(data)
    etag: str | None = None
    if status == 200 and request.method in ("GET", "HEAD"):
        # The ETag covers `data` and meta extras (pagination), not the per-request id and time,
        # so an unchanged answer revalidates with 304 (the seed's "Conditional Requests").
        digest = hashlib.blake2b(data_bytes, digest_size=12)
        if meta_extra:
            digest.update(dumps(meta_extra))
        etag = f'"{digest.hexdigest()}"'
        if etag_matches(request.headers.get("If-None-Match"), etag):
            not_modified = web.Response(status=304, headers=headers)
            not_modified.headers["ETag"] = etag
            not_modified.headers["Cache-Control"] = "private, no-cache"
            return not_modified
    body = b'{"success":true,"data":' + data_bytes + b',"meta":' + dumps(meta(request, meta_extra)) + b"}"
    response = web.Response(body=body, status=status, content_type="application/json", headers=headers)
    if etag is not None:
        response.headers["ETag"] = etag
        response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return etag in candidates


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
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)
