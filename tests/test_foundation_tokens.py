"""Session tokens: forgery, expiry, revocation, the secret, and persistence across restarts."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import stat
import time
import uuid

import jwt
import pytest

from pitchey.server.settings import SettingsError, load_or_create_secret, load_settings
from pitchey.server.state import APP_STATE


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj: object) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def claims_for(user: dict, **over: object) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(user["id"]),
        "userId": user["id"],
        "email": user["email"],
        "userType": user["userType"],
        "iat": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
    }
    claims.update(over)
    return claims


def read_secret(settings) -> str:
    return (settings.data_dir / "jwt_secret").read_text().strip()


async def session_status(client, headers) -> int:
    resp = await client.get("/api/auth/session", headers=headers)
    await resp.read()
    return resp.status


# ---------------------------------------------------------------------------------------------
# Forged and malformed tokens
# ---------------------------------------------------------------------------------------------


async def test_missing_token(client, expect):
    await expect(await client.get("/api/auth/session"), 401, "UNAUTHORIZED")


async def test_hand_minted_token_with_real_secret_is_accepted(
    client, settings, register, auth_headers, expect
):
    """The control for the forgery tests below: our minting matches the server's."""
    user, _ = await register(client, "creator")
    token = jwt.encode(claims_for(user), read_secret(settings), algorithm="HS256")
    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    assert (await expect(resp, 200))["data"]["user"]["id"] == user["id"]


async def test_tampered_signature(client, register, auth_headers, expect):
    _, token = await register(client, "creator")
    header, payload, sig = token.split(".")
    # Change a character in the middle: the last one may only carry padding bits.
    i = len(sig) // 2
    sig = sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1 :]
    resp = await client.get("/api/auth/session", headers=auth_headers(f"{header}.{payload}.{sig}"))
    await expect(resp, 401, "UNAUTHORIZED")


async def test_tampered_payload(client, register, auth_headers, expect):
    _, token = await register(client, "creator")
    other, _ = await register(client, "investor")
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(userId=other["id"], sub=str(other["id"]), userType="investor")
    forged = f"{header}.{b64url_json(claims)}.{sig}"
    resp = await client.get("/api/auth/session", headers=auth_headers(forged))
    await expect(resp, 401, "UNAUTHORIZED")


async def test_garbage_tokens(client, auth_headers, expect):
    for token in ("x", "a.b.c", "eyJ.eyJ.", "....", "Bearer"):
        resp = await client.get("/api/auth/session", headers=auth_headers(token))
        await expect(resp, 401, "UNAUTHORIZED")


async def test_expired_token(client, settings, register, auth_headers, cookie_headers, expect):
    user, _ = await register(client, "creator")
    now = int(time.time())
    token = jwt.encode(
        claims_for(user, iat=now - 7200, exp=now - 60), read_secret(settings), algorithm="HS256"
    )
    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")
    resp = await client.get("/api/auth/session", headers=cookie_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")


async def test_alg_none_token(client, register, auth_headers, expect):
    user, _ = await register(client, "creator")
    claims = claims_for(user)
    for alg in ("none", "None", "NONE"):
        token = f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(claims)}."
        resp = await client.get("/api/auth/session", headers=auth_headers(token))
        await expect(resp, 401, "UNAUTHORIZED")


async def test_hs512_with_same_secret(client, settings, register, auth_headers, expect):
    user, _ = await register(client, "creator")
    token = jwt.encode(claims_for(user), read_secret(settings), algorithm="HS512")
    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")


async def test_rs256_labelled_token_signed_with_secret(client, settings, register, auth_headers, expect):
    """Algorithm confusion: an 'RS256' header over an HMAC made with the shared secret."""
    user, _ = await register(client, "creator")
    secret = read_secret(settings).encode()
    signing_input = f"{b64url_json({'alg': 'RS256', 'typ': 'JWT'})}.{b64url_json(claims_for(user))}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    resp = await client.get("/api/auth/session", headers=auth_headers(f"{signing_input}.{b64url(sig)}"))
    await expect(resp, 401, "UNAUTHORIZED")


