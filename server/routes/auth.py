"""Accounts and sessions for the three portals: register, login, logout, who-am-I."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pitchey.storage.profiles import ProfileStore, completeness
from pitchey.storage.users import EmailTaken, User, UsernameTaken

from ..api import Api, Call, Reply, authenticate, client_ip, is_https
from ..errors import EmailExists, InvalidCredentials, Unauthorized, UsernameExists, WrongPortal
from ..schemas import Empty
from ..schemas.accounts import (
    AuthResult,
    LoggedOut,
    LoginBody,
    ProfileCompleteness,
    RegisterBody,
    SessionOut,
    UserOut,
)

api = Api()
PORTAL = "{portal:creator|investor|production}"


def _cookie_options(call: Call[Any, Any], max_age: int | None) -> dict[str, Any]:
    mode = call.state.settings.cookie_secure
    secure = mode == "always" or (mode == "auto" and is_https(call.request, call.state.settings.trust_proxy))
    opts: dict[str, Any] = {"httponly": True, "samesite": "Lax", "path": "/", "secure": secure}
    if max_age is not None:
        opts["max_age"] = max_age
    return opts


def _session_reply(call: Call[Any, Any], user: User, status: int) -> Reply:
    token, expires_at, _ = call.state.tokens.issue(user.id, user.email, user.user_type)
    reply = Reply(
        AuthResult(user=UserOut.model_validate(user), token=token, expires_at=expires_at), status=status
    )
    reply.set_cookies.append(
        (call.state.settings.cookie_name, token, _cookie_options(call, call.state.tokens.ttl))
    )
    reply.headers["Cache-Control"] = "no-store"
    return reply


@api.route(
    "POST",
    f"/api/auth/{PORTAL}/register",
    rate_limit="auth",
    auth="none",
    body=RegisterBody,
    response=AuthResult,
    status=201,
    tags=("auth",),
    errors=(EmailExists, UsernameExists),
    summary="Create an account in this portal and sign in",
)
async def register(call: Call[RegisterBody, Any]) -> Reply:
    state = call.state
    await state.auth_limiter.hit_ip(client_ip(call.request, state.settings.trust_proxy))
    body = call.body
    portal = call.request.match_info["portal"]
    password_hash = await state.passwords.hash(body.password)
    try:
        user = await state.users.create(
            email=body.email,
            password_hash=password_hash,
            user_type=portal,
            username=body.username,
            name=body.name,
            company_name=body.company_name,
        )
    except EmailTaken:
        raise EmailExists() from None
    except UsernameTaken:
        raise UsernameExists() from None
    return _session_reply(call, user, 201)


@api.route(
    "POST",
    f"/api/auth/{PORTAL}/login",
    rate_limit="auth",
    auth="none",
    body=LoginBody,
    response=AuthResult,
    tags=("auth",),
    errors=(InvalidCredentials, WrongPortal),
    summary="Sign in through this portal",
)
async def login(call: Call[LoginBody, Any]) -> Reply:
    state = call.state
    await state.auth_limiter.hit_ip(client_ip(call.request, state.settings.trust_proxy))
    body = call.body
    # The failure is counted before the password is checked, so parallel guesses cannot all be
    # evaluated before any is counted; a right password clears the count, an error gives it back.
    reservation = await state.auth_limiter.reserve_login(body.email)
    try:
        user = await state.users.by_email(body.email)
        ok = await state.passwords.verify(user.password_hash if user else None, body.password)
    except BaseException:
        await state.attempts.release(reservation)
        raise
    if user is None or not ok:
        raise InvalidCredentials()
    await state.auth_limiter.login_succeeded(body.email)
    if user.user_type != call.request.match_info["portal"]:
        raise WrongPortal(
            f"This account is a {user.user_type} account; sign in through the {user.user_type} portal"
        )
    if state.passwords.needs_rehash(user.password_hash):
        await state.users.set_password_hash(user.id, await state.passwords.hash(body.password))
    return _session_reply(call, user, 200)


@api.route(
    "POST",
    "/api/auth/logout",
    rate_limit="none",  # signing out must always work, even for a caller over its write limits
    auth="none",
    body=Empty,
    response=LoggedOut,
    tags=("auth",),
    summary="Revoke the current token and clear the session cookie",
)
async def logout(call: Call[Empty, Any]) -> Reply:
    """Always clears the cookie: a stale or already-revoked token must not trap a user signed in."""
    try:
        principal = authenticate(call.request, call.state)
    except Unauthorized:
        principal = None
    if principal is not None:
        await call.state.revocation_store.revoke(
            principal.jti, principal.user_id, datetime.fromtimestamp(principal.expires_at, UTC)
        )
        await call.state.revocations.revoke(principal.jti, principal.expires_at)
    reply = Reply(LoggedOut(logged_out=principal is not None))
    opts = _cookie_options(call, None)
    reply.delete_cookies.append((call.state.settings.cookie_name, {"path": opts["path"], "samesite": "Lax"}))
    return reply


@api.route(
    "GET", "/api/auth/session", response=SessionOut, tags=("auth",), summary="Who am I: the signed-in account"
)
async def session(call: Call[Any, Any]) -> SessionOut:
    principal = call.user
    user = await call.state.users.by_id(principal.user_id)
    if user is None:  # the account was deleted after the token was issued
        raise Unauthorized("Account no longer exists")
    profile = await ProfileStore(call.state.database).get(user.id)
    return SessionOut(
        user=UserOut.model_validate(user),
        expires_at=datetime.fromtimestamp(principal.expires_at, UTC),
        profile_completeness=ProfileCompleteness.model_validate(completeness(profile)) if profile else None,
    )
