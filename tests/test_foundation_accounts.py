"""Accounts, login and sessions over real HTTP against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime
from http.cookies import SimpleCookie

import pytest

PORTALS = ("creator", "investor", "production")
CAMEL_USER_KEYS = {"id", "email", "username", "name", "companyName", "userType", "createdAt"}


def parse_set_cookie(resp, name: str = "pitchey_session"):
    """The Set-Cookie header for `name` (raw string and parsed morsel)."""
    headers = [h for h in resp.headers.getall("Set-Cookie", []) if h.startswith(f"{name}=")]
    assert len(headers) == 1, resp.headers.getall("Set-Cookie", [])
    jar = SimpleCookie()
    jar.load(headers[0])
    return headers[0], jar[name]


def attrs(raw: str) -> set[str]:
    return {part.strip().split("=", 1)[0].lower() for part in raw.split(";")[1:]}


# ---------------------------------------------------------------------------------------------
# Register
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("portal", PORTALS)
async def test_register_in_each_portal(client, expect, auth_headers, portal):
    other = next(p for p in PORTALS if p != portal)
    resp = await client.post(
        f"/api/auth/{portal}/register",
        json={
            "email": f"new-{portal}@example.com",
            "password": "s3cret-pass!",
            "username": f"user_{portal}",
            "name": "Ann Example",
            "companyName": "Acme",
            "userType": other,
        },
    )
    body = await expect(resp, 201)
    data = body["data"]
    assert set(data) == {"user", "token", "expiresAt"}
    user = data["user"]
    assert set(user) == CAMEL_USER_KEYS
    assert user["userType"] == portal  # from the path, never the body
    assert user["email"] == f"new-{portal}@example.com"
    assert user["username"] == f"user_{portal}"
    assert user["companyName"] == "Acme"
    assert isinstance(user["id"], int) and user["id"] >= 1
    datetime.fromisoformat(user["createdAt"].replace("Z", "+00:00"))
    exp = datetime.fromisoformat(data["expiresAt"].replace("Z", "+00:00"))
    assert exp.timestamp() > datetime.now().timestamp() + 3600
    assert resp.headers.get("Cache-Control") == "no-store"
    # The token works.
    resp = await client.get("/api/auth/session", headers=auth_headers(data["token"]))
    session = (await expect(resp, 200))["data"]
    assert session["user"]["id"] == user["id"]
    assert session["user"]["userType"] == portal


async def test_email_is_normalised_and_unique_case_insensitively(client, expect, db_conn):
    resp = await client.post(
        "/api/auth/creator/register", json={"email": "  A@B.com ", "password": "password123"}
    )
    body = await expect(resp, 201)
    assert body["data"]["user"]["email"] == "a@b.com"
    assert await db_conn.fetchval("SELECT email FROM users") == "a@b.com"

    for email, portal in (("a@b.com", "creator"), ("A@B.COM", "investor"), (" a@B.com", "production")):
        resp = await client.post(
            f"/api/auth/{portal}/register", json={"email": email, "password": "password123"}
        )
        await expect(resp, 409, "EMAIL_EXISTS")
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 1


async def test_username_unique_case_insensitively(client, expect, db_conn):
    resp = await client.post(
        "/api/auth/creator/register",
        json={"email": "one@example.com", "password": "password123", "username": "FilmMaker"},
    )
    await expect(resp, 201)
    resp = await client.post(
        "/api/auth/investor/register",
        json={"email": "two@example.com", "password": "password123", "username": "filmmaker"},
    )
    await expect(resp, 409, "USERNAME_EXISTS")
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 1


async def test_short_password_is_a_validation_error(client, expect, db_conn):
    resp = await client.post(
        "/api/auth/creator/register", json={"email": "short@example.com", "password": "1234567"}
    )
    body = await expect(resp, 422, "VALIDATION_ERROR")
    fields = [d["field"] for d in body["error"]["details"]]
    assert "password" in fields
    assert "password" in body["error"]["message"]
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 0
    # Eight characters is enough.
    resp = await client.post(
        "/api/auth/creator/register", json={"email": "short@example.com", "password": "12345678"}
    )
    await expect(resp, 201)


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", "a b@c.com", ""])
async def test_bad_email_is_a_validation_error(client, expect, email):
    resp = await client.post("/api/auth/creator/register", json={"email": email, "password": "password123"})
    body = await expect(resp, 422, "VALIDATION_ERROR")
    assert any(d["field"] == "email" for d in body["error"]["details"])


async def test_missing_fields_are_named(client, expect):
    resp = await client.post("/api/auth/creator/register", json={})
    body = await expect(resp, 422, "VALIDATION_ERROR")
    assert {d["field"] for d in body["error"]["details"]} >= {"email", "password"}


async def test_password_stored_as_argon2id_hash(client, register, db_conn):
    password = "my plaintext password"
    user, _ = await register(client, "creator", email="hash@example.com", password=password)
    row = await db_conn.fetchrow("SELECT * FROM users WHERE id = $1", user["id"])
    assert row["password_hash"].startswith("$argon2id$")
    for value in dict(row).values():
        assert password not in str(value)


async def test_concurrent_registrations_with_one_email(client, expect, db_conn):
    """Uniqueness is the database's: a race gives one 201 and 409s, never a 500."""

    async def attempt(i: int):
        resp = await client.post(
            f"/api/auth/{PORTALS[i % 3]}/register",
            json={"email": "race@example.com" if i % 2 else "RACE@example.com", "password": "password123"},
        )
        await resp.read()
        return resp.status

    statuses = await asyncio.gather(*(attempt(i) for i in range(8)))
    assert sorted(statuses) == [201] + [409] * 7
    assert await db_conn.fetchval("SELECT count(*) FROM users") == 1


