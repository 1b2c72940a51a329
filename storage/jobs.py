"""The job queue's SQL: enqueue inside the caller's transaction, list, retry.

The queue is procrastinate's (migration 0013 is its schema; server/jobs.py runs its workers).
Jobs are inserted here through procrastinate's own `procrastinate_defer_jobs_v1` function on the
caller's asyncpg connection, so a job and the write that causes it commit or roll back together:
no job for a write that rolled back, no write without its job. Its insert trigger sends the
NOTIFY that wakes a listening worker when the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from .database import Database

QUEUE = "pitchey"
"""Every job of the platform goes to this queue (one kind of worker runs them all)."""
NOTIFY_TASK = "notifications.send"
"""Store a notification and push it live (server/tasks/notifications.py)."""


async def enqueue(
    conn: asyncpg.Connection,
    task: str,
    args: dict[str, Any],
    *,
    lock: str | None = None,
    scheduled_at: datetime | None = None,
    priority: int = 0,
) -> int:
    """Insert one job in the caller's transaction; its id.

    `lock` serialises jobs that touch the same thing (procrastinate runs at most one job per lock
    at a time). No queueing lock here: its unique violation would abort the caller's transaction.
    """
    job_id = await conn.fetchval(
        """
        SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(
            $1::varchar, $2::varchar, $3::int, $4::text, NULL::text, $5::jsonb, $6::timestamptz
        )::procrastinate_job_to_defer_v1]))
        """,
        QUEUE,
        task,
        priority,
        lock,
        orjson.dumps(args).decode(),
        scheduled_at,
    )
    return int(job_id)


async def enqueue_notification(
    conn: asyncpg.Connection,
    user_id: int,
    kind: str,
    title: str,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """A notification that must follow a write: its job commits with the write, so a crash
    after the commit cannot lose it (at worst a retried job repeats it)."""
    args = {"userId": user_id, "kind": kind, "title": title, "body": body, "data": data or {}}
    return await enqueue(conn, NOTIFY_TASK, args)


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    task: str
    status: str
    attempts: int
    args: dict[str, Any]
    scheduled_at: datetime | None
    last_event: str | None
    last_event_at: datetime | None


class JobStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, statuses: list[str], limit: int = 100) -> list[JobRow]:
        rows = await self.db.fetch(
            """
            SELECT j.id, j.task_name, j.status::text AS status, j.attempts, j.args, j.scheduled_at,
                   e.type::text AS last_event, e.at AS last_event_at
            FROM procrastinate_jobs j
            LEFT JOIN LATERAL (
                SELECT type, at FROM procrastinate_events WHERE job_id = j.id ORDER BY id DESC LIMIT 1
            ) e ON true
            WHERE j.status::text = ANY($1::text[])
            ORDER BY j.id DESC
            LIMIT $2
            """,
            statuses,
            limit,
        )
        return [
            JobRow(
                r["id"],
                r["task_name"],
                r["status"],
                r["attempts"],
                orjson.loads(r["args"]) if isinstance(r["args"], str) else dict(r["args"]),
                r["scheduled_at"],
                r["last_event"],
                r["last_event_at"],
            )
            for r in rows
        ]

    async def retry(self, job_id: int) -> bool:
        """A failed job back to the queue, now; False when there is no failed job of that id."""
        async with self.db.transaction() as conn:
            status = await conn.fetchval(
                "SELECT status::text FROM procrastinate_jobs WHERE id = $1 FOR UPDATE", job_id
            )
            if status != "failed":
                return False
            await conn.execute("SELECT procrastinate_retry_job_v2($1, now(), NULL, NULL, NULL)", job_id)
        return True

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetch(
            "SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs GROUP BY status"
        )
        return {r["status"]: int(r["n"]) for r in rows}
