"""The HTTP surface: envelope and errors, limits, readiness, OpenAPI, and what the logs hold."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from aiohttp import web

from pitchey.server.api import openapi_path
from pitchey.server.app import API
from pitchey.server.state import APP_STATE

REGISTER = "/api/auth/creator/register"
LOGIN = "/api/auth/creator/login"
MIB = 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Envelope and errors
# ---------------------------------------------------------------------------------------------


async def test_bad_json_is_400(client, expect):
    resp = await client.post(
        REGISTER, data=b'{"email": "a@b.com", ', headers={"Content-Type": "application/json"}
    )
    await expect(resp, 400, "INVALID_JSON")


@pytest.mark.parametrize("raw", [b"[]", b'[{"email": "a@b.com"}]', b'"text"', b"42", b"null"])
async def test_non_object_json_is_422(client, expect, raw):
    resp = await client.post(REGISTER, data=raw, headers={"Content-Type": "application/json"})
    await expect(resp, 422, "VALIDATION_ERROR")


async def test_non_json_content_type_is_415(client, expect, db_conn):
    body = json.dumps({"email": "ct@example.com", "password": "password123"})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        resp = await client.post(REGISTER, data=body, headers={"Content-Type": ctype})
        await expect(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 0


async def test_json_suffix_content_type_is_accepted(client, expect):
    body = json.dumps({"email": "ct@example.com", "password": "password123"})
    resp = await client.post(REGISTER, data=body, headers={"Content-Type": "application/vnd.api+json"})
    await expect(resp, 201)


async def test_unknown_route_is_404_envelope(client, expect):
    resp = await client.get("/api/definitely/not/here")
    body = await expect(resp, 404, "NOT_FOUND")
    assert "/api/definitely/not/here" in body["error"]["message"]


async def test_wrong_method_is_405(client, expect):
    resp = await client.get(REGISTER)
    await expect(resp, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in resp.headers.get("Allow", "")
    resp = await client.delete("/api/auth/session")
    await expect(resp, 405, "METHOD_NOT_ALLOWED")


async def test_body_over_limit_with_content_length_is_413(client, expect, db_conn):
    big = json.dumps({"email": "big@example.com", "password": "x" * (MIB + 10)}).encode()
    resp = await client.post(REGISTER, data=big, headers={"Content-Type": "application/json"})
    assert resp.request_info.headers.get("Content-Length") == str(len(big))
    await expect(resp, 413, "PAYLOAD_TOO_LARGE")
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 0


async def test_chunked_body_over_limit_is_413(client, expect, db_conn):
    chunk = b" " * (64 * 1024)

    async def body():
        yield b'{"email": "chunk@example.com", "password": "password123"'
        for _ in range(24):  # 1.5 MiB of whitespace: valid JSON, but too much of it
            yield chunk
        yield b"}"

    resp = await client.post(REGISTER, data=body(), headers={"Content-Type": "application/json"})
    assert "Content-Length" not in resp.request_info.headers
    assert resp.request_info.headers.get("Transfer-Encoding") == "chunked"
    await expect(resp, 413, "PAYLOAD_TOO_LARGE")
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 0


async def test_chunked_body_under_limit_is_accepted(client, expect):
    async def body():
        yield b'{"email": "smallchunk@example.com", '
        yield b" " * 4096
        yield b'"password": "password123"}'

    resp = await client.post(REGISTER, data=body(), headers={"Content-Type": "application/json"})
    await expect(resp, 201)


async def test_connection_usable_after_413(client, expect):
    big = b'{"email": "' + b"a" * (MIB + 1) + b'"}'
    for _ in range(2):
        resp = await client.post(REGISTER, data=big, headers={"Content-Type": "application/json"})
        await expect(resp, 413, "PAYLOAD_TOO_LARGE")
        await expect(await client.get("/health"), 200)


async def test_cors_headers_on_success_and_error_responses(make_client, register, expect):
    origin = "https://app.example.com"
    client = await make_client(cors_origins=f"{origin}/")
    resp = await client.options(LOGIN, headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    cases = [
        ("GET", "/health", None, 200),
        ("POST", LOGIN, {"email": "nobody@example.com", "password": "nope"}, 401),
        ("POST", REGISTER, {"email": "bad"}, 422),
        ("GET", "/api/auth/session", None, 401),
        ("GET", "/no/such/route", None, 404),
        ("DELETE", "/health", None, 405),
    ]
    for method, path, payload, status in cases:
        resp = await client.request(method, path, json=payload, headers={"Origin": origin})
        await expect(resp, status)
        assert resp.headers.get("Access-Control-Allow-Origin") == origin, (path, resp.headers)
        assert resp.headers.get("Access-Control-Allow-Credentials") == "true"
        assert "X-Request-Id" in resp.headers["Access-Control-Expose-Headers"]
        assert resp.headers.getall("Vary").count("Origin") == 1
    # A foreign origin gets none of it, on success or error.
    for path, status in (("/health", 200), ("/api/auth/session", 401)):
        resp = await client.get(path, headers={"Origin": "https://evil.example"})
        await expect(resp, status)
        assert "Access-Control-Allow-Origin" not in resp.headers
    resp = await client.options(
        LOGIN, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    await expect(resp, 403, "FORBIDDEN")


async def test_database_outage_is_503_and_not_ready(client, register, auth_headers, expect):
    _, token = await register(client, "creator")
    state = client.app[APP_STATE]
    await state.database.pool.close()
    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    await expect(resp, 503, "UNAVAILABLE")
    assert resp.headers["Retry-After"] == "5"
    body = await expect(await client.get("/ready"), 503, "UNAVAILABLE")
    assert body["error"]["details"]["status"] == "unavailable"
    assert body["error"]["details"]["checks"]["database"] == "unavailable"
    await expect(await client.get("/health"), 200)  # liveness does not depend on the database


async def test_incoming_request_id_echoed_or_replaced(client, expect):
    good = "trace-0123456789.abc_DEF"
    resp = await client.get("/health", headers={"X-Request-Id": good})
    body = await expect(resp, 200)
    assert resp.headers["X-Request-Id"] == good
    assert body["meta"]["requestId"] == good

    bad_ids = ("short", "has spaces in it", "x" * 65, "<script>alert(1)</script>", "ünïcödé-id")
    for bad in bad_ids:
        resp = await client.get("/health", headers={"X-Request-Id": bad})
        body = await expect(resp, 200)
        rid = resp.headers["X-Request-Id"]
        assert rid != bad
        assert re.fullmatch(r"[0-9a-f]{16}", rid)
        assert body["meta"]["requestId"] == rid

    # Errors carry it too, and every request gets its own.
    r1 = await client.get("/nope")
    r2 = await client.get("/nope")
    b1 = await expect(r1, 404)
    b2 = await expect(r2, 404)
    assert b1["meta"]["requestId"] != b2["meta"]["requestId"]


async def test_unexpected_exception_is_500_without_details(app_factory, make_client, expect, log_capture):
    stream = log_capture("text", "DEBUG")

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail")

    app = app_factory()
    app.router.add_get("/boom", boom)
    client = await make_client(app)
    resp = await client.get("/boom")
    text = await resp.text()
    body = await expect(resp, 500, "INTERNAL")
    assert "secret detail" not in text
    assert "Traceback" not in text and "RuntimeError" not in text
    rid = body["meta"]["requestId"]
    log = stream.getvalue()
    assert rid in log
    assert "secret detail" in log  # the operator does get the detail, in the log
    error_lines = [ln for ln in log.splitlines() if "unhandled error" in ln]
    assert len(error_lines) == 1 and rid in error_lines[0]


# ---------------------------------------------------------------------------------------------
# Rate limits
# ---------------------------------------------------------------------------------------------


async def test_login_failures_limited_per_email(make_client, register, expect):
    client = await make_client(login_failure_limit="3/minute")
    await register(client, "creator", email="victim@example.com", password="the-right-password")
    await register(client, "creator", email="bystander@example.com", password="the-right-password")
    for _ in range(3):
        resp = await client.post(LOGIN, json={"email": "victim@example.com", "password": "nope"})
        await expect(resp, 401, "INVALID_CREDENTIALS")
    # Fourth attempt: refused even with the right password (and whatever the email's case).
    for email in ("victim@example.com", "VICTIM@example.com "):
        resp = await client.post(LOGIN, json={"email": email, "password": "the-right-password"})
        body = await expect(resp, 429, "RATE_LIMITED")
        retry = int(resp.headers["Retry-After"])
        assert 1 <= retry <= 60
        assert body["error"]["details"]["retryAfter"] == retry
    # Another account is unaffected.
    resp = await client.post(LOGIN, json={"email": "bystander@example.com", "password": "the-right-password"})
    await expect(resp, 200)


async def test_successful_login_resets_failure_count(make_client, register, expect):
    client = await make_client(login_failure_limit="3/minute")
    await register(client, "creator", email="forgetful@example.com", password="the-right-password")
    for _ in range(2):
        resp = await client.post(LOGIN, json={"email": "forgetful@example.com", "password": "no"})
        await expect(resp, 401)
    resp = await client.post(LOGIN, json={"email": "forgetful@example.com", "password": "the-right-password"})
    await expect(resp, 200)
    for _ in range(2):
        resp = await client.post(LOGIN, json={"email": "forgetful@example.com", "password": "no"})
        await expect(resp, 401)
    resp = await client.post(LOGIN, json={"email": "forgetful@example.com", "password": "the-right-password"})
    await expect(resp, 200)


async def test_auth_requests_limited_per_ip(make_client, expect):
    client = await make_client(auth_ip_limit="5/minute")
    for i in range(3):
        resp = await client.post(LOGIN, json={"email": f"x{i}@example.com", "password": "nope"})
        await expect(resp, 401)
    for i in range(2):
        resp = await client.post(REGISTER, json={"email": f"ip{i}@example.com", "password": "password123"})
        await expect(resp, 201)
    resp = await client.post(REGISTER, json={"email": "ip9@example.com", "password": "password123"})
    body = await expect(resp, 429, "RATE_LIMITED")
    assert int(resp.headers["Retry-After"]) == body["error"]["details"]["retryAfter"] >= 1
    resp = await client.post(LOGIN, json={"email": "ip0@example.com", "password": "password123"})
    await expect(resp, 429, "RATE_LIMITED")
    # Non-auth endpoints are not limited by it.
    await expect(await client.get("/health"), 200)


async def test_per_ip_limit_behind_trusted_proxy_uses_the_proxys_hop(make_client, expect):
    """The proxy appends the real client address last; what a client puts first is spoofable."""
    client = await make_client(auth_ip_limit="2/minute", trust_proxy=True)
    for i in range(2):
        resp = await client.post(
            LOGIN,
            json={"email": "p@example.com", "password": "nope"},
            headers={"X-Forwarded-For": f"1.2.3.{i}, 10.0.0.1"},
        )
        await expect(resp, 401)
    # Rotating the client-supplied part does not buy a fresh budget.
    resp = await client.post(
        LOGIN,
        json={"email": "q@example.com", "password": "nope"},
        headers={"X-Forwarded-For": "9.9.9.9, 10.0.0.1"},
    )
    await expect(resp, 429, "RATE_LIMITED")
    # Another real client (another last hop) has its own budget.
    resp = await client.post(
        LOGIN,
        json={"email": "q@example.com", "password": "nope"},
        headers={"X-Forwarded-For": "10.0.0.1, 10.0.0.2"},
    )
    await expect(resp, 401)


async def test_forwarded_for_ignored_without_trust_proxy(make_client, expect):
    client = await make_client(auth_ip_limit="2/minute", trust_proxy=False)
    for i in range(2):
        resp = await client.post(
            LOGIN,
            json={"email": "p@example.com", "password": "nope"},
            headers={"X-Forwarded-For": f"10.0.0.{i}"},
        )
        await expect(resp, 401)
    resp = await client.post(
        LOGIN, json={"email": "p@example.com", "password": "nope"}, headers={"X-Forwarded-For": "10.0.0.99"}
    )
    await expect(resp, 429, "RATE_LIMITED")


# ---------------------------------------------------------------------------------------------
# Readiness and OpenAPI
# ---------------------------------------------------------------------------------------------


async def test_health(client, expect):
    body = await expect(await client.get("/health"), 200)
    assert body["data"] == {"status": "ok"}


async def test_ready(client, expect):
    body = await expect(await client.get("/ready"), 200)
    assert body["data"]["status"] == "ready"
    assert body["data"]["checks"]["database"] == "ok"
    assert body["data"]["checks"]["pendingMigrations"] == []


async def test_openapi_document_covers_every_endpoint(client):
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    assert resp.headers.get("X-Request-Id")
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]

    endpoints = client.app[API].endpoints
    assert len(endpoints) >= 7
    expected = {(openapi_path(ep.path)[0], ep.method.lower()) for ep in endpoints}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == expected
    for path, method in expected:
        assert "{portal:" not in path
        op = doc["paths"][path][method]
        assert op["summary"] and op["responses"]
    # ... and each of them is really routed by the app.
    routed = {
        (r.resource.canonical, r.method.lower())
        for r in client.app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    assert expected <= routed

    schemas = doc["components"]["schemas"]
    for path, model, fields in (
        ("/api/auth/{portal}/register", "RegisterBody", {"email", "password", "companyName"}),
        ("/api/auth/{portal}/login", "LoginBody", {"email", "password"}),
    ):
        op = doc["paths"][path]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{model}"
        assert fields <= set(schemas[model]["properties"])
        assert {"email", "password"} <= set(schemas[model]["required"])
        portal = next(p for p in op["parameters"] if p["name"] == "portal")
        assert portal["in"] == "path"
        assert set(portal["schema"]["enum"]) == {"creator", "investor", "production"}
    assert schemas["RegisterBody"]["properties"]["password"]["minLength"] == 8
    session = doc["paths"]["/api/auth/session"]["get"]
    assert "401" in session["responses"]
    assert session["security"]


# ---------------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------------


async def _traffic(client, expect, auth_headers, cookie_headers, password):
    """Register, login, session (bearer and cookie), a failed login and logout, each with a
    known request id. Returns (request ids, tokens, header values sent)."""
    rids: list[str] = []
    tokens: list[str] = []
    sent: list[str] = []

    def rid() -> dict[str, str]:
        rids.append(f"log-test-{len(rids):04d}")
        return {"X-Request-Id": rids[-1]}

    resp = await client.post(
        REGISTER, json={"email": "logs@example.com", "password": password}, headers=rid()
    )
    tokens.append((await expect(resp, 201))["data"]["token"])
    resp = await client.post(LOGIN, json={"email": "logs@example.com", "password": password}, headers=rid())
    token = (await expect(resp, 200))["data"]["token"]
    tokens.append(token)
    headers = auth_headers(token)
    sent.append(headers["Authorization"])
    await expect(await client.get("/api/auth/session", headers={**headers, **rid()}), 200)
    cookie = cookie_headers(token)
    sent.append(cookie["Cookie"])
    await expect(await client.get("/api/auth/session", headers={**cookie, **rid()}), 200)
    resp = await client.post(
        LOGIN, json={"email": "logs@example.com", "password": password + "-wrong"}, headers=rid()
    )
    await expect(resp, 401)
    await expect(await client.post("/api/auth/logout", headers={**headers, **rid()}), 200)
    await expect(await client.get("/api/auth/session", headers={**headers, **rid()}), 401)
    return rids, tokens, sent


def _assert_no_secrets(log: str, password: str, tokens: list[str], sent: list[str]) -> None:
    assert password not in log
    for token in tokens:
        assert token not in log
        for i in range(len(token) - 20 + 1):
            assert token[i : i + 20] not in log, f"token fragment {token[i : i + 20]!r} logged"
    for value in sent:
        assert value not in log


async def test_text_logs_hold_no_secrets_and_one_access_line_per_request(
    client, expect, auth_headers, cookie_headers, log_capture
):
    stream = log_capture("text", "DEBUG")
    password = "Log-Password-Secret-42"
    rids, tokens, sent = await _traffic(client, expect, auth_headers, cookie_headers, password)
    await asyncio.sleep(0)
    log = stream.getvalue()
    _assert_no_secrets(log, password, tokens, sent)
    access = [ln for ln in log.splitlines() if " pitchey.access " in ln]
    assert len(access) == len(rids), access
    for rid in rids:
        mine = [ln for ln in access if rid in ln]
        assert len(mine) == 1, (rid, access)
    assert re.search(r"log-test-0000 POST /api/auth/creator/register 201 \d+\.\dms", log)
    assert re.search(r"log-test-0004 POST /api/auth/creator/login 401 ", log)


async def test_json_logs_one_object_per_line(client, expect, auth_headers, cookie_headers, log_capture):
    stream = log_capture("json", "DEBUG")
    password = "Json-Log-Password-77"
    rids, tokens, sent = await _traffic(client, expect, auth_headers, cookie_headers, password)
    log = stream.getvalue()
    _assert_no_secrets(log, password, tokens, sent)
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert all(isinstance(r, dict) for r in records)
    access = [r for r in records if r["logger"] == "pitchey.access"]
    assert [r["request_id"] for r in access] == rids
    first = access[0]
    assert first["method"] == "POST"
    assert first["path"] == REGISTER
    assert first["status"] == 201
    assert isinstance(first["duration_ms"], float | int) and first["duration_ms"] >= 0
    assert first["level"] == "INFO" and first["ts"].endswith("Z")
    assert [r["status"] for r in access] == [201, 200, 200, 200, 401, 200, 401]


async def test_redaction_filter_scrubs_secrets_in_messages(log_capture):
    import logging

    stream = log_capture("text", "DEBUG")
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    logging.getLogger("pitchey.test").warning(
        "oops Authorization: Bearer %s password=%s", token, "hunter2hunter2"
    )
    try:
        raise ValueError(f"token={token}")
    except ValueError:
        logging.getLogger("pitchey.test").exception("failed")
    log = stream.getvalue()
    assert token not in log and "hunter2hunter2" not in log
    assert "[REDACTED" in log
