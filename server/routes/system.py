"""Liveness, readiness and the API reference."""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from .. import envelope
from ..api import Api, Call
from ..errors import Unavailable
from ..observability import release, web_dsn
from ..schemas.system import ClientConfig, Health, Readiness, SentryConfig
from ..state import OPENAPI

api = Api()


@api.route(
    "GET", "/health", auth="none", response=Health, tags=("system",), summary="Liveness: the process answers"
)
async def health(call: Call[Any, Any]) -> Health:
    return Health(status="ok")


@api.route(
    "GET",
    "/ready",
    auth="none",
    response=Readiness,
    tags=("system",),
    errors=(Unavailable,),
    summary="Readiness: database reachable and migrations applied",
)
async def ready(call: Call[Any, Any]) -> web.StreamResponse:
    checks: dict[str, Any] = {}
    db = call.state.db
    if db is None:
        checks["database"] = "not connected"
    else:
        checks.update(await db.ready())
    for name, probe in call.state.readiness.items():
        checks[name] = await probe()
    ok = checks.get("database") == "ok" and not checks.get("pendingMigrations")
    degraded = ok and any(v == "degraded" for v in checks.values())
    status = "ready" if ok and not degraded else ("degraded" if ok else "unavailable")
    if not ok:
        # Not ready is a failure like any other: the error envelope, with the checks as details.
        return envelope.failure(
            call.request, 503, "UNAVAILABLE", "Not ready", details={"status": status, "checks": checks}
        )
    body = Readiness.model_validate({"status": status, "checks": checks})
    return envelope.success(call.request, body)


@api.route(
    "GET",
    "/api/config",
    auth="none",
    response=ClientConfig,
    tags=("system",),
    summary="What the web app needs at start: the release, and where to report its errors",
)
async def client_config(call: Call[Any, Any]) -> ClientConfig:
    settings = call.state.settings
    dsn = web_dsn(settings)
    sentry = None
    if dsn is not None:
        sentry = SentryConfig(dsn=dsn, environment=settings.sentry_environment, release=release())
    return ClientConfig(release=release(), sentry=sentry)


@api.route(
    "GET",
    "/api/openapi.json",
    auth="none",
    tags=("system",),
    summary="This API's OpenAPI 3.1 document",
    openapi_extra={
        "responses": {
            "200": {
                "description": "OpenAPI 3.1 document",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        }
    },
)
async def openapi(call: Call[Any, Any]) -> web.StreamResponse:
    doc = call.request.app[OPENAPI]
    return web.Response(body=envelope.dumps(doc), content_type="application/json")


@api.route(
    "GET",
    "/api/docs",
    auth="none",
    tags=("system",),
    summary="A human-readable API reference, generated from the OpenAPI document",
    openapi_extra={
        "responses": {
            "200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
        }
    },
)
async def docs_page(call: Call[Any, Any]) -> web.StreamResponse:
    doc = call.request.app[OPENAPI]
    return web.Response(
        text=render_docs(doc),
        content_type="text/html",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


def render_docs(doc: dict[str, Any]) -> str:
    """Self-contained HTML (no CDN, no script): every route, who may call, its body schema."""
    rows = []
    for path, ops in sorted(doc["paths"].items()):
        for method, op in ops.items():
            body: dict[str, Any] = op.get("requestBody", {}).get("content", {})
            first: dict[str, Any] = next(iter(body.values()), {})
            schema: dict[str, Any] = first.get("schema", {})
            body_ref = schema.get("$ref", "").rsplit("/", 1)[-1]
            auth = "yes" if op.get("security") else "no"
            codes = ", ".join(sorted(op.get("responses", {})))
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td><td><code>{escape(path)}"
                f"</code></td><td>{escape(op.get('summary', ''))}</td><td>{auth}</td>"
                f"<td>{escape(body_ref)}</td><td>{escape(codes)}</td></tr>"
            )
    schemas = []
    for name, schema in sorted(doc["components"]["schemas"].items()):
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = ", ".join(f"<code>{escape(k)}</code>{'*' if k in required else ''}" for k in props)
        schemas.append(f"<tr><td id='{escape(name)}'>{escape(name)}</td><td>{fields}</td></tr>")
    title = escape(doc["info"]["title"])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} reference</title><style>
body{{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.3rem;
text-align:left;vertical-align:top}}code{{font-size:.9em}}</style></head><body>
<h1>{title} <small>{escape(doc["info"]["version"])}</small></h1>
<p>Every answer is the envelope <code>{{success, data | error, meta}}</code>. Machine-readable:
<a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI {escape(doc["openapi"])}).
Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> or the session cookie.</p>
<h2>Endpoints</h2><table><tr><th>method</th><th>path</th><th>what</th><th>auth</th>
<th>body</th><th>statuses</th></tr>{"".join(rows)}</table>
<h2>Schemas</h2><p>* required</p><table>{"".join(schemas)}</table></body></html>"""
