"""The daily email digest of unread notifications, per the user's preferences.

Every day at 08:00 UTC, `digests.daily` enqueues one `digests.send` per user with unread
notifications of kinds they chose for the digest (`emailDigest` in /api/user/preferences) that no
earlier digest carried. Each send claims the user's row for the day, mails through `SMTP_URL`,
then marks it sent: one digest per user and day, however many workers run (a send that died
after mailing and before marking is sent again: at least once, never lost). Without `SMTP_URL`
there are no digests.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from procrastinate import JobContext, RetryStrategy

from pitchey.storage.digests import DigestItem, DigestStore
from pitchey.storage.jobs import QUEUE, enqueue

from ..jobs import state, tasks
from ..mail import Mail, SmtpRelay

log = logging.getLogger("pitchey.tasks.digests")

SEND_TASK = "digests.send"


@tasks.periodic(cron="0 8 * * *")
@tasks.task(name="digests.daily", queue=QUEUE, pass_context=True)
async def daily(context: JobContext, timestamp: int) -> int:
    """Fan out: one send job per user due (notifications up to this period's start)."""
    st = state(context)
    if not st.settings.smtp_url:
        return 0
    before = datetime.fromtimestamp(timestamp, UTC)
    users = await DigestStore(st.database).users_due(before)
    async with st.database.transaction() as conn:
        for user_id in users:
            await enqueue(
                conn,
                SEND_TASK,
                {"userId": user_id, "day": before.date().isoformat(), "before": before.isoformat()},
                lock=f"digest:{user_id}",
            )
    return len(users)


@tasks.task(
    name=SEND_TASK, queue=QUEUE, pass_context=True, retry=RetryStrategy(max_attempts=8, exponential_wait=3)
)
async def send(context: JobContext, userId: int, day: str, before: str) -> str:
    st = state(context)
    settings = st.settings
    if not settings.smtp_url:
        return "no SMTP_URL"
    store = DigestStore(st.database)
    items = await store.items(userId, datetime.fromisoformat(before))
    who = await store.recipient(userId)
    if not items or who is None:
        return "nothing to send"
    the_day = date.fromisoformat(day)
    if not await store.claim(userId, the_day, len(items), items[-1].id):
        return "already sent"
    mail = compose(who.email, who.name, items, settings.public_url)
    await SmtpRelay.from_url(settings.smtp_url).send(mail, settings.mail_from)
    await store.mark_sent(userId, the_day)
    return f"sent {len(items)}"


def compose(to: str, name: str | None, items: list[DigestItem], public_url: str | None) -> Mail:
    """Plain text: what happened, newest last, and where to read it."""
    count = len(items)
    lines = [f"Hello {name}," if name else "Hello,", ""]
    lines.append(f"You have {count} unread notification{'s' if count != 1 else ''} on Pitchey:")
    lines.append("")
    for item in items:
        lines.append(f"- {item.title} ({item.created_at:%d %b %H:%M} UTC)")
        if item.body:
            lines.append(f"  {item.body}")
    lines.append("")
    if public_url:
        lines.append(f"Read them at {public_url.rstrip('/')}/notifications")
    lines.append("You get this digest for the kinds you chose in Settings > Notifications.")
    subject = f"Pitchey: {count} unread notification{'s' if count != 1 else ''}"
    return Mail(to, name, subject, "\n".join(lines) + "\n")