async def test_password_is_not_trimmed(client, register, expect):
    await register(client, "creator", email="spaces@example.com", password="  padded secret  ")
    resp = await client.post(
        "/api/auth/creator/login", json={"email": "spaces@example.com", "password": "padded secret"}
    )
    await expect(resp, 401, "INVALID_CREDENTIALS")
    resp = await client.post(
        "/api/auth/creator/login", json={"email": "spaces@example.com", "password": "  padded secret  "}
    )
    await expect(resp, 200)
    # Whitespace counts towards the length like any other character.
    resp = await client.post(
        "/api/auth/creator/register", json={"email": "blank@example.com", "password": "  abc   "}
    )
    await expect(resp, 201)


# ---------------------------------------------------------------------------------------------
# Login
# ---------------------------------------------------------------------------------------------


async def test_login_ok_and_token_works(client, register, expect, auth_headers):
    user, _ = await register(client, "investor", email="inv@example.com")
    resp = await client.post(
        "/api/auth/investor/login",
        json={"email": " INV@example.com", "password": "correct horse battery staple"},
    )
    body = await expect(resp, 200)
    assert set(body["data"]) == {"user", "token", "expiresAt"}
    assert body["data"]["user"]["id"] == user["id"]
    token = body["data"]["token"]
    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    data = (await expect(resp, 200))["data"]
    assert data["user"]["email"] == "inv@example.com"
    assert data["user"]["userType"] == "investor"
    assert "expiresAt" in data


async def test_login_wrong_password_and_unknown_email_look_the_same(client, register, expect):
    await register(client, "creator", email="who@example.com")
    resp = await client.post(
        "/api/auth/creator/login", json={"email": "who@example.com", "password": "wrong password"}
    )
    wrong = await expect(resp, 401, "INVALID_CREDENTIALS")
    resp = await client.post(
        "/api/auth/creator/login", json={"email": "nobody@example.com", "password": "wrong password"}
    )
    unknown = await expect(resp, 401, "INVALID_CREDENTIALS")
    assert wrong["error"]["message"] == unknown["error"]["message"]
    assert "set-cookie" not in {k.lower() for k in resp.headers}


async def test_login_through_another_portal_is_wrong_portal(client, register, expect):
    await register(client, "production", email="prod@example.com")
    for portal in ("creator", "investor"):
        resp = await client.post(
            f"/api/auth/{portal}/login",
            json={"email": "prod@example.com", "password": "correct horse battery staple"},
        )
        body = await expect(resp, 403, "WRONG_PORTAL")
        assert "token" not in str(body)
        assert not resp.headers.getall("Set-Cookie", [])


async def test_wrong_password_through_another_portal_is_invalid_credentials(client, register, expect):
    await register(client, "production", email="prod2@example.com")
    resp = await client.post(
        "/api/auth/creator/login", json={"email": "prod2@example.com", "password": "not the password"}
    )
    await expect(resp, 401, "INVALID_CREDENTIALS")


