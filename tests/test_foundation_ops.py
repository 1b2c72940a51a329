"""Operations: settings validation, the `pitchey` CLI, migrations, and graceful stop."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from pitchey.server.settings import SettingsError, load_settings
from pitchey.storage.database import Database
from pitchey.storage.migrate import MigrationError, shipped_migrations


def pitchey_cmd() -> list[str]:
    exe = shutil.which("pitchey")
    return [exe] if exe else [sys.executable, "-m", "pitchey.server.cli"]


def child_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PITCHEY_") and k not in ("DATABASE_URL", "JWT_SECRET")
    }
    env.update(extra)
    return env


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def test_bad_port_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("PITCHEY_PORT", "eighty")
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir=tmp_path)
    message = str(info.value)
    assert "PITCHEY_PORT" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PITCHEY_PORT", "70000"),
        ("PITCHEY_PORT", "-1"),
        ("PITCHEY_LOGIN_FAILURE_LIMIT", "lots"),
        ("PITCHEY_AUTH_IP_LIMIT", "5 per fortnight"),
        ("PITCHEY_COOKIE_SECURE", "sometimes"),
        ("PITCHEY_TOKEN_TTL", "5"),
        ("PITCHEY_LOG_FORMAT", "xml"),
        ("PITCHEY_TRUST_PROXY", "perhaps"),
        ("DATABASE_URL", "mysql://root:hunter2@db/pitchey"),
    ],
)
def test_bad_values_name_their_variable(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir=tmp_path)
    message = str(info.value)
    assert name in message and "\n" not in message
    assert "hunter2" not in message


def test_overrides_use_field_names_and_name_the_variable_on_error(tmp_path):
    s = load_settings(
        data_dir=tmp_path, port=9999, trust_proxy=True, cors_origins="https://a.example/, https://b.example"
    )
    assert s.port == 9999 and s.trust_proxy is True
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.secret_file == tmp_path / "jwt_secret"
    with pytest.raises(SettingsError, match="PITCHEY_PORT"):
        load_settings(data_dir=tmp_path, port="eighty")


def test_environment_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("PITCHEY_PORT", "8123")
    monkeypatch.setenv("PITCHEY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@localhost/db")
    s = load_settings()
    assert s.port == 8123 and s.data_dir == tmp_path
    assert s.database_url == "postgresql://u:pw@localhost/db"
    assert "pw@" not in repr(s)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def test_cli_help_lists_commands():
    out = subprocess.run(
        [*pitchey_cmd(), "--help"], capture_output=True, text=True, timeout=60, env=child_env()
    )
    assert out.returncode == 0, out.stderr
    assert "serve" in out.stdout and "migrate" in out.stdout


def test_cli_bad_setting_exits_2_with_one_line(tmp_path):
    out = subprocess.run(
        [*pitchey_cmd(), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(PITCHEY_PORT="eighty", PITCHEY_DATA_DIR=str(tmp_path)),
    )
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "PITCHEY_PORT" in lines[0]
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "pgdata").exists()  # nothing started


async def _run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *pitchey_cmd(),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_migrate_applies_once(fresh_database, tmp_path):
    dsn = await fresh_database()
    env = child_env(DATABASE_URL=dsn, PITCHEY_DATA_DIR=str(tmp_path))
    names = [m.name for m in shipped_migrations()]
    assert names and names[0] == "0001_core.sql"

    code, out, err = await _run_cli("migrate", env=env)
    assert code == 0, err
    assert f"applied {len(names)} migration(s)" in out
    assert "0001_core.sql" in out

    code, out, err = await _run_cli("migrate", env=env)
    assert code == 0, err
    assert "applied 0 migration(s)" in out

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [r["name"] for r in rows] == names
        assert await conn.fetchval("SELECT to_regclass('users') IS NOT NULL")
    finally:
        await conn.close()
    assert not (tmp_path / "pgdata").exists()  # DATABASE_URL given: no embedded server


async def test_cli_migrate_unreachable_database_exits_1(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = child_env(
        DATABASE_URL=f"postgresql://nobody@127.0.0.1:{port}/none",
        PITCHEY_DATA_DIR=str(tmp_path),
        PITCHEY_DB_TIMEOUT="2",
    )
    code, _, err = await _run_cli("migrate", env=env)
    assert code == 1
    assert "database unavailable" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("which", ["database", "role"])
async def test_cli_migrate_refused_dsn_is_one_line(pg_server_url, tmp_path, which):
    parts = urlsplit(pg_server_url)
    if which == "database":
        parts = parts._replace(path="/no_such_database_here")
    else:
        netloc = parts.netloc.rsplit("@", 1)
        parts = parts._replace(netloc="no_such_role@" + (netloc[1] if len(netloc) == 2 else ""))
    env = child_env(DATABASE_URL=urlunsplit(parts), PITCHEY_DATA_DIR=str(tmp_path))
    code, _, err = await _run_cli("migrate", env=env)
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "database unavailable" in lines[0], err
    if which == "database":
        assert "no_such_database_here" in lines[0]


# ---------------------------------------------------------------------------------------------
# Migrations
# ---------------------------------------------------------------------------------------------


async def test_concurrent_migrate_applies_each_migration_once(fresh_database):
    dsn = await fresh_database()
    dbs = [await Database.connect(dsn, min_size=1, max_size=1) for _ in range(3)]
    try:
        results = await asyncio.gather(*(db.migrate() for db in dbs))
        names = [m.name for m in shipped_migrations()]
        assert sorted(results, key=len) == [[], [], names]
        rows = await dbs[0].fetch("SELECT version, checksum FROM schema_migrations")
        assert len(rows) == len(names)
        assert {r["checksum"] for r in rows} == {m.checksum for m in shipped_migrations()}
        assert await dbs[0].ready() == {"database": "ok", "pendingMigrations": []}
        assert await dbs[1].migrate() == []
    finally:
        for db in dbs:
            await db.close()


async def test_readiness_reports_pending_migrations(fresh_database):
    dsn = await fresh_database()
    db = await Database.connect(dsn, min_size=1, max_size=1)
    try:
        pending = (await db.ready())["pendingMigrations"]
        assert pending == [m.name for m in shipped_migrations()]
        await db.migrate()
        assert (await db.ready())["pendingMigrations"] == []
    finally:
        await db.close()


async def test_changed_checksum_raises_and_releases_the_lock(fresh_database):
    dsn = await fresh_database()
    db = await Database.connect(dsn, min_size=1, max_size=1)
    try:
        await db.migrate()
        good = await db.fetchval("SELECT checksum FROM schema_migrations WHERE version = 1")
        await db.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match=r"0001_core\.sql"):
            await db.migrate()
        # The advisory lock was released: another connection can migrate (and fails the same way
        # instead of hanging).
        other = await Database.connect(dsn, min_size=1, max_size=1)
        try:
            with pytest.raises(MigrationError):
                await asyncio.wait_for(other.migrate(), timeout=10)
            await db.execute("UPDATE schema_migrations SET checksum = $1 WHERE version = 1", good)
            assert await asyncio.wait_for(other.migrate(), timeout=10) == []
        finally:
            await other.close()
    finally:
        await db.close()


async def test_unknown_newer_migration_is_tolerated(fresh_database, caplog):
    dsn = await fresh_database()
    db = await Database.connect(dsn, min_size=1, max_size=1)
    try:
        await db.migrate()
        await db.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, '9999_future.sql', 'x')"
        )
        with caplog.at_level("WARNING", logger="pitchey.storage.migrate"):
            assert await db.migrate() == []
        assert "9999" in caplog.text
    finally:
        await db.close()


async def test_failed_migration_rolls_back(fresh_database, monkeypatch):
    from pitchey.storage import migrate as migrate_mod

    shipped = shipped_migrations()
    broken = migrate_mod.Migration(
        shipped[-1].version + 1,
        "9000_broken.sql",
        "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;",
    )
    monkeypatch.setattr(migrate_mod, "shipped_migrations", lambda: [*shipped, broken])
    dsn = await fresh_database()
    db = await Database.connect(dsn, min_size=1, max_size=1)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await db.migrate()
        assert await db.fetchval("SELECT to_regclass('half_done') IS NULL")
        versions = [r["version"] for r in await db.fetch("SELECT version FROM schema_migrations")]
        assert sorted(versions) == [m.version for m in shipped]
    finally:
        await db.close()


# ---------------------------------------------------------------------------------------------
# Graceful stop of `pitchey serve` with its own embedded PostgreSQL
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    method: str, url: str, body: dict | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Server:
    """`pitchey serve` in a subprocess, its output in files under the data dir's parent."""

    def __init__(self, data_dir: Path, logs: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out = (logs / f"serve-{self.port}.out").open("w+")
        self.err = (logs / f"serve-{self.port}.err").open("w+")
        self.proc = subprocess.Popen(
            [*pitchey_cmd(), "serve", "--port", str(self.port)],
            env=child_env(PITCHEY_DATA_DIR=str(data_dir), PITCHEY_ARGON2_PROFILE="cheapest"),
            stdout=self.out,
            stderr=self.err,
            start_new_session=True,
        )

    def output(self) -> str:
        self.out.seek(0)
        self.err.seek(0)
        return f"--- stdout\n{self.out.read()}\n--- stderr\n{self.err.read()}"

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited {self.proc.returncode}\n{self.output()}"
            try:
                status, body = http("GET", self.base + "/health")
                if status == 200 and body["data"]["status"] == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not healthy in {timeout}s\n{self.output()}")

    def stop(self, sig: signal.Signals) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit 20s after {sig.name}\n{self.output()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.out.close()
        self.err.close()


def postgres_stopped(pgdata: Path) -> bool:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return True
    pid = int(pidfile.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_serve_stops_gracefully_and_keeps_data(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    pgdata = data_dir / "pgdata"
    creds = {"email": "durable@example.com", "password": "survives-restarts"}

    server = Server(data_dir, tmp_path)
    try:
        server.wait_healthy()
        assert (pgdata / "PG_VERSION").exists()
        assert not postgres_stopped(pgdata)
        status, body = http("POST", server.base + "/api/auth/creator/register", creds)
        assert status == 201, body
        token = body["data"]["token"]
        status, body = http("GET", server.base + "/ready")
        assert status == 200 and body["data"]["status"] == "ready", body
        assert server.stop(signal.SIGTERM) == 0, server.output()
        assert postgres_stopped(pgdata), server.output()
        assert "listening on" in server.output()
    finally:
        server.kill()

    server = Server(data_dir, tmp_path)
    try:
        server.wait_healthy()
        status, body = http("POST", server.base + "/api/auth/creator/login", creds)
        assert status == 200, body
        # Same secret file: the token from the first run is still valid.
        status, body = http(
            "GET", server.base + "/api/auth/session", headers={"Authorization": f"Bearer {token}"}
        )
        assert status == 200, body
        assert body["data"]["user"]["email"] == creds["email"]
        assert server.stop(signal.SIGINT) == 0, server.output()
        assert postgres_stopped(pgdata), server.output()
        assert "Traceback" not in server.output()
    finally:
        server.kill()
