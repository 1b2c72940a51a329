"""The web app (web/, built by `npm run build` into server/webdist/), served by the API server itself.

One origin for the app and the API: the session cookie stays SameSite and HttpOnly, no CORS.

- Files of the build are read once at start, with a gzip copy of each compressible one, and served
  from memory (the whole build is a few hundred KiB). Hashed files under /assets/ never change, so
  they are cached for a year; everything else (index.html, favicon.svg) revalidates by ETag.
- Client routes (/browse, /pitches/12, ...) are the app's own: a browser navigating to one gets
  index.html and the app's router takes over. A request only falls back to index.html when the
  router found nothing, it is a GET/HEAD, it asks for HTML (every browser navigation does; API
  clients and `fetch` do not, so they keep the JSON 404 envelope), its path has no file extension
  and is not under a server prefix (/api, /ws, /health, /ready, /metrics, /assets).
- The HTML gets a strict Content-Security-Policy: the build has no inline script or style, so
  nothing but our own origin is needed (see `content_security_policy`).
- A checkout that never built the app answers / with a short page saying how to build it.

Brotli is not offered: no dependency we already have provides it, and gzip of these files is
within a few percent of it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from .middleware import UNMATCHED
from .settings import Settings
from .state import APP_STATE

log = logging.getLogger("pitchey.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Where `npm run build` writes the app; shipped as package data of pitchey.server.
WEBDIST = Path(__file__).resolve().parent / "webdist"

#: Path prefixes that belong to the server: never answered with the app, even for a browser.
RESERVED_PREFIXES = ("/api", "/ws", "/health", "/ready", "/metrics", "/assets")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Types sent with their charset; the rest of the build is binary or has its type from mimetypes.
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}
_COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".svg", ".json", ".map", ".webmanifest", ".txt"}

NOT_BUILT_HTML = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pitchey: web app not built</title></head>
<body><h1>The web app is not built</h1>
<p>This checkout has no <code>server/webdist/index.html</code>. Build it with
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then restart <code>pitchey serve</code>.
The API itself is running: see <a href="/api/docs">/api/docs</a>.</p></body></html>
"""


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the build, as served: raw bytes, a gzip copy when it is smaller, validators."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    cache_control: str
    etag: str  # strong, of the raw bytes; the gzip representation gets its own

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'


def load_asset(path: Path, url: str) -> Asset:
    body = path.read_bytes()
    suffix = path.suffix.lower()
    content_type = _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    gzipped: bytes | None = None
    if suffix in _COMPRESSIBLE:
        # mtime=0: the same bytes (and so the same ETag) on every start and every node.
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        if len(packed) < len(body):
            gzipped = packed
    digest = hashlib.sha256(body).hexdigest()[:24]
    return Asset(
        body=body,
        gzipped=gzipped,
        content_type=content_type,
        cache_control=IMMUTABLE if url.startswith("/assets/") else REVALIDATE,
        etag=f'"{digest}"',
    )


@dataclass(frozen=True, slots=True)
class WebApp:
    """The build, by URL path ("/" is index.html). `index` is None when the app was never built."""

    files: dict[str, Asset]
    index: Asset | None
    csp: str

    @classmethod
    def load(cls, root: Path, csp: str) -> WebApp:
        files: dict[str, Asset] = {}
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    url = "/" + path.relative_to(root).as_posix()
                    files[url] = load_asset(path, url)
        index = files.get("/index.html")
        if index is None:
            log.warning("web app not built (%s has no index.html): / explains how to build it", root)
        return cls(files=files, index=index, csp=csp)


WEBAPP: web.AppKey[WebApp] = web.AppKey("pitchey.webapp", WebApp)


