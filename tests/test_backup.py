"""`pitchey backup` / `pitchey restore` with real processes, a real PostgreSQL and real archives.

The end-to-end test fills a server (embedded PostgreSQL in its own data directory) through the
API, backs it up while it runs, restores the archive into a brand-new data directory, starts a
server there and compares every user-visible list and the media bytes. The others check what
restore refuses (a non-empty target, a newer schema, a damaged or crafted archive) and that the
scheduled backup runs once per period however many nodes race for it.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from fault_helpers import NodeSet, node_env
from test_platform_media import png_1x1

from pitchey.server.backup import (
    BackupError,
    create_backup,
    prune,
    restore_backup,
    scheduled_backup,
    unpack,
)
from pitchey.storage.database import Database

PASSWORD = "backup tests pw 1"


def cli_env(data_dir: Path) -> dict[str, str]:
    """A node's environment on the embedded PostgreSQL of `data_dir` (no DATABASE_URL)."""
    env = node_env("unused", data_dir)
    env.pop("DATABASE_URL")
    return env


def pitchey(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pitchey.server.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.base + path, headers=headers, **kw) as resp:
            body = await resp.json(content_type=None)
            assert resp.status < 300, (method, path, resp.status, body)
            return body

    async def token(self, portal: str, email: str, register: bool = False) -> tuple[int, str]:
        verb = "register" if register else "login"
        body = await self.call(
            "POST", f"/api/auth/{portal}/{verb}", json={"email": email, "password": PASSWORD}
        )
        return int(body["data"]["user"]["id"]), str(body["data"]["token"])

    async def raw(self, path: str, token: str | None = None) -> bytes:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.get(self.base + path, headers=headers) as resp:
            assert resp.status == 200, (path, resp.status)
            return await resp.read()


EMAILS = {"creator": "backup-creator@example.com", "investor": "backup-investor@example.com"}


async def fill(api: Api) -> dict[str, Any]:
    """A creator with a published pitch and a poster; an investor with an NDA, an investment and
    a message. Returns what the comparison needs to find them again."""
    creator_id, creator = await api.token("creator", EMAILS["creator"], register=True)
    _, investor = await api.token("investor", EMAILS["investor"], register=True)
    pitch = await api.call(
        "POST",
        "/api/pitches",
        creator,
        json={
            "title": "Backed-up pitch",
            "logline": "It survives",
            "status": "published",
            "visibility": "public",
        },
    )
    pitch_id = pitch["data"]["id"]
    form = aiohttp.FormData()
    form.add_field("kind", "poster")
    form.add_field("file", png_1x1(), filename="poster.png", content_type="image/png")
    poster = await api.call("POST", f"/api/pitches/{pitch_id}/media", creator, data=form)
    nda = await api.call("POST", "/api/ndas/request", investor, json={"pitchId": pitch_id})
    await api.call("POST", f"/api/ndas/{nda['data']['id']}/approve", creator, json={})
    await api.call(
        "POST", "/api/investments/create", investor, json={"pitchId": pitch_id, "amount": "2500.00"}
    )
    await api.call(
        "POST", "/api/messages/send", investor, json={"recipientId": creator_id, "content": "Kept?"}
    )
    return {"pitchId": pitch_id, "poster": poster["data"]["url"]}


async def views(api: Api, facts: dict[str, Any]) -> dict[str, Any]:
    """Every list a user sees, as the API answers it (after signing in on this server)."""
    _, creator = await api.token("creator", EMAILS["creator"])
    _, investor = await api.token("investor", EMAILS["investor"])
    return {
        "browse": (await api.call("GET", "/api/pitches/browse"))["data"],
        "incoming": (await api.call("GET", "/api/ndas/incoming-requests?status=approved", creator))["data"],
        "outgoing": (await api.call("GET", "/api/ndas/outgoing-requests", investor))["data"],
        "portfolio": (await api.call("GET", "/api/investments/portfolio", investor))["data"],
        "threads": (await api.call("GET", "/api/messages", creator))["data"],
        "poster": await api.raw(facts["poster"], investor),
    }


