"""Housekeeping SQL for the daily cleanup task (server/tasks/maintenance.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .database import Database


@dataclass(frozen=True, slots=True)
class Cleaned:
    idempotency_keys: int
    room_snapshots: int
    finished_jobs: int
    backup_runs: int


class MaintenanceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def clean(
        self, *, idempotency_hours: float, snapshot_seconds: float, job_days: float, backup_run_days: float
    ) -> Cleaned:
        """One pass; each statement is bounded by its own window and safe to run again."""
        async with self.db.transaction() as conn:
            # Idempotency keys are a client's retry window, not an archive: settled attempts
            # older than the window let their key go (a pending one keeps it: it may be
            # re-driven). Renewal keys are the platform's own exactly-once guard: kept.
            payments = await conn.execute(
                """UPDATE payments SET idempotency_key = NULL
                   WHERE idempotency_key IS NOT NULL AND status <> 'pending' AND purpose <> 'renewal'
                     AND created_at < now() - make_interval(secs => $1)""",
                idempotency_hours * 3600,
            )
            investments = await conn.execute(
                """UPDATE investments SET idempotency_key = NULL
                   WHERE idempotency_key IS NOT NULL AND created_at < now() - make_interval(secs => $1)""",
                idempotency_hours * 3600,
            )
            # A snapshot serves clients reconnecting within the history window after the room
            # slept; beyond it they resync anyway.
            snapshots = await conn.execute(
                "DELETE FROM room_snapshots WHERE saved_at < now() - make_interval(secs => $1)",
                snapshot_seconds,
            )
            jobs = await conn.execute(
                """DELETE FROM procrastinate_jobs
                   WHERE status IN ('succeeded', 'cancelled', 'aborted')
                     AND id IN (SELECT job_id FROM procrastinate_events
                                GROUP BY job_id HAVING max(at) < now() - make_interval(days => $1))""",
                int(job_days),
            )
            runs = await conn.execute(
                "DELETE FROM backup_runs WHERE started_at < now() - make_interval(days => $1)",
                int(backup_run_days),
            )
        return Cleaned(_count(payments) + _count(investments), _count(snapshots), _count(jobs), _count(runs))


def _count(status: str) -> int:
    """The row count of an asyncpg command status ("UPDATE 3", "DELETE 0")."""
    return int(status.rsplit(" ", 1)[-1])
