"""`pitchey backup` and `pitchey restore`, and the scheduled backups of `PITCHEY_BACKUP_DIR`.

An archive is one uncompressed tar (the dump is compressed already) holding, in this order:

    manifest.json     format, Pitchey version, time, migrations applied, a SHA-256 per file
    database.dump     pg_dump --format=custom of the whole database (one consistent snapshot)
    media/<key>       with --media: every object of the media store, under its key

Restore checks the archive before it touches anything: a newer archive format or a schema with
migrations this build does not know is refused, every file must match its checksum, and no
member outside the manifest is read (nothing is extracted by the archive's own paths). The
target must be empty (no table in the database, no object in the media store) unless --force.
The JWT secret is not in the archive: after a restore on a new machine people sign in again.
Archives hold password hashes and personal data, so they are written 0600.

Scheduled backups (`PITCHEY_BACKUP_DIR`) are the hourly `backups.scheduled` job
(server/tasks/maintenance.py): each run asks `scheduled_backup` for the current period of
`PITCHEY_BACKUP_INTERVAL`, and only the first node to claim a period in `backup_runs` takes it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import os
import re
import socket
import tarfile
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import asyncpg

from pitchey.storage import backups as db_backups
from pitchey.storage.database import Database
from pitchey.storage.migrate import shipped_migrations

from .blobstore import BlobStore, InvalidKey, check_key

log = logging.getLogger("pitchey.backup")

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media/"
_CHUNK = 1024 * 1024
# Scheduled archives are named by their period so retention can sort them by name.
_SCHEDULED = re.compile(r"^pitchey-backup-\d{8}T\d{6}Z\.tar$")


class BackupError(Exception):
    """The archive or the target is refused; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    migrations: int
    database_bytes: int
    media_objects: int


def archive_name(at: datetime) -> str:
    return f"pitchey-backup-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar"


async def _hash_file(path: Path) -> tuple[str, int]:
    def run() -> tuple[str, int]:
        h = hashlib.sha256()
        size = 0
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
        return h.hexdigest(), size

    return await asyncio.to_thread(run)