async def test_backup_restored_into_a_fresh_data_directory_serves_the_same_data(tmp_path: Path) -> None:
    nodes = NodeSet(tmp_path / "logs")
    source = nodes.add("source", cli_env(tmp_path / "source"))
    archive = tmp_path / "out" / "pitchey.tar"
    try:
        await nodes.start(source, timeout=90)
        async with aiohttp.ClientSession() as http:
            facts = await fill(Api(http, source.base))
            before = await views(Api(http, source.base), facts)
            # While the source serves: pg_dump is one consistent snapshot.
            done = await asyncio.to_thread(
                pitchey, cli_env(tmp_path / "source"), "backup", "-o", str(archive), "--media"
            )
            assert done.returncode == 0, done.stderr
            assert "1 media objects" in done.stdout, done.stdout
            # The backup attached to the running embedded server and left it running.
            assert await Api(http, source.base).call("GET", "/health")
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        with tarfile.open(archive) as tar:
            names = tar.getnames()
            manifest = json.load(tar.extractfile(names[0]))  # type: ignore[arg-type]
        assert names[:2] == ["manifest.json", "database.dump"] and len(names) == 3
        assert manifest["format"] == 1 and manifest["migrations"] and len(manifest["media"]) == 1
        source.terminate()
        await source.wait_exit(30)

        target_dir = tmp_path / "target"
        restored = await asyncio.to_thread(pitchey, cli_env(target_dir), "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        again = await asyncio.to_thread(pitchey, cli_env(target_dir), "restore", str(archive))
        assert again.returncode == 2 and "not empty" in again.stderr, again.stderr
        forced = await asyncio.to_thread(pitchey, cli_env(target_dir), "restore", str(archive), "--force")
        assert forced.returncode == 0, forced.stderr

        target = nodes.add("target", cli_env(target_dir))
        await nodes.start(target, timeout=90)
        async with aiohttp.ClientSession() as http:
            after = await views(Api(http, target.base), facts)
        assert after == before
        assert after["browse"] and after["incoming"] and after["portfolio"] and after["threads"]
    finally:
        nodes.kill_all()


# ------------------------------------------------------------------------------------------
# What restore refuses (the session's PostgreSQL; no server process needed)
# ------------------------------------------------------------------------------------------


@pytest.fixture
async def source_archive(fresh_database: Any, tmp_path: Path) -> Path:
    dsn = await fresh_database()
    db = await Database.connect(dsn, min_size=1, max_size=1, timeout=10)
    try:
        await db.migrate()
        await db.execute(
            "INSERT INTO users (email, password_hash, user_type) VALUES ('kept@example.com', 'x', 'creator')"
        )
    finally:
        await db.close()
    out = tmp_path / "a.tar"
    await create_backup(dsn, out, version="test")
    return out


def rewrite(archive: Path, out: Path, change: Any) -> Path:
    """A copy of `archive` whose members pass through `change(name, bytes) -> [(name, bytes)]`."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            for name, body in change(member.name, data):
                info = tarfile.TarInfo(name)
                info.size = len(body)
                dst.addfile(info, io.BytesIO(body))
    return out


async def test_restore_refuses_newer_schema_damage_and_strangers(
    source_archive: Path, tmp_path: Path
) -> None:
    def newer(name: str, data: bytes) -> list[tuple[str, bytes]]:
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["migrations"].append({"version": 9999, "name": "9999_future.sql", "checksum": "x"})
            data = json.dumps(manifest).encode()
        return [(name, data)]

    def damaged(name: str, data: bytes) -> list[tuple[str, bytes]]:
        return [(name, data[:-1] + bytes([data[-1] ^ 1]) if name == "database.dump" else data)]

    def stranger(name: str, data: bytes) -> list[tuple[str, bytes]]:
        return [(name, data)] + ([("../../escaped", b"boo")] if name == "database.dump" else [])

    def newer_format(name: str, data: bytes) -> list[tuple[str, bytes]]:
        if name == "manifest.json":
            data = json.dumps({**json.loads(data), "format": 2}).encode()
        return [(name, data)]

    cases = {
        "newer schema": (newer, "newer schema"),
        "damaged dump": (damaged, "checksum"),
        "member outside the manifest": (stranger, "unexpected member"),
        "newer format": (newer_format, "archive format 2"),
    }
    for label, (change, reason) in cases.items():
        crafted = rewrite(source_archive, tmp_path / f"{label}.tar", change)
        with pytest.raises(BackupError, match=reason):
            unpack(crafted, tmp_path / f"{label}-out")
    assert not (tmp_path.parent / "escaped").exists()
    not_tar = tmp_path / "x.tar"
    not_tar.write_bytes(b"not an archive")
    with pytest.raises(BackupError, match=r"cannot read|not a Pitchey backup"):
        unpack(not_tar, tmp_path / "x-out")


async def test_restore_into_a_database_then_refuse_it_unless_forced(
    source_archive: Path, fresh_database: Any
) -> None:
    target = await fresh_database()
    await restore_backup(target, source_archive, media=None)
    conn = await asyncpg.connect(target)
    try:
        assert await conn.fetchval("SELECT email FROM users") == "kept@example.com"
        await conn.execute("UPDATE users SET email = 'changed@example.com'")
    finally:
        await conn.close()
    with pytest.raises(BackupError, match="not empty"):
        await restore_backup(target, source_archive, media=None)
    await restore_backup(target, source_archive, media=None, force=True)
    conn = await asyncpg.connect(target)
    try:
        assert await conn.fetchval("SELECT email FROM users") == "kept@example.com"
    finally:
        await conn.close()


async def test_scheduled_backup_runs_once_per_period_across_nodes_and_keeps_the_newest(
    fresh_database: Any, tmp_path: Path
) -> None:
    dsn = await fresh_database()
    nodes = [await Database.connect(dsn, min_size=1, max_size=2, timeout=10) for _ in range(3)]
    try:
        await nodes[0].migrate()
        directory = tmp_path / "backups"
        directory.mkdir()
        (directory / "notes.txt").write_text("not an archive: never pruned")
        start = datetime(2026, 12, 1, tzinfo=UTC)
        for day in range(4):
            now = start + timedelta(days=day, minutes=5)
            taken = await asyncio.gather(
                *(
                    scheduled_backup(
                        db,
                        dsn,
                        directory=directory,
                        keep=2,
                        interval=86400,
                        version="t",
                        media=None,
                        now=now,
                        node=f"node{i}",
                    )
                    for i, db in enumerate(nodes)
                )
            )
            assert sum(p is not None for p in taken) == 1, taken
        kept = sorted(p.name for p in directory.iterdir())
        assert kept == [
            "notes.txt",
            "pitchey-backup-20261203T000000Z.tar",
            "pitchey-backup-20261204T000000Z.tar",
        ]
        rows = await nodes[0].fetch("SELECT file, error FROM backup_runs ORDER BY period_start")
        assert [r["error"] for r in rows] == [None] * 4 and rows[-1]["file"] == kept[-1]
        assert prune(directory, 1) == [directory / kept[1]]
    finally:
        for db in nodes:
            await db.close()


def test_backup_of_an_unreachable_database_says_so(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "d")
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    done = pitchey(env, "backup", "-o", str(tmp_path / "x.tar"))
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "x.tar").exists()
    assert os.listdir(tmp_path) == ["d"] or not any(p.name.startswith(".pitchey") for p in tmp_path.iterdir())