async def test_unknown_portal_is_not_found(client, expect):
    resp = await client.post(
        "/api/auth/admin/register", json={"email": "adm@example.com", "password": "password123"}
    )
    await expect(resp, 404, "NOT_FOUND")


# ---------------------------------------------------------------------------------------------
# Session, cookies and CSRF
# ---------------------------------------------------------------------------------------------


async def test_session_requires_credentials(client, expect):
    resp = await client.get("/api/auth/session")
    await expect(resp, 401, "UNAUTHORIZED")


async def test_session_with_cookie_alone(client, register, expect, cookie_headers):
    resp = await client.post(
        "/api/auth/creator/register", json={"email": "cookie@example.com", "password": "password123"}
    )
    body = await expect(resp, 201)
    raw, morsel = parse_set_cookie(resp)
    assert morsel.value == body["data"]["token"]
    a = attrs(raw)
    assert "httponly" in a
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert "secure" not in a  # plain http
    assert int(morsel["max-age"]) > 3600

    resp = await client.get("/api/auth/session", headers=cookie_headers(morsel.value))
    data = (await expect(resp, 200))["data"]
    assert data["user"]["email"] == "cookie@example.com"


async def test_session_cookie_via_browser_like_jar(make_client, expect):
    client = await make_client(keep_cookies=True)
    resp = await client.post(
        "/api/auth/creator/register", json={"email": "jar@example.com", "password": "password123"}
    )
    await expect(resp, 201)
    resp = await client.get("/api/auth/session")  # the jar sends the cookie
    data = (await expect(resp, 200))["data"]
    assert data["user"]["email"] == "jar@example.com"


async def test_cookie_secure_behind_trusted_https_proxy(make_client, expect):
    client = await make_client(trust_proxy=True)
    resp = await client.post(
        "/api/auth/creator/register",
        json={"email": "sec@example.com", "password": "password123"},
        headers={"X-Forwarded-Proto": "https"},
    )
    await expect(resp, 201)
    raw, _ = parse_set_cookie(resp)
    assert "secure" in attrs(raw)
    assert "httponly" in attrs(raw)


async def test_forwarded_proto_ignored_without_trust_proxy(make_client, expect):
    client = await make_client(trust_proxy=False)
    resp = await client.post(
        "/api/auth/creator/register",
        json={"email": "notsec@example.com", "password": "password123"},
        headers={"X-Forwarded-Proto": "https"},
    )
    await expect(resp, 201)
    raw, _ = parse_set_cookie(resp)
    assert "secure" not in attrs(raw)


async def test_cookie_secure_always(make_client, register, expect):
    client = await make_client(cookie_secure="always")
    resp = await client.post(
        "/api/auth/creator/register", json={"email": "always@example.com", "password": "password123"}
    )
    await expect(resp, 201)
    raw, _ = parse_set_cookie(resp)
    assert "secure" in attrs(raw)


async def test_cookie_post_from_foreign_origin_is_refused(client, register, expect, cookie_headers):
    _, token = await register(client, "creator")
    headers = {**cookie_headers(token), "Origin": "http://evil.example"}
    resp = await client.post("/api/auth/logout", headers=headers)
    await expect(resp, 403, "FORBIDDEN")
    # Not logged out: the token still works.
    resp = await client.get("/api/auth/session", headers=cookie_headers(token))
    await expect(resp, 200)

    same = f"http://{client.host}:{client.port}"
    resp = await client.post("/api/auth/logout", headers={**cookie_headers(token), "Origin": same})
    body = await expect(resp, 200)
    assert body["data"] == {"loggedOut": True}
    resp = await client.get("/api/auth/session", headers=cookie_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")


async def test_cookie_get_from_foreign_origin_is_allowed(client, register, expect, cookie_headers):
    """Safe methods are not writes: SameSite and CORS already keep their answers private."""
    _, token = await register(client, "creator")
    resp = await client.get(
        "/api/auth/session", headers={**cookie_headers(token), "Origin": "http://evil.example"}
    )
    await expect(resp, 200)
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_configured_cors_origin_may_post_with_cookie(make_client, register, expect, cookie_headers):
    client = await make_client(cors_origins="https://app.example.com")
    _, token = await register(client, "creator")
    resp = await client.post(
        "/api/auth/logout", headers={**cookie_headers(token), "Origin": "https://app.example.com"}
    )
    await expect(resp, 200)
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
