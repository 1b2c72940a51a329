"""The built web app served by the API server (server/webapp.py), over real HTTP.

What a browser needs (index.html for any client route, long-cached compressed assets, a strict
CSP), and what must not change for API clients (JSON 404s, routed paths, JSON compression).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from pitchey.server.webapp import IMMUTABLE, WEBDIST, content_security_policy

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; frame-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
INDEX = WEBDIST / "index.html"


def built_asset(suffix: str) -> str:
    """URL of the entry JS or CSS that index.html links to (its name has the content hash)."""
    found = re.findall(r'(?:src|href)="(/assets/[^"]+\.' + suffix + ')"', INDEX.read_text())
    assert found, f"index.html links no .{suffix} asset"
    return found[0]


def assert_security_headers(resp) -> None:
    assert resp.headers["Content-Security-Policy"] == CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_build_is_present():
    assert INDEX.is_file(), "server/webdist/index.html missing: run `cd web && npm ci && npm run build`"


# ---------------------------------------------------------------------------------------------
# index.html and the client routes
# ---------------------------------------------------------------------------------------------


async def test_root_serves_index_with_strict_headers(client):
    resp = await client.get("/", auto_decompress=False, headers={"Accept-Encoding": "identity"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert await resp.read() == INDEX.read_bytes()
    assert resp.headers["Cache-Control"] == "no-cache"
    assert "Content-Encoding" not in resp.headers
    assert resp.headers["X-Request-Id"]
    assert_security_headers(resp)
    # `/` is the app whatever the client accepts: there is no API at the root.
    resp = await client.get("/", headers={"Accept": "application/json"})
    assert resp.status == 200 and resp.content_type == "text/html"


@pytest.mark.parametrize("path", ["/browse", "/pitches/12", "/creator/dashboard", "/login/", "/a/b/c/d"])
async def test_client_routes_fall_back_to_index_for_browsers(client, path):
    resp = await client.get(path, headers=HTML)
    assert resp.status == 200, path
    assert await resp.read() == INDEX.read_bytes()
    assert resp.headers["Cache-Control"] == "no-cache"
    assert "Accept" in resp.headers.getall("Vary")
    assert_security_headers(resp)


async def test_client_route_without_html_accept_keeps_json_404(client, expect):
    # API clients (curl, fetch, the test client's */*) keep the envelope for unknown paths.
    for path in ("/browse", "/no/such/route"):
        body = await expect(await client.get(path), 404, "NOT_FOUND")
        assert path in body["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/unknown",
        "/api/definitely/not/here",
        "/ws/x",
        "/health/x",
        "/ready/x",
        "/metrics/x",
        "/assets",
        "/assets/nope",
    ],
)
async def test_reserved_paths_are_never_the_app(client, expect, path):
    # Even a browser asking for HTML gets the JSON 404 envelope under a server prefix.
    body = await expect(await client.get(path, headers=HTML), 404, "NOT_FOUND")
    assert path in body["error"]["message"]


async def test_routed_server_paths_are_not_shadowed(client, expect):
    for path in ("/health", "/ready"):
        resp = await client.get(path, headers=HTML)
        await expect(resp, 200)
        assert "Content-Security-Policy" not in resp.headers
    resp = await client.get("/metrics", headers=HTML)  # loopback: allowed without a token
    assert resp.status == 200 and resp.content_type == "text/plain", resp.content_type
    resp = await client.get("/ws", headers=HTML)  # a plain GET is no WebSocket handshake
    assert resp.status != 200 or resp.content_type != "text/html"
    assert (await resp.read()) != INDEX.read_bytes()
    resp = await client.get("/api/openapi.json", headers=HTML)
    assert resp.status == 200 and resp.content_type == "application/json"


async def test_other_methods_are_never_the_app(client, expect):
    await expect(await client.post("/browse", headers=HTML), 404, "NOT_FOUND")
    await expect(await client.post("/api/unknown", headers=HTML), 404, "NOT_FOUND")
    await expect(await client.delete("/health", headers=HTML), 405, "METHOD_NOT_ALLOWED")


async def test_missing_files_are_404_not_index(client, expect):
    for path in ("/assets/index-doesnotexist.js", "/robots.txt", "/pitches/12/poster.png"):
        await expect(await client.get(path, headers=HTML), 404, "NOT_FOUND")


async def test_head_is_answered_without_body(client):
    for path, headers in (("/", {}), ("/browse", HTML), (built_asset("js"), {})):
        get = await client.get(path, headers={**headers, "Accept-Encoding": "identity"})
        body = await get.read()
        head = await client.head(path, headers={**headers, "Accept-Encoding": "identity"})
        assert head.status == 200, path
        assert await head.read() == b""
        assert head.headers["Content-Length"] == str(len(body)), path
        assert head.headers["ETag"] == get.headers["ETag"]
        assert head.headers["Content-Type"] == get.headers["Content-Type"]


# ---------------------------------------------------------------------------------------------
# Assets: caching, compression, validators
# ---------------------------------------------------------------------------------------------


async def test_hashed_assets_are_immutable_and_typed(client):
    for suffix, ctype in (("js", "text/javascript"), ("css", "text/css")):
        url = built_asset(suffix)
        resp = await client.get(url, auto_decompress=False, headers={"Accept-Encoding": "identity"})
        assert resp.status == 200
        assert resp.content_type == ctype
        assert resp.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert await resp.read() == (WEBDIST / url.lstrip("/")).read_bytes()


async def test_assets_gzip_by_accept_encoding(client):
    url = built_asset("js")
    raw = (WEBDIST / url.lstrip("/")).read_bytes()
    resp = await client.get(url, auto_decompress=False, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert resp.headers["Vary"] == "Accept-Encoding"
    packed = await resp.read()
    assert len(packed) < len(raw) / 2
    assert gzip.decompress(packed) == raw
    assert int(resp.headers["Content-Length"]) == len(packed)
    gz_etag = resp.headers["ETag"]

    for refused in ("identity", "gzip;q=0", "br", "deflate, *;q=0", ""):
        resp = await client.get(url, auto_decompress=False, headers={"Accept-Encoding": refused})
        assert "Content-Encoding" not in resp.headers, refused
        assert resp.headers["Vary"] == "Accept-Encoding"
        assert await resp.read() == raw
        # Two representations, two validators: a cache never confuses them.
        assert resp.headers["ETag"] != gz_etag
    for accepted in ("*", "GZIP;q=0.5", "x-gzip"):
        resp = await client.get(url, auto_decompress=False, headers={"Accept-Encoding": accepted})
        assert resp.headers.get("Content-Encoding") == "gzip", accepted


async def test_etag_and_304(client):
    for url in ("/", built_asset("css"), "/favicon.svg"):
        for enc in ("gzip", "identity"):
            first = await client.get(url, auto_decompress=False, headers={"Accept-Encoding": enc})
            etag = first.headers["ETag"]
            assert re.fullmatch(r'"[0-9a-f]{24}(-gz)?"', etag), etag
            again = await client.get(
                url, auto_decompress=False, headers={"Accept-Encoding": enc, "If-None-Match": etag}
            )
            assert again.status == 304, (url, enc)
            assert await again.read() == b""
            assert again.headers["ETag"] == etag
            assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
            weak = await client.get(
                url, auto_decompress=False, headers={"Accept-Encoding": enc, "If-None-Match": f"W/{etag}"}
            )
            assert weak.status == 304
            stale = await client.get(
                url, auto_decompress=False, headers={"Accept-Encoding": enc, "If-None-Match": '"other"'}
            )
            assert stale.status == 200
    raw = INDEX.read_bytes()
    first = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert first.headers["ETag"] == '"' + hashlib.sha256(raw).hexdigest()[:24] + '"'


async def test_favicon(client):
    resp = await client.get("/favicon.svg", auto_decompress=False, headers={"Accept-Encoding": "identity"})
    assert resp.status == 200
    assert resp.content_type == "image/svg+xml"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert await resp.read() == (WEBDIST / "favicon.svg").read_bytes()


# ---------------------------------------------------------------------------------------------
# Everything else stays as it was
# ---------------------------------------------------------------------------------------------


async def test_json_compression_and_access_log_unaffected(client, log_capture):
    stream = log_capture("text", "INFO")
    resp = await client.get("/api/openapi.json", auto_decompress=False, headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    assert "Content-Security-Policy" not in resp.headers
    assert "immutable" not in resp.headers.get("Cache-Control", "")
    await resp.read()
    await (await client.get("/", headers=HTML)).read()
    await (await client.get("/browse", headers=HTML)).read()
    await (await client.get(built_asset("js"))).read()
    await (await client.get("/assets/gone.js")).read()
    log = stream.getvalue()
    assert re.search(r" GET / 200 ", log), log
    assert re.search(r" GET /browse 200 ", log), log
    assert re.search(r" GET /assets/index-[^ ]+\.js 200 ", log), log
    assert re.search(r" GET /assets/gone\.js 404 ", log), log


async def test_cors_applies_to_app_files_like_any_answer(make_client):
    origin = "https://app.example.com"
    client = await make_client(cors_origins=origin)
    resp = await client.get("/", headers={"Origin": origin})
    assert resp.headers["Access-Control-Allow-Origin"] == origin


async def test_unbuilt_checkout_explains_how_to_build(make_client, tmp_path: Path):
    empty = tmp_path / "webdist"
    empty.mkdir()  # a checkout that never ran the build
    client = await make_client(web_dir=empty)
    for path, headers in (("/", {}), ("/browse", HTML)):
        resp = await client.get(path, headers=headers)
        assert resp.status == 503, path
        assert resp.content_type == "text/html"
        text = await resp.text()
        assert "npm run build" in text and "cd web" in text
        assert resp.headers["Cache-Control"] == "no-store"
        assert_security_headers(resp)
    resp = await client.get("/health")
    assert resp.status == 200


async def test_web_dir_serves_another_build(make_client, tmp_path: Path, expect):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>other build</title>")
    (tmp_path / "assets" / "app-1234.js").write_text("console.log('other');\n" * 100)
    client = await make_client(web_dir=tmp_path)
    assert "other build" in await (await client.get("/")).text()
    assert "other build" in await (await client.get("/browse", headers=HTML)).text()
    resp = await client.get("/assets/app-1234.js")
    assert resp.status == 200 and resp.headers["Cache-Control"] == IMMUTABLE
    assert resp.headers["Content-Encoding"] == "gzip"
    assert (await resp.text()).startswith("console.log('other');")
    await expect(await client.get(built_asset("js")), 404, "NOT_FOUND")  # not the package's build


def test_csp_allows_the_s3_origin_for_media_only(make_settings):
    settings = make_settings(
        s3_endpoint="https://acct.r2.example.com:8443/some/path",
        s3_bucket="media",
        s3_access_key_id="k",
        s3_secret_access_key="s",
    )
    csp = content_security_policy(settings)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    origin = "https://acct.r2.example.com:8443"
    assert directives["img-src"] == f"'self' data: blob: {origin}"
    assert directives["media-src"] == f"'self' blob: {origin}"
    assert directives["frame-src"] == f"'self' {origin}"  # the deck's <iframe> follows the 302
    assert [d for d, v in directives.items() if origin in v] == ["img-src", "media-src", "frame-src"]
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