async def _save_blob(chunks: AsyncIterator[bytes], target: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    f = await asyncio.to_thread(target.open, "wb")
    try:
        async for chunk in chunks:
            h.update(chunk)
            size += len(chunk)
            await asyncio.to_thread(f.write, chunk)
    finally:
        await asyncio.to_thread(f.close)
    return h.hexdigest(), size


async def create_backup(
    dsn: str, out: Path, *, version: str, media: BlobStore | None = None
) -> BackupSummary:
    """Write the archive to `out` (atomically: a temporary file renamed into place)."""
    out = await asyncio.to_thread(out.resolve)
    await asyncio.to_thread(out.parent.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pitchey-backup-", dir=out.parent) as tmp_name:
        tmp = Path(tmp_name)
        conn = await asyncpg.connect(dsn)
        try:
            applied = await db_backups.applied_migrations(conn)
        finally:
            await conn.close()
        # The database first: media objects referenced by the snapshot exist by then (uploads
        # land in the store before their row), so the archive never names a missing object.
        dump_path = tmp / DUMP
        await db_backups.dump(dsn, dump_path)
        dump_sha, dump_bytes = await _hash_file(dump_path)
        media_entries: list[dict[str, Any]] | None = None
        if media is not None:
            media_entries = []
            for key in await media.keys():
                if key.startswith("."):  # the local store's .incoming uploads in flight
                    continue
                sha, size = await _save_blob(media.read_chunks(key), tmp / "media" / key)
                media_entries.append({"key": key, "sha256": sha, "bytes": size})
        manifest = {
            "format": ARCHIVE_FORMAT,
            "pitchey": version,
            "createdAt": datetime.now(UTC).isoformat(),
            "migrations": [{"version": m.version, "name": m.name, "checksum": m.checksum} for m in applied],
            "database": {"file": DUMP, "sha256": dump_sha, "bytes": dump_bytes},
            "media": media_entries,
        }
        part = tmp / "archive.part"

        def write() -> None:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
                body = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(body)
                info.mtime = int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(body))
                tar.add(dump_path, arcname=DUMP, recursive=False)
                for entry in media_entries or []:
                    tar.add(tmp / "media" / entry["key"], arcname=MEDIA + entry["key"], recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(part, out)

        await asyncio.to_thread(write)
    return BackupSummary(out, len(applied), dump_bytes, len(media_entries or []))


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise BackupError("not a Pitchey backup: manifest.json is not its first member")
    f = tar.extractfile(first)
    assert f is not None
    try:
        manifest = json.loads(f.read(1024 * 1024 * 64))
    except ValueError:
        raise BackupError("not a Pitchey backup: manifest.json is not JSON") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
        raise BackupError("not a Pitchey backup: the manifest has no format")
    if manifest["format"] > ARCHIVE_FORMAT:
        raise BackupError(
            f"archive format {manifest['format']} is newer than this Pitchey reads ({ARCHIVE_FORMAT})"
        )
    return manifest


def check_schema(manifest: dict[str, Any]) -> None:
    """Refuse an archive whose database has migrations this build does not ship (or changed)."""
    shipped = {m.version: m for m in shipped_migrations()}
    unknown = []
    for m in manifest.get("migrations") or []:
        mine = shipped.get(m["version"])
        if mine is None:
            unknown.append(str(m["name"]))
        elif mine.checksum != m["checksum"]:
            raise BackupError(f"migration {m['name']} in the archive differs from this build's")
    if unknown:
        raise BackupError(
            "the archive comes from a newer schema (migrations unknown to this build: "
            + ", ".join(unknown)
            + "); restore it with that version of Pitchey or newer"
        )


def _copy_checked(src: IO[bytes], target: Path, sha256: str, size: int, label: str) -> None:
    h = hashlib.sha256()
    seen = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            seen += len(chunk)
            out.write(chunk)
    if seen != size or h.hexdigest() != sha256:
        raise BackupError(f"{label} does not match its checksum: the archive is damaged")


def unpack(archive: Path, into: Path) -> dict[str, Any]:
    """Check and unpack the archive into `into`; returns the manifest.

    Every file is matched against the manifest by name, size and SHA-256; names come from the
    manifest (and media keys are checked like upload keys), never from the archive's headers,
    so a crafted member cannot write outside `into`.
    """
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed by the `with` below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from None
    with tar:
        manifest = _read_manifest(tar)
        check_schema(manifest)
        database = manifest.get("database") or {}
        expected: dict[str, tuple[Path, str, int]] = {
            DUMP: (into / DUMP, str(database.get("sha256")), int(database.get("bytes", -1)))
        }
        for i, entry in enumerate(manifest.get("media") or []):
            try:
                key = check_key(str(entry["key"]))
            except (InvalidKey, KeyError):
                raise BackupError("the manifest names an invalid media key") from None
            expected[MEDIA + key] = (into / "media" / f"{i:08d}", str(entry["sha256"]), int(entry["bytes"]))
        found: set[str] = set()
        for member in tar:
            if member.name == MANIFEST and member.offset == 0:
                continue  # read above (iterating a TarFile starts again from its first member)
            if member.name not in expected or not member.isfile() or member.name in found:
                raise BackupError(f"unexpected member {member.name[:200]!r} in the archive")
            target, sha, size = expected[member.name]
            src = tar.extractfile(member)
            assert src is not None
            _copy_checked(src, target, sha, size, member.name)
            found.add(member.name)
        missing = set(expected) - found
        if missing:
            raise BackupError(f"the archive lacks {sorted(missing)[0]}: it is incomplete")
    return manifest


def _media_files(manifest: dict[str, Any], into: Path) -> Iterator[tuple[str, Path]]:
    for i, entry in enumerate(manifest.get("media") or []):
        yield str(entry["key"]), into / "media" / f"{i:08d}"


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, _CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(f.close)


async def restore_backup(
    dsn: str, archive: Path, *, media: BlobStore | None, force: bool = False
) -> dict[str, Any]:
    """Restore the archive into the database (and media store); returns the manifest."""
    scratch_parent = (await asyncio.to_thread(archive.resolve)).parent
    with tempfile.TemporaryDirectory(prefix=".pitchey-restore-", dir=scratch_parent) as tmp_name:
        tmp = Path(tmp_name)
        manifest = await asyncio.to_thread(unpack, archive, tmp)
        conn = await asyncpg.connect(dsn)
        try:
            if await db_backups.user_tables(conn) and not force:
                raise BackupError("the target database is not empty (use --force to replace it)")
            if media is not None and manifest.get("media") is not None and not force:
                occupied = any(not k.startswith(".") for k in await media.keys())
                if occupied:
                    raise BackupError("the target media store is not empty (use --force to replace it)")
            if force:
                await db_backups.wipe(conn)
        finally:
            await conn.close()
        await db_backups.restore(dsn, tmp / DUMP)
        # Migrations this build has beyond the archive's bring the schema up to date.
        db = await Database.connect(dsn, min_size=1, max_size=1, timeout=30)
        try:
            await db.migrate()
        finally:
            await db.close()
        if media is not None and manifest.get("media") is not None:
            if force:
                for key in await media.keys():
                    if not key.startswith("."):
                        await media.delete(key)
            for key, path in _media_files(manifest, tmp):
                await media.put_stream(key, _file_chunks(path), "application/octet-stream")
    return manifest


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete the oldest scheduled archives beyond `keep`; other files are never touched."""
    archives = sorted(p for p in directory.iterdir() if _SCHEDULED.match(p.name) and p.is_file())
    doomed = archives[: max(0, len(archives) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def period_start(now: datetime, interval: int) -> datetime:
    seconds = int(now.timestamp()) // interval * interval
    return datetime.fromtimestamp(seconds, UTC)


async def scheduled_backup(
    db: Database,
    dsn: str,
    *,
    directory: Path,
    keep: int,
    interval: int,
    version: str,
    media: BlobStore | None,
    now: datetime | None = None,
    node: str | None = None,
) -> Path | None:
    """Take this period's backup if no node has claimed it yet; the archive's path, or None."""
    period = period_start(now or datetime.now(UTC), interval)
    async with db.acquire() as conn:
        claimed = await db_backups.claim_scheduled_backup(conn, period, node or socket.gethostname())
    if not claimed:
        return None
    path = directory / archive_name(period)
    error: str | None = None
    try:
        await create_backup(dsn, path, version=version, media=media)
        await asyncio.to_thread(prune, directory, keep)
        log.info("scheduled backup written to %s", path)
    except Exception as exc:
        error = str(exc)[:500]
        log.error("scheduled backup failed: %s", error)
    async with db.acquire() as conn:
        await db_backups.finish_scheduled_backup(conn, period, None if error else path.name, error)
    return None if error else path
