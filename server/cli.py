"""`pitchey`: serve the API, apply migrations, back up and restore."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from pitchey.loadtest.cli import add_parsers as add_loadtest_parsers
from pitchey.loadtest.cli import run as run_loadtest
from pitchey.storage.backups import BackupToolError
from pitchey.storage.database import Database, StorageUnavailable
from pitchey.storage.embedded import EmbeddedPostgres
from pitchey.storage.jobs import JobStore
from pitchey.storage.operators import OperatorStore

from .app import _version, create_app, openapi_document
from .backup import BackupError, archive_name, create_backup, restore_backup
from .blobstore import blobstore_from_settings
from .httpserver import Runner
from .logs import configure_logging
from .settings import Settings, SettingsError, load_settings

log = logging.getLogger("pitchey.server")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pitchey",
        description="Pitchey Realtime: the API and real-time server of the Pitchey platform.",
        epilog="Settings come from the environment (PITCHEY_*, DATABASE_URL, JWT_SECRET); see README.md.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", help="address to listen on (PITCHEY_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (PITCHEY_PORT, default 8080)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    spec = sub.add_parser("openapi", help="print the OpenAPI document (the web app's types come from it)")
    spec.add_argument("-o", "--output", help="write to this file instead of standard output")
    add_loadtest_parsers(sub)  # record, replay (pitchey.loadtest; docs/replay.md)
    backup = sub.add_parser("backup", help="write a backup archive of the database (and media)")
    backup.add_argument("-o", "--output", help="archive path (default: pitchey-backup-<time>.tar here)")
    backup.add_argument("--media", action="store_true", help="include the media store's objects")
    sub.add_parser("worker", help="run background jobs only (no HTTP); several may run at once")
    jobs = sub.add_parser("jobs", help="list background jobs, or retry a failed one")
    jobs.add_argument("action", nargs="?", choices=("list", "retry"), default="list")
    jobs.add_argument("job_id", nargs="?", type=int, help="the job to retry")
    jobs.add_argument(
        "--status",
        action="append",
        choices=("todo", "doing", "failed", "succeeded", "cancelled", "aborted"),
        help="only jobs in this state (repeatable; default: todo, doing, failed)",
    )
    restore = sub.add_parser("restore", help="restore a backup archive into an empty database")
    restore.add_argument("archive", help="a file written by `pitchey backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a target that is not empty (its data is lost)"
    )
    operator = sub.add_parser("operator", help="grant or revoke the operator role (/ops; docs/ops.md)")
    operator.add_argument(
        "action", choices=("add", "remove", "list"), help="grant, revoke, or list operators"
    )
    operator.add_argument("email", nargs="?", help="the account's email (add, remove)")
    return p


class _Database:
    """The DSN to use: DATABASE_URL, or an embedded PostgreSQL started (and stopped) by us."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None

    def __enter__(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        self.embedded = EmbeddedPostgres(self.settings.pgdata)
        return self.embedded.start()

    def __exit__(self, *exc: object) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def tune_gc() -> None:
    """Keep full collections off the latency tail.

    Everything alive after start-up (modules, settings, the app) moves to the permanent
    generation, so full collections no longer walk it; and collections run less often. Measured
    (docs/benchmarks.md): with 1,000 sessions the default collector ran 13-16 full collections of
    60-190 ms in 25 s, and they set the delivery p99.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


async def _serve(settings: Settings, dsn: str, *, http: bool = True) -> None:
    """`pitchey serve`, or with http=False `pitchey worker`: the same app (database, rooms,
    backplane, job queue) started without a listener, its job worker on."""
    if not http:
        settings = settings.model_copy(update={"job_worker": True})
    app = create_app(settings, dsn)
    # Runner: aiohttp's parser refusals (414, 431, 400) are answered in the envelope.
    runner = Runner(app, access_log=None, shutdown_timeout=settings.shutdown_timeout, handle_signals=False)
    await runner.setup()
    tune_gc()
    if http:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
        await site.start()
        log.info("listening on http://%s:%d", settings.host, settings.port)
        print(f"pitchey: listening on http://{settings.host}:{settings.port}", flush=True)
    else:
        log.info("job worker running")
        print("pitchey: job worker running", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: no new connections, finishing in-flight requests")
    # AppRunner.cleanup stops the listeners, runs on_shutdown (live sessions are told to
    # reconnect), waits up to shutdown_timeout for in-flight handlers, then closes the pool.
    await runner.cleanup()
    log.info("stopped")


async def _migrate(dsn: str, settings: Settings) -> list[str]:
    db = await Database.connect(dsn, min_size=1, max_size=1, timeout=settings.db_timeout)
    try:
        return await db.migrate()
    finally:
        await db.close()


async def _operator(dsn: str, settings: Settings, action: str, email: str | None) -> int:
    """Grant or revoke the role in the database every node reads: live sessions of a removed
    operator lose their global metrics subscriptions within a second (pitchey.rooms.metrics)."""
    db = await Database.connect(dsn, min_size=1, max_size=1, timeout=settings.db_timeout)
    try:
        await db.migrate()  # the operators table may be newer than the database
        store = OperatorStore(db)
        if action == "list":
            for op in await store.all():
                print(f"{op.email}\t{op.user_id}\tsince {op.granted_at:%Y-%m-%d %H:%M}Z")
            return 0
        if not email:
            print(f"pitchey: operator {action} needs an EMAIL", file=sys.stderr)
            return 2
        email = email.strip().lower()  # as accounts store it
        if action == "add":
            found = await store.grant(email) is not None
        else:
            held = await store.revoke(email)
            found = held is not None
            if held is False:
                print(f"pitchey: {email} was not an operator")
                return 0
        if not found:
            print(f"pitchey: no account with the email {email}", file=sys.stderr)
            return 1
        print(f"pitchey: {email} is {'now an operator' if action == 'add' else 'no longer an operator'}")
        return 0
    finally:
        await db.close()


def _print_openapi(output: str | None) -> int:
    """Stable bytes (sorted keys, one trailing newline) so a stale copy shows up as a diff."""
    text = json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


async def _jobs_command(args: argparse.Namespace, settings: Settings, dsn: str) -> int:
    """`pitchey jobs [list] [--status S]` and `pitchey jobs retry ID`."""
    db = await Database.connect(dsn, min_size=1, max_size=1, timeout=settings.db_timeout)
    try:
        store = JobStore(db)
        if args.action == "retry":
            if args.job_id is None:
                print("pitchey: jobs retry needs a job id", file=sys.stderr)
                return 2
            if not await store.retry(args.job_id):
                print(f"pitchey: no failed job {args.job_id}", file=sys.stderr)
                return 1
            print(f"pitchey: job {args.job_id} queued again")
            return 0
        rows = await store.list(args.status or ["todo", "doing", "failed"])
        print(f"{'id':>8}  {'status':<9} {'attempts':>8}  {'task':<30} last event")
        for job in rows:
            when = f"{job.last_event} {job.last_event_at:%Y-%m-%d %H:%M:%S}Z" if job.last_event_at else ""
            print(f"{job.id:>8}  {job.status:<9} {job.attempts:>8}  {job.task:<30} {when}")
        counts = await store.counts()
        print("totals: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no jobs"))
        return 0
    finally:
        await db.close()


async def _backup_command(args: argparse.Namespace, settings: Settings, dsn: str) -> int:
    """`pitchey backup` / `pitchey restore`: 0 done, 2 refused (the reason in one line)."""
    store = blobstore_from_settings(settings)
    await store.start()
    try:
        if args.command == "backup":
            out = Path(args.output or archive_name(datetime.now(UTC)))
            done = await create_backup(dsn, out, version=_version(), media=store if args.media else None)
            print(
                f"pitchey: backup written to {done.path} ({done.migrations} migrations, "
                f"{done.database_bytes} bytes of database, {done.media_objects} media objects)"
            )
        else:
            manifest = await restore_backup(dsn, Path(args.archive), media=store, force=args.force)
            media = manifest.get("media")
            print(
                f"pitchey: restored the backup of {manifest.get('createdAt')}"
                + (f" with {len(media)} media objects" if media is not None else " (no media in it)")
            )
    except BackupError as exc:
        print(f"pitchey: {exc}", file=sys.stderr)
        return 2
    except BackupToolError as exc:
        print(f"pitchey: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "openapi":
        return _print_openapi(args.output)
    if args.command in ("record", "replay"):
        # `record --from-db` finds the database exactly as `serve` does (DATABASE_URL or embedded).
        return run_loadtest(args, lambda: _Database(load_settings()))
    overrides: dict[str, object] = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["port"] = args.port
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"pitchey: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        with _Database(settings) as dsn:
            if args.command == "operator":
                return asyncio.run(_operator(dsn, settings, args.action, args.email))
            if args.command == "worker":
                asyncio.run(_serve(settings, dsn, http=False))
                return 0
            if args.command == "jobs":
                return asyncio.run(_jobs_command(args, settings, dsn))
            if args.command in ("backup", "restore"):
                return asyncio.run(_backup_command(args, settings, dsn))
            if args.command == "migrate":
                applied = asyncio.run(_migrate(dsn, settings))
                print(
                    f"pitchey: applied {len(applied)} migration(s)"
                    + (f": {', '.join(applied)}" if applied else "")
                )
            else:
                asyncio.run(_serve(settings, dsn))
    except StorageUnavailable as exc:
        print(f"pitchey: database unavailable: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"pitchey: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
