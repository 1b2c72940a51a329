"""`notifications.send`: a notification enqueued in the transaction of the write it follows
(pitchey.storage.jobs.enqueue_notification), stored and pushed live by the user's room."""

from __future__ import annotations

from typing import Any

from procrastinate import JobContext, RetryStrategy

from pitchey.protocol.models import NOTIFICATION_KINDS
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
    # The kind comes back from the queue as JSON: one the preferences cannot switch off would be a
    # bug of the enqueueing write, so the job fails (visible in `pitchey jobs`) rather than store it.
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    note = await state(context).realtime.hub.notify(userId, kind, title, body, data)
    return note.id
