"""Shared fixtures: a real PostgreSQL, settings, a real HTTP test server, and small helpers.

Database
    ``database_url`` (session)   DSN of the migrated ``pitchey_test`` database. The server is the
                                 embedded PostgreSQL (pgserver, started once per session in a temp
                                 dir) unless ``PITCHEY_TEST_DATABASE_URL`` names another server.
    ``pg_server_url`` (session)  DSN of that server's maintenance database (to CREATE DATABASE).
    ``clean_db``                 TRUNCATEs every public table but ``schema_migrations`` (RESTART
                                 IDENTITY CASCADE) before the test; the app fixtures depend on it.
    ``db_conn``                  an asyncpg connection to ``pitchey_test`` (closed after the test).
    ``fresh_database``           async factory ``await fresh_database() -> dsn`` of a new, empty,
                                 unmigrated database, dropped after the test.

App
    ``make_settings(**overrides)``  a ``Settings`` with data_dir=tmp_path, database_url=the test
                                    DSN, argon2 "cheapest", auth limits "1000/minute", a small
                                    pool; keyword overrides use field names (``trust_proxy=True``).
    ``settings``                    ``make_settings()``.
    ``app_factory(settings=None, *, dsn=None, **overrides)``  an unstarted ``web.Application``
                                    (add throwaway routes to it before starting it).
    ``make_client(app=None, *, keep_cookies=False, **overrides)``  a started aiohttp
                                    ``TestClient`` (real TestServer on 127.0.0.1, real HTTP). By
                                    default its cookie jar is a DummyCookieJar, so every request
                                    carries only the credentials the test passes explicitly; pass
                                    ``keep_cookies=True`` for browser-like behaviour.
    ``client``                      ``await make_client()``.

Helpers (fixtures returning callables)
    ``register(client, portal="creator", email=None, password=PASSWORD, **extra) -> (user, token)``
    ``login(client, portal, email, password=PASSWORD) -> (user, token)``
    ``auth_headers(token) -> {"Authorization": "Bearer <token>"}``
    ``cookie_headers(token, name="pitchey_session") -> {"Cookie": "<name>=<token>"}``
    ``expect(resp, status, code=None) -> body``  asserts the envelope shape, the status, the
                                    error code and the X-Request-Id header; returns the JSON body.
    ``log_capture(fmt="text", level="DEBUG") -> StringIO``  routes logging into a buffer through
                                    ``configure_logging`` and undoes it after the test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import itertools
import logging
import os
import re
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp import ClientResponse, DummyCookieJar, web
from aiohttp.test_utils import TestClient

from pitchey.server.app import create_app
from pitchey.server.settings import Settings, load_settings
from pitchey.storage.database import Database

T = TypeVar("T")

TEST_DB_NAME = "pitchey_test"
PASSWORD = "correct horse battery staple"
FAST_LIMIT = "1000/minute"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
_ENV_PREFIXES = ("PITCHEY_",)
_ENV_NAMES = ("DATABASE_URL", "JWT_SECRET")
_counter = itertools.count(1)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a private loop in another thread.

    Used by session-scoped sync fixtures, so they never touch the event loop pytest-asyncio
    manages for the tests.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def dsn_for(dsn: str, dbname: str) -> str:
    """The same server DSN pointing at another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + dbname))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _recreate_database(server_url: str, dbname: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(dbname)} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {_quote_ident(dbname)}")
    finally:
        await conn.close()


async def _drop_database(server_url: str, dbname: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(dbname)} WITH (FORCE)")
    finally:
        await conn.close()


async def _migrate(dsn: str) -> list[str]:
    db = await Database.connect(dsn, min_size=1, max_size=1)
    try:
        return await db.migrate()
    finally:
        await db.close()