def content_security_policy(settings: Settings) -> str:
    """The app's CSP: our own origin only, plus the S3 origin for media when S3 is configured.

    Media (posters, videos) are linked as /api/media/<key>, which on S3-compatible storage answers
    302 to a presigned URL on the S3 endpoint; CSP checks the redirect target too, so that origin
    must be allowed for <img>, <video>/<audio> and the deck's <iframe>, and for nothing else.
    `data:` and `blob:` images are the app's own previews of a file chosen for upload.
    connect-src 'self' covers the same-origin WebSocket (/ws) as well; the browser's Sentry DSN
    origin is added to it when error reporting is on (the SDK posts its envelopes there).
    """
    media = ""
    if settings.s3_endpoint:
        parts = urlsplit(settings.s3_endpoint)
        if parts.scheme and parts.netloc:
            media = f" {parts.scheme}://{parts.netloc}"
    errors = ""
    sentry_dsn = settings.sentry_web_dsn or settings.sentry_dsn
    if sentry_dsn:
        dsn = urlsplit(sentry_dsn)
        errors = f" {dsn.scheme}://{dsn.hostname}" + (f":{dsn.port}" if dsn.port else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob:{media}; media-src 'self' blob:{media}; frame-src 'self'{media}; "
        f"connect-src 'self'{errors}; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


def setup_webapp(app: web.Application) -> None:
    """Load the build into memory and answer, after the router found nothing, with it.

    The build is the package's server/webdist unless PITCHEY_WEB_DIR names another one.
    """
    settings = app[APP_STATE].settings
    app[WEBAPP] = WebApp.load(settings.web_dir or WEBDIST, content_security_policy(settings))
    # Not a middleware layer: `edge` (server/middleware.py) hands it only the requests the router
    # matched to no route, so the access log, request id and CORS apply as to any other answer
    # and routed requests (the whole API) pass one middleware instead of two (issue 16).
    app[UNMATCHED] = webapp_middleware


@web.middleware
async def webapp_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    exc = request.match_info.http_exception
    if exc is None or exc.status != 404 or request.method not in ("GET", "HEAD"):
        return await handler(request)
    webapp = request.app[WEBAPP]
    path = request.path
    if path == "/":
        return _index(request, webapp, negotiated=False)
    asset = webapp.files.get(path)
    if asset is not None:
        return _serve(request, webapp, asset)
    if _is_client_route(path) and _wants_html(request):
        return _index(request, webapp, negotiated=True)
    return await handler(request)  # the router's 404, as the JSON envelope


def _is_client_route(path: str) -> bool:
    for prefix in RESERVED_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return False
    return "." not in path.rsplit("/", 1)[-1]


def _wants_html(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "").lower()
    return "text/html" in accept or "application/xhtml+xml" in accept


def _index(request: web.Request, webapp: WebApp, *, negotiated: bool) -> web.StreamResponse:
    if webapp.index is None:
        missing = web.Response(
            status=503,
            body=NOT_BUILT_HTML,
            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        )
        _security_headers(missing, webapp)
        return missing
    response = _serve(request, webapp, webapp.index)
    if negotiated:
        # The same URL answers JSON to a client that did not ask for HTML.
        response.headers.add("Vary", "Accept")
    return response


def _serve(request: web.Request, webapp: WebApp, asset: Asset) -> web.StreamResponse:
    use_gzip = asset.gzipped is not None and _accepts_gzip(request.headers.get("Accept-Encoding", ""))
    etag = asset.gzip_etag if use_gzip else asset.etag
    headers = {"ETag": etag, "Cache-Control": asset.cache_control}
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    response: web.Response
    if _not_modified(request.headers.get("If-None-Match"), etag):
        response = web.Response(status=304, headers=headers)
    else:
        headers["Content-Type"] = asset.content_type
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        body = asset.gzipped if use_gzip and asset.gzipped is not None else asset.body
        response = web.Response(body=body, headers=headers)
    _security_headers(response, webapp)
    return response


def _security_headers(response: web.StreamResponse, webapp: WebApp) -> None:
    # On every file, not only HTML: an SVG or a JS file opened directly is a document as well.
    response.headers["Content-Security-Policy"] = webapp.csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"


def _accepts_gzip(header: str) -> bool:
    """gzip acceptable per RFC 9110 12.5.3: listed (or `*`) with a q-value above zero."""
    star: bool | None = None
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name in ("gzip", "x-gzip"):
            return q > 0
        if name == "*":
            star = q > 0
    return bool(star)


def _not_modified(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as GET/HEAD conditionals use."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))
