"""Background jobs: a durable queue on the PostgreSQL we already run, with procrastinate.

Why procrastinate (docs/architecture.md, "Background jobs"): the queue lives in the database
every install already has (the embedded one included), so a job is enqueued in the same
transaction as the write that causes it (`pitchey.storage.jobs.enqueue`); it is asyncio-native,
wakes workers with LISTEN/NOTIFY, retries with backoff, serialises jobs by lock, and defers each
periodic job once per period across every worker (a unique row per task and timestamp). arq and
Dramatiq would need Redis, which a one-node install does not run, and could not share the
write's transaction.

Who runs jobs: `pitchey serve` runs a worker beside the API by default (`PITCHEY_JOB_WORKER`),
and `pitchey worker` runs one alone (several nodes can add workers). A worker killed mid-job
leaves the job `doing`; its heartbeat stops, and the `jobs.recover_stalled` periodic task of any
live worker puts the job back in the queue. Every task is therefore written to be run again:
its effect is guarded in SQL (a state transition that happens once) and its calls out carry an
idempotency key.

Tasks are declared on the `tasks` blueprint by the modules of `pitchey.server.tasks`, and read
the app's services from the worker's context (`state(context)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator

from aiohttp import web
from procrastinate import App, Blueprint, JobContext, PsycopgConnector

from pitchey.storage.jobs import QUEUE

from .state import APP_STATE, AppState

log = logging.getLogger("pitchey.jobs")

tasks = Blueprint()
"""Where the task modules declare their tasks (a declaration table, like the endpoint table)."""


def state(context: JobContext) -> AppState:
    """The app's services, handed to the worker at start."""
    found = context.additional_context.get("state")
    assert isinstance(found, AppState), "the worker was started without the app state"
    return found


def build_queue(dsn: str, pool_size: int = 4) -> App:
    """A procrastinate app on `dsn` with every task of the platform registered."""
    from . import tasks as _task_modules  # noqa: F401  (importing registers the tasks)

    connector = PsycopgConnector(conninfo=dsn, min_size=1, max_size=pool_size)
    # Finished jobs stay (so `pitchey jobs` can show them) until the cleanup task prunes them.
    app = App(connector=connector)
    app.add_tasks_from(tasks, namespace="")
    return app


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# croniter reads a sixth field as seconds: every 10 seconds.
@tasks.periodic(cron="* * * * * */10")
@tasks.task(name="jobs.recover_stalled", queue=QUEUE, pass_context=True)
async def recover_stalled(context: JobContext, timestamp: int) -> int:
    """Put back in the queue the jobs of workers that stopped beating (killed, frozen, cut off)."""
    app = context.app
    assert app is not None
    settings = state(context).settings
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.job_stalled_after)
    count = 0
    for job in stalled:
        if job.id is None:
            continue
        await app.job_manager.retry_job(job)
        log.warning("job %s (%s) was stalled: queued again", job.id, job.task_name)
        count += 1
    return count


async def run_worker(app: App, st: AppState, *, wait: bool = True) -> None:
    settings = st.settings
    await app.run_worker_async(
        queues=[QUEUE],
        name=worker_name(),
        concurrency=settings.job_concurrency,
        install_signal_handlers=False,
        additional_context={"state": st},
        update_heartbeat_interval=settings.job_heartbeat,
        stalled_worker_timeout=settings.job_stalled_after,
        fetch_job_polling_interval=settings.job_poll,
        shutdown_graceful_timeout=settings.shutdown_timeout,
        wait=wait,
    )


def setup_jobs(app: web.Application, dsn: str, *, worker: bool | None = None) -> None:
    """Run a job worker with the app (`state.jobs` while it runs), unless disabled.

    Enqueueing needs nothing from here (it is SQL in the write's transaction), so with the
    worker off (`PITCHEY_JOB_WORKER=false`, other processes run `pitchey worker`) no queue
    connection is opened at all.
    """
    st = app[APP_STATE]
    if not (worker if worker is not None else st.settings.job_worker):
        return

    async def context(app: web.Application) -> AsyncIterator[None]:
        queue = build_queue(dsn)
        await queue.open_async()
        st.jobs = queue
        task = asyncio.create_task(run_worker(queue, st), name="job-worker")
        try:
            yield
        finally:
            # Cancelling is procrastinate's graceful stop: no new job is fetched and running
            # ones get shutdown_timeout to finish (then they stay `doing` for recovery).
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            st.jobs = None
            await queue.close_async()

    app.cleanup_ctx.append(context)