# --------------------------------------------------------------------------------------------
# Environment hygiene: settings read the environment, so an operator's PITCHEY_* must not leak in.
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name == "PITCHEY_TEST_DATABASE_URL":
            continue
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name)


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DSN of the maintenance database of the test PostgreSQL server."""
    external = os.environ.get("PITCHEY_TEST_DATABASE_URL")
    if external:
        yield external
        return
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
        warnings.simplefilter("ignore")
        import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> str:
    """DSN of ``pitchey_test``: created afresh and migrated once per session."""
    run_sync(_recreate_database(pg_server_url, TEST_DB_NAME))
    dsn = dsn_for(pg_server_url, TEST_DB_NAME)
    run_sync(_migrate(dsn))
    return dsn


async def truncate_all(dsn: str) -> None:
    """Empty every table of schema public except schema_migrations, identities reset."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        if tables:
            names = ", ".join("public." + _quote_ident(t) for t in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def clean_db(database_url: str) -> str:
    """The test database, emptied before this test. Returns its DSN."""
    await truncate_all(database_url)
    return database_url


@pytest.fixture
async def db_conn(clean_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(clean_db)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def fresh_database(pg_server_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Factory of new empty databases (no migrations applied), dropped after the test."""
    created: list[str] = []

    async def make() -> str:
        name = f"pitchey_t_{uuid.uuid4().hex[:12]}"
        await _recreate_database(pg_server_url, name)
        created.append(name)
        return dsn_for(pg_server_url, name)

    yield make
    for name in created:
        await _drop_database(pg_server_url, name)


# --------------------------------------------------------------------------------------------
# Settings, app and client
# --------------------------------------------------------------------------------------------


@pytest.fixture
def make_settings(tmp_path: Path, clean_db: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path,
            "database_url": clean_db,
            "argon2_profile": "cheapest",
            "login_failure_limit": FAST_LIMIT,
            "auth_ip_limit": FAST_LIMIT,
            "db_pool_min": 1,
            "db_pool_max": 4,
            # Jobs are enqueued but not run, so a test sees the state a write leaves (an
            # investment `pending`); tests of background work turn the worker on.
            "job_worker": False,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def app_factory(make_settings: Callable[..., Settings]) -> Callable[..., web.Application]:
    def make(
        settings: Settings | None = None, *, dsn: str | None = None, **overrides: Any
    ) -> web.Application:
        s = settings if settings is not None else make_settings(**overrides)
        url = dsn or s.database_url
        assert url, "settings without a database_url need an explicit dsn"
        return create_app(s, url)

    return make


@pytest.fixture
def make_client(
    aiohttp_client: Any, app_factory: Callable[..., web.Application]
) -> Callable[..., Awaitable[TestClient]]:
    async def make(
        app: web.Application | None = None, *, keep_cookies: bool = False, **overrides: Any
    ) -> TestClient:
        if app is None:
            app = app_factory(**overrides)
        kwargs: dict[str, Any] = {}
        if not keep_cookies:
            kwargs["cookie_jar"] = DummyCookieJar()
        return await aiohttp_client(app, **kwargs)

    return make


@pytest.fixture
async def client(make_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await make_client()


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


async def expect_envelope(resp: ClientResponse, status: int, code: str | None = None) -> Any:
    """Assert status, envelope shape, error code and X-Request-Id; return the parsed body."""
    text = await resp.text()
    assert resp.status == status, f"expected {status}, got {resp.status}: {text[:500]}"
    assert resp.content_type == "application/json", resp.content_type
    body = await resp.json()
    assert isinstance(body, dict), body
    rid = resp.headers.get("X-Request-Id")
    assert rid and _REQUEST_ID.match(rid), f"bad X-Request-Id {rid!r}"
    meta = body.get("meta")
    assert isinstance(meta, dict), body
    assert meta.get("requestId") == rid, (meta, rid)
    assert isinstance(meta.get("timestamp"), str) and meta["timestamp"].endswith("Z"), meta
    if status < 400:
        assert body.get("success") is True, body
        assert "data" in body and "error" not in body, body
    else:
        assert body.get("success") is False, body
        assert "data" not in body, body
        err = body.get("error")
        assert isinstance(err, dict), body
        assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), err
        if code is not None:
            assert err["code"] == code, err
    return body


@pytest.fixture
def expect() -> Callable[..., Awaitable[Any]]:
    return expect_envelope


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_headers() -> Callable[[str], dict[str, str]]:
    return bearer


def session_cookie(token: str, name: str = "pitchey_session") -> dict[str, str]:
    return {"Cookie": f"{name}={token}"}


@pytest.fixture
def cookie_headers() -> Callable[..., dict[str, str]]:
    return session_cookie


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"


async def register_user(
    client: TestClient,
    portal: str = "creator",
    email: str | None = None,
    password: str = PASSWORD,
    **extra: Any,
) -> tuple[dict[str, Any], str]:
    """Register through the API (asserting 201); returns (user, token)."""
    payload = {"email": email or unique_email(portal), "password": password, **extra}
    resp = await client.post(f"/api/auth/{portal}/register", json=payload)
    body = await expect_envelope(resp, 201)
    return body["data"]["user"], body["data"]["token"]


async def login_user(
    client: TestClient, portal: str, email: str, password: str = PASSWORD
) -> tuple[dict[str, Any], str]:
    """Log in through the API (asserting 200); returns (user, token)."""
    resp = await client.post(f"/api/auth/{portal}/login", json={"email": email, "password": password})
    body = await expect_envelope(resp, 200)
    return body["data"]["user"], body["data"]["token"]


@pytest.fixture
def register() -> Callable[..., Awaitable[tuple[dict[str, Any], str]]]:
    return register_user


@pytest.fixture
def login() -> Callable[..., Awaitable[tuple[dict[str, Any], str]]]:
    return login_user


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------


@pytest.fixture
def log_capture() -> Iterator[Callable[..., io.StringIO]]:
    """``log_capture(fmt, level)`` installs the server's logging into a StringIO; undone after."""
    from pitchey.server.logs import configure_logging

    root = logging.getLogger()
    saved_level = root.level
    aiohttp_access = logging.getLogger("aiohttp.access")
    saved_access_disabled = aiohttp_access.disabled
    pgserver_log = logging.getLogger("pgserver")
    saved_pg_level = pgserver_log.level

    def install(fmt: str = "text", level: str = "DEBUG") -> io.StringIO:
        stream = io.StringIO()
        configure_logging(fmt, level, stream)
        return stream

    yield install
    for h in list(root.handlers):
        if getattr(h, "_pitchey", False):
            root.removeHandler(h)
    root.setLevel(saved_level)
    aiohttp_access.disabled = saved_access_disabled
    pgserver_log.setLevel(saved_pg_level)


# --------------------------------------------------------------------------------------------
# Redis (several nodes share one)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real redis-server for the session; tests that kill Redis start their own."""
    from redis_helpers import RedisProcess

    proc = RedisProcess(tmp_path_factory.mktemp("redis"))
    proc.start()
    yield proc
    proc.kill()


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    """The session Redis, emptied before the test."""
    redis_server.flush()
    return str(redis_server.url)
