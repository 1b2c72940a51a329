"""`notifications.send`: a notification enqueued in the transaction of the write it follows
(pitchey.storage.jobs.enqueue_notification), stored and pushed live by the user's room."""

from __future__ import annotations

from typing import Any

from procrastinate import JobContext, RetryStrategy

from pitchey.storage.jobs import NOTIFY_TASK, QUEUE

from ..jobs import state, tasks


@tasks.task(name=NOTIFY_TASK, queue=QUEUE, pass_context=True, retry=RetryStrategy(max_attempts=5, wait=5))
async def send(
    context: JobContext,
    userId: int,
    kind: str,
    title: str,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    note = await state(context).realtime.hub.notify(userId, kind, title, body, data)
    return note.id
