"""Periodic housekeeping: the daily cleanup, and NDAs that reached the end of their term.

Periodic jobs are deferred by every worker's deferrer, but procrastinate keeps one row per task
and period (a unique key), so each runs once per period however many nodes run workers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from procrastinate import JobContext

from pitchey.storage.jobs import QUEUE
from pitchey.storage.maintenance import MaintenanceStore

from ..backup import scheduled_backup
from ..jobs import state, tasks
from ..nda_expiry import expire_ndas

log = logging.getLogger("pitchey.tasks.maintenance")

IDEMPOTENCY_HOURS = 24.0
"""How long a client may retry with the same Idempotency-Key (docs/api-money.md)."""
FINISHED_JOB_DAYS = 7.0
BACKUP_RUN_DAYS = 90.0


@tasks.periodic(cron="23 3 * * *")  # daily, at a quiet hour (UTC)
@tasks.task(name="maintenance.cleanup", queue=QUEUE, pass_context=True)
async def cleanup(context: JobContext, timestamp: int) -> dict[str, int]:
    st = state(context)
    cleaned = await MaintenanceStore(st.database).clean(
        idempotency_hours=IDEMPOTENCY_HOURS,
        snapshot_seconds=max(st.settings.room_history_seconds, 3600.0),
        job_days=FINISHED_JOB_DAYS,
        backup_run_days=BACKUP_RUN_DAYS,
    )
    log.info("cleanup: %s", cleaned)
    return {
        "idempotencyKeys": cleaned.idempotency_keys,
        "roomSnapshots": cleaned.room_snapshots,
        "finishedJobs": cleaned.finished_jobs,
        "backupRuns": cleaned.backup_runs,
    }


@tasks.periodic(cron="7 * * * *")  # hourly: a period of PITCHEY_BACKUP_INTERVAL is claimed once
@tasks.task(name="backups.scheduled", queue=QUEUE, pass_context=True)
async def scheduled_backups(context: JobContext, timestamp: int) -> str | None:
    """This period's backup into PITCHEY_BACKUP_DIR, if no run took it yet (server/backup.py)."""
    st = state(context)
    settings = st.settings
    if settings.backup_dir is None:
        return None
    path = await scheduled_backup(
        st.database,
        st.dsn,
        directory=settings.backup_dir,
        keep=settings.backup_keep,
        interval=settings.backup_interval,
        version=st.version,
        media=st.blobs,
        now=datetime.fromtimestamp(timestamp, UTC),
    )
    return str(path) if path else None


@tasks.periodic(cron="* * * * *")  # every minute: an NDA's term is months, a minute is exact enough
@tasks.task(name="ndas.expire", queue=QUEUE, pass_context=True)
async def expire(context: JobContext, timestamp: int) -> int:
    """NDAs past their term flip to expired (each one turn of its requester's room; see
    server/nda_expiry.py), with the clock of the period the job is for."""
    now = datetime.fromtimestamp(timestamp, UTC)
    return len(await expire_ndas(state(context).realtime.hub, now))