async def test_token_missing_required_claims(client, settings, register, auth_headers, expect):
    user, _ = await register(client, "creator")
    for missing in ("jti", "exp", "userType", "userId"):
        claims = claims_for(user)
        del claims[missing]
        token = jwt.encode(claims, read_secret(settings), algorithm="HS256")
        resp = await client.get("/api/auth/session", headers=auth_headers(token))
        await expect(resp, 401, "UNAUTHORIZED")


async def test_token_with_foreign_user_type(client, settings, register, auth_headers, expect):
    user, _ = await register(client, "creator")
    token = jwt.encode(claims_for(user, userType="admin"), read_secret(settings), algorithm="HS256")
    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")


async def test_basic_and_malformed_authorization_headers(client, register, expect):
    _, token = await register(client, "creator")
    for value in ("Basic dXNlcjpwYXNzd29yZA==", f"Token {token}", "Bearer", "Bearer   ", token):
        resp = await client.get("/api/auth/session", headers={"Authorization": value})
        await expect(resp, 401, "UNAUTHORIZED")


async def test_bad_authorization_header_does_not_fall_back_to_cookie(
    client, register, expect, cookie_headers
):
    _, token = await register(client, "creator")
    headers = {**cookie_headers(token), "Authorization": "Basic dXNlcjpwYXNzd29yZA=="}
    resp = await client.get("/api/auth/session", headers=headers)
    await expect(resp, 401, "UNAUTHORIZED")


# ---------------------------------------------------------------------------------------------
# Logout and revocation
# ---------------------------------------------------------------------------------------------


async def test_logout_revokes_token_for_bearer_and_cookie(
    client, register, auth_headers, cookie_headers, expect, db_conn
):
    _, token = await register(client, "creator")
    _, other = await register(client, "creator")
    assert await session_status(client, auth_headers(token)) == 200

    resp = await client.post("/api/auth/logout", headers=auth_headers(token))
    body = await expect(resp, 200)
    assert body["data"] == {"loggedOut": True}
    assert await db_conn.fetchval("SELECT count(*) FROM revoked_tokens") == 1

    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")
    resp = await client.get("/api/auth/session", headers=cookie_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")
    # Another session of the same kind is untouched.
    assert await session_status(client, auth_headers(other)) == 200


async def test_logout_clears_cookie(client, register, cookie_headers, expect):
    _, token = await register(client, "creator")
    resp = await client.post("/api/auth/logout", headers=cookie_headers(token))
    await expect(resp, 200)
    cleared = [h for h in resp.headers.getall("Set-Cookie", []) if h.startswith("pitchey_session=")]
    assert len(cleared) == 1, resp.headers.getall("Set-Cookie", [])
    raw = cleared[0].lower()
    assert raw.startswith('pitchey_session="";') or raw.startswith("pitchey_session=;")
    assert "max-age=0" in raw or "expires=thu, 01 jan 1970" in raw
    assert "path=/" in raw
    assert await session_status(client, cookie_headers(token)) == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Cookie": "pitchey_session=garbage"},
    ],
)
async def test_logout_with_bad_or_no_token_still_succeeds(client, expect, headers):
    resp = await client.post("/api/auth/logout", headers=headers)
    body = await expect(resp, 200)
    assert body["data"] == {"loggedOut": False}
    assert any(h.startswith("pitchey_session=") for h in resp.headers.getall("Set-Cookie", []))


async def test_deleted_account_token_refused_and_logout_still_clears(
    client, register, auth_headers, expect, db_conn
):
    user, token = await register(client, "creator")
    await db_conn.execute("DELETE FROM users WHERE id = $1", user["id"])
    resp = await client.get("/api/auth/session", headers=auth_headers(token))
    await expect(resp, 401, "UNAUTHORIZED")
    resp = await client.post("/api/auth/logout", headers=auth_headers(token))
    await expect(resp, 200)
    assert any(h.startswith("pitchey_session=") for h in resp.headers.getall("Set-Cookie", []))


