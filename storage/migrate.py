"""Numbered SQL migrations, applied in order at start under an advisory lock.

Each file runs in its own transaction and is recorded with a checksum, so an edited migration that was
already applied is reported instead of silently diverging between environments.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

log = logging.getLogger("pitchey.storage.migrate")

# Any fixed 64-bit key; every node uses the same one so only one migrates at a time.
ADVISORY_LOCK_KEY = 0x5049544348455931  # "PITCHEY1"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A shipped migration conflicts with what the database recorded."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def shipped_migrations() -> list[Migration]:
    """The migrations packaged in `pitchey.storage/migrations`, in version order."""
    folder = resources.files("pitchey.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions: {versions}")
    return found


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply every shipped migration not yet recorded; returns the names applied now."""
    migrations = shipped_migrations()
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        done = {r["version"]: r for r in rows}
        for mig in migrations:
            row = done.get(mig.version)
            if row is not None:
                if row["checksum"] != mig.checksum:
                    raise MigrationError(f"migration {mig.name} was changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(mig.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    mig.version,
                    mig.name,
                    mig.checksum,
                )
            log.info("applied migration %s", mig.name)
            applied_now.append(mig.name)
        unknown = set(done) - {m.version for m in migrations}
        if unknown:
            # A newer node migrated first (rolling deploy): older code keeps running on the
            # older columns it knows, so this is worth a warning, not a refusal to start.
            log.warning("database has migrations this build does not know: %s", sorted(unknown))
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    return applied_now


async def pending(conn: asyncpg.Connection) -> list[str]:
    """Names of shipped migrations the database has not applied (for readiness checks)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied: set[int] = set()
    if exists:
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    return [m.name for m in shipped_migrations() if m.version not in applied]
