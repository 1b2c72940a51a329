"""Liveness, readiness and the API reference."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import envelope
from ..api import Api, Call
from ..schemas import Health, Readiness

api = Api()


@api.route("GET", "/health", auth="none", response=Health, tags=("system",),
           summary="Liveness: the process answers")
async def health(call: Call[Any, Any]) -> Health:
    return Health(status="ok")


@api.route("GET", "/ready", auth="none", response=Readiness, tags=("system",),
           summary="Readiness: database reachable and migrations applied")
async def ready(call: Call[Any, Any]) -> web.StreamResponse:
    checks: dict[str, Any] = {}
    db = call.state.db
    if db is None:
        checks["database"] = "not connected"
    else:
        checks.update(await db.ready())
    for name, probe in call.state.extras.get("readiness", {}).items():
        checks[name] = await probe()
    ok = checks.get("database") == "ok" and not checks.get("pendingMigrations")
    degraded = ok and any(v == "degraded" for v in checks.values())
    status = "ready" if ok and not degraded else ("degraded" if ok else "unavailable")
    if not ok:
        # Not ready is a failure like any other: the error envelope, with the checks as details.
        return envelope.failure(call.request, 503, "UNAVAILABLE", "Not ready",
                                details={"status": status, "checks": checks})
    body = Readiness.model_validate({"status": status, "checks": checks})
    return envelope.success(call.request, body)


@api.route("GET", "/api/openapi.json", auth="none", tags=("system",),
           summary="This API's OpenAPI 3.1 document")
async def openapi(call: Call[Any, Any]) -> web.StreamResponse:
    doc = call.request.app["pitchey.openapi"]
    return web.Response(body=envelope.dumps(doc), content_type="application/json")