async def test_logout_twice(client, register, auth_headers, expect):
    _, token = await register(client, "creator")
    await expect(await client.post("/api/auth/logout", headers=auth_headers(token)), 200)
    body = await expect(await client.post("/api/auth/logout", headers=auth_headers(token)), 200)
    assert body["data"] == {"loggedOut": False}


# ---------------------------------------------------------------------------------------------
# The signing secret
# ---------------------------------------------------------------------------------------------


async def test_generated_secret_file_is_private_and_shared_by_a_second_app(
    make_client, settings, register, auth_headers, expect
):
    secret_file = settings.data_dir / "jwt_secret"
    assert not secret_file.exists()
    client1 = await make_client(settings=settings)
    assert secret_file.exists()
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32
    _, token = await register(client1, "creator")

    client2 = await make_client(settings=settings)
    resp = await client2.get("/api/auth/session", headers=auth_headers(token))
    await expect(resp, 200)


async def test_explicit_jwt_secret_is_used(make_client, make_settings, register, auth_headers, expect):
    secret = "s" * 40 + "-explicit-test-secret"
    settings = make_settings(jwt_secret=secret)
    client = await make_client(settings=settings)
    assert not (settings.data_dir / "jwt_secret").exists()
    user, token = await register(client, "creator")
    # The server signs with exactly this secret ...
    jwt.decode(token, secret, algorithms=["HS256"])
    # ... and accepts what is minted with it.
    minted = jwt.encode(claims_for(user), secret, algorithm="HS256")
    await expect(await client.get("/api/auth/session", headers=auth_headers(minted)), 200)
    # A different app with a different secret refuses the token.
    other = await make_client(settings=make_settings(jwt_secret="t" * 48))
    await expect(await other.get("/api/auth/session", headers=auth_headers(token)), 401)


def test_concurrent_starts_agree_on_one_secret(tmp_path):
    """Nodes starting at once on one data dir: one secret, never a half-written file."""
    for i in range(20):
        settings = load_settings(data_dir=tmp_path / f"d{i}")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            secrets = list(pool.map(lambda _: load_or_create_secret(settings), range(8)))
        assert len(set(secrets)) == 1 and len(secrets[0]) >= 32
        assert [p.name for p in settings.data_dir.iterdir()] == ["jwt_secret"]
        assert stat.S_IMODE(os.stat(settings.secret_file).st_mode) == 0o600


def test_corrupt_secret_file_is_refused(tmp_path):
    (tmp_path / "jwt_secret").write_text("short\n")
    with pytest.raises(SettingsError, match="too short"):
        load_or_create_secret(load_settings(data_dir=tmp_path))


def test_jwt_secret_env_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("JWT_SECRET", "e" * 32)
    s = load_settings(data_dir=tmp_path)
    assert s.jwt_secret is not None and s.jwt_secret.get_secret_value() == "e" * 32
    assert "e" * 32 not in repr(s)


def test_too_short_jwt_secret_is_rejected(monkeypatch, tmp_path):
    monkeypatch.setenv("JWT_SECRET", "too-short")
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir=tmp_path)
    message = str(info.value)
    assert "JWT_SECRET" in message and "\n" not in message
    assert "too-short" not in message


# ---------------------------------------------------------------------------------------------
# Restart persistence
# ---------------------------------------------------------------------------------------------


async def test_accounts_and_revocations_survive_a_restart(
    make_client, settings, register, login, auth_headers, expect
):
    client1 = await make_client(settings=settings)
    _, revoked = await register(client1, "investor", email="persist@example.com")
    _, kept = await login(client1, "investor", "persist@example.com")
    await expect(await client1.post("/api/auth/logout", headers=auth_headers(revoked)), 200)
    await client1.close()

    client2 = await make_client(settings=settings)
    assert len(client2.app[APP_STATE].revocations) == 1  # loaded from the database
    _, fresh = await login(client2, "investor", "persist@example.com")
    await expect(await client2.get("/api/auth/session", headers=auth_headers(revoked)), 401, "UNAUTHORIZED")
    await expect(await client2.get("/api/auth/session", headers=auth_headers(kept)), 200)
    await expect(await client2.get("/api/auth/session", headers=auth_headers(fresh)), 200)
