"""The database half of `pitchey backup` / `pitchey restore`: pg_dump, pg_restore, and the SQL
they need (what is applied, whether a target is empty, who takes a scheduled backup).

pg_dump's custom format is one consistent snapshot (it runs in a single repeatable-read
transaction), so a backup taken while the server serves traffic is still a point in time.
The client tools come from the embedded PostgreSQL (pgserver ships the same major version as
the server it runs) or, for an external server, from PATH; `PITCHEY_PG_BIN` names another
directory when the external server is newer than both.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg


class BackupToolError(Exception):
    """pg_dump or pg_restore is missing or failed; the message is what the operator needs."""


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client tool: PITCHEY_PG_BIN, then pgserver's, then PATH."""
    candidates: list[Path] = []
    if override := os.environ.get("PITCHEY_PG_BIN"):
        candidates.append(Path(override) / name)
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        candidates.append(Path(POSTGRES_BIN_PATH) / name)
    except ImportError:  # pgserver is optional with an external DATABASE_URL
        pass
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found is None:
        raise BackupToolError(f"{name} not found (install the PostgreSQL client or set PITCHEY_PG_BIN)")
    return found


def tool_args(dsn: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore, keeping the password out of argv.

    The DSN goes through `--dbname` without its password, which travels in PGPASSWORD, so a
    `ps` listing never shows it.
    """
    parts = urlsplit(dsn)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parts.password:
        env["PGPASSWORD"] = parts.password
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        parts = parts._replace(netloc=f"{user}@{netloc[1]}")
    # libpq reads `?host=/socket/dir` in the query string as asyncpg and pgserver write it.
    return ["--dbname", parts.geturl()], env


async def _run(argv: list[str], env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        text = err.decode(errors="replace").strip().splitlines()
        reason = text[-1] if text else f"exit code {proc.returncode}"
        raise BackupToolError(f"{Path(argv[0]).name} failed: {reason}")


async def dump(dsn: str, target: Path) -> None:
    """pg_dump in custom format (compressed, restorable selectively) to `target`."""
    conn, env = tool_args(dsn)
    await _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *conn], env)


async def restore(dsn: str, source: Path) -> None:
    """pg_restore into an empty database, all or nothing (one transaction)."""
    conn, env = tool_args(dsn)
    await _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            *conn,
            str(source),
        ],
        env,
    )


async def applied_migrations(conn: asyncpg.Connection) -> list[AppliedMigration]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    return [AppliedMigration(r["version"], r["name"], r["checksum"]) for r in rows]


async def user_tables(conn: asyncpg.Connection) -> int:
    """How many tables live outside PostgreSQL's own schemas (0 = an empty target)."""
    return int(
        await conn.fetchval(
            """
            SELECT count(*) FROM pg_catalog.pg_tables
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
              AND schemaname NOT LIKE 'pg\\_%'
            """
        )
    )


async def wipe(conn: asyncpg.Connection) -> None:
    """Empty the target for `restore --force`: every non-system schema goes, `public` comes back."""
    schemas = await conn.fetch(
        """
        SELECT nspname FROM pg_catalog.pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND nspname NOT LIKE 'pg\\_%'
        """
    )
    async with conn.transaction():
        for row in schemas:
            # Identifiers cannot be parameters; quote_ident makes the name safe to splice.
            quoted = await conn.fetchval("SELECT quote_ident($1)", row["nspname"])
            await conn.execute(f"DROP SCHEMA {quoted} CASCADE")
        await conn.execute("CREATE SCHEMA public")


async def claim_scheduled_backup(conn: asyncpg.Connection, period: datetime, node: str) -> bool:
    """True for exactly one caller per period, across every node sharing the database."""
    row = await conn.fetchrow(
        """
        INSERT INTO backup_runs (period_start, node) VALUES ($1, $2)
        ON CONFLICT (period_start) DO NOTHING
        RETURNING period_start
        """,
        period,
        node,
    )
    return row is not None


async def finish_scheduled_backup(
    conn: asyncpg.Connection, period: datetime, file: str | None, error: str | None
) -> None:
    await conn.execute(
        "UPDATE backup_runs SET finished_at = now(), file = $2, error = $3 WHERE period_start = $1",
        period,
        file,
        error,
    )
