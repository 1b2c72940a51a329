"""Background jobs on procrastinate, with real workers against the real database.

- the queue's schema is procrastinate's own (migration 0013 equals the installed version's);
- a job enqueued by a write that rolls back never exists; a write's job commits with it;
- investments settle without anyone calling the API: completed with two ledger entries and a
  notification to each party, failed when the transfer is declined, retried while the provider
  is down;
- a `pitchey serve` killed with -9 in the middle of a settlement: the job is taken back and run
  again by the next worker, and the money moves once (one transfer at the processor, two ledger
  entries);
- two nodes never both run a periodic job for the same period; `pitchey jobs` lists and retries.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from fault_helpers import NodeSet, free_port, node_env
from payment_processor import Processor
from realtime_helpers import bearer, connect, make_pitch, user, wait_until

from pitchey.storage.database import Database
from pitchey.storage.jobs import enqueue

FAST_WORKER = {"job_worker": True, "job_poll": 0.2, "job_heartbeat": 0.5, "job_stalled_after": 2.0}


async def invest(client: Any, token: str, pitch_id: int, amount: str) -> int:
    resp = await client.post(
        "/api/investments/create", json={"pitchId": pitch_id, "amount": amount}, headers=bearer(token)
    )
    body = await resp.json()
    assert resp.status == 201, body
    return int(body["data"]["id"])


async def status_of(db: asyncpg.Connection, investment_id: int) -> str:
    return str(await db.fetchval("SELECT status FROM investments WHERE id = $1", investment_id))


def test_the_queue_schema_is_procrastinates_own() -> None:
    mine = (resources.files("pitchey.storage") / "migrations" / "0013_job_queue.sql").read_text()
    theirs = (resources.files("procrastinate") / "sql" / "schema.sql").read_text()
    assert mine.endswith(theirs), "procrastinate's schema changed: add a migration with its upgrade"


async def test_a_job_commits_or_rolls_back_with_its_write(db_conn: asyncpg.Connection) -> None:
    with pytest.raises(RuntimeError):
        async with db_conn.transaction():
            await enqueue(db_conn, "investments.settle", {"investmentId": 1})
            raise RuntimeError("the write failed after its job was enqueued")
    assert await db_conn.fetchval("SELECT count(*) FROM procrastinate_jobs") == 0
    async with db_conn.transaction():
        job = await enqueue(db_conn, "investments.settle", {"investmentId": 1}, lock="investment:1")
    row = await db_conn.fetchrow("SELECT task_name, status::text, args, lock FROM procrastinate_jobs")
    assert row is not None and dict(row) == {
        "task_name": "investments.settle",
        "status": "todo",
        "args": '{"investmentId": 1}',
        "lock": "investment:1",
    }
    assert job > 0


async def test_an_investment_and_its_settlement_job_are_one_write(
    client: Any, db_conn: asyncpg.Connection
) -> None:
    _, owner = await user(client, "creator")
    _, investor = await user(client, "investor")
    pitch = await make_pitch(client, owner)
    inv = await invest(client, investor, pitch["id"], "10.00")
    jobs = await db_conn.fetch("SELECT task_name, args FROM procrastinate_jobs")
    assert [(j["task_name"], j["args"]) for j in jobs] == [
        ("investments.settle", f'{{"investmentId": {inv}}}')
    ]
    # The worker is off in this client (tests' default): the investment stays pending.
    await asyncio.sleep(0.3)
    assert await status_of(db_conn, inv) == "pending"


async def test_investments_settle_without_anyone_calling_the_api(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client(**FAST_WORKER)
    owner_id, owner = await user(client, "creator")
    investor_id, investor = await user(client, "investor")
    pitch = await make_pitch(client, owner, title="Settled pitch")
    audience = await connect(client, owner)
    await audience.subscribe(f"pitch:{pitch['id']}")
    ok = await invest(client, investor, pitch["id"], "1250.50")
    declined = await invest(client, investor, pitch["id"], "40.02")  # the test mode declines .02

    async def settled() -> bool:
        return {await status_of(db_conn, ok), await status_of(db_conn, declined)} <= {"completed", "failed"}

    await wait_until(settled, timeout=20, what="both investments settled")
    assert await status_of(db_conn, ok) == "completed"
    assert await status_of(db_conn, declined) == "failed"
    ledger = await db_conn.fetch(
        "SELECT investment_id, user_id, side, amount FROM investment_ledger ORDER BY id"
    )
    assert [tuple(r) for r in ledger] == [
        (ok, investor_id, "investor", Decimal("-1250.50")),
        (ok, owner_id, "creator", Decimal("1250.50")),
    ]

    async def notified() -> bool:
        n = await db_conn.fetchval(
            "SELECT count(*) FROM notifications WHERE kind IN ('investment_completed', 'investment_failed')"
        )
        return int(n) == 4

    await wait_until(notified, timeout=20, what="both parties told of both settlements")
    kinds = await db_conn.fetch(
        "SELECT user_id, kind FROM notifications WHERE kind LIKE 'investment_%' ORDER BY user_id, kind"
    )
    assert sorted((r["user_id"], r["kind"]) for r in kinds) == sorted(
        [
            (investor_id, "investment_completed"),
            (owner_id, "investment_completed"),
            (investor_id, "investment_failed"),
            (owner_id, "investment_failed"),
        ]
    )
    # The pitch's room heard of the completed one (not of the failed one), without amounts.
    update = await audience.expect("investment_update", f"pitch:{pitch['id']}", timeout=10)
    assert update["data"] == {"pitchId": pitch["id"], "investors": 1}
    await audience.close()
    # The portfolio counts the settled investment; the failed one is no position.
    resp = await client.get("/api/investments/portfolio", headers=bearer(investor))
    data = (await resp.json())["data"]
    assert data["totalInvested"] == "1250.50"
    assert {s["status"] for s in data["byStatus"]} == {"completed", "failed"}


async def test_a_provider_outage_is_retried_and_nothing_is_booked(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client(**FAST_WORKER)
    _, owner = await user(client, "creator")
    _, investor = await user(client, "investor")
    pitch = await make_pitch(client, owner)
    inv = await invest(client, investor, pitch["id"], "7.19")  # the test mode fails .19

    async def retried() -> bool:
        attempts = await db_conn.fetchval(
            "SELECT attempts FROM procrastinate_jobs WHERE task_name = 'investments.settle'"
        )
        return bool(attempts and attempts >= 2)

    await wait_until(retried, timeout=30, what="the settlement retried")
    assert await status_of(db_conn, inv) == "pending"
    assert await db_conn.fetchval("SELECT count(*) FROM investment_ledger") == 0


# ------------------------------------------------------------------------------------------
# Subscriptions renew (the clock moved by making the renewal job due now)
# ------------------------------------------------------------------------------------------

NEXT_YEAR = datetime.now(UTC).year + 1


async def subscribe(client: Any, token: str, number: str, plan: str = "basic") -> None:
    card = {"number": number, "expMonth": 12, "expYear": NEXT_YEAR, "cvc": "123"}
    resp = await client.post(
        "/api/payments/subscribe", json={"plan": plan, "card": card}, headers=bearer(token)
    )
    assert resp.status == 201, await resp.text()


async def make_renewal_due(db: asyncpg.Connection) -> int:
    """Move the clock for the queue: the pending renewal job is due now."""
    job = await db.fetchval(
        """UPDATE procrastinate_jobs SET scheduled_at = now()
           WHERE task_name = 'subscriptions.renew' AND status = 'todo' RETURNING id"""
    )
    assert job is not None, "no renewal job waiting"
    return int(job)


async def subscription_row(db: asyncpg.Connection, user_id: int) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM subscriptions WHERE user_id = $1", user_id)
    assert row is not None
    return row


async def test_a_subscription_renews_once_per_period_even_when_workers_race(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client(**FAST_WORKER)
    other = await make_client(**FAST_WORKER)  # a second worker on the same database
    user_id, token = await user(client, "investor")
    await subscribe(client, token, "4242424242424242")
    first = await subscription_row(db_conn, user_id)
    assert first["payment_method"] == "pm_test_4242" and first["card_last4"] == "4242"
    job = await db_conn.fetchrow(
        "SELECT args, scheduled_at FROM procrastinate_jobs WHERE task_name = 'subscriptions.renew'"
    )
    assert job is not None and job["scheduled_at"] == first["current_period_end"]
    # The same period's renewal enqueued twice (as a race would): both run, one renews.
    await db_conn.execute(
        """INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, scheduled_at)
           SELECT queue_name, task_name, lock, args, scheduled_at FROM procrastinate_jobs
           WHERE task_name = 'subscriptions.renew'"""
    )
    await db_conn.execute(
        "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = 'subscriptions.renew'"
    )

    async def renewed() -> bool:
        row = await subscription_row(db_conn, user_id)
        return bool(row["current_period_end"] > first["current_period_end"])

    await wait_until(renewed, timeout=20, what="the subscription renewed")

    async def both_ran() -> bool:
        n = await db_conn.fetchval(
            """SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'subscriptions.renew'
               AND status = 'succeeded'"""
        )
        return int(n) == 2

    await wait_until(both_ran, timeout=20, what="both renewal jobs finished")
    after = await subscription_row(db_conn, user_id)
    assert after["current_period_start"] == first["current_period_end"]  # no drift
    assert after["status"] == "active" and after["renewal_failures"] == 0
    grants = await db_conn.fetch(
        "SELECT delta FROM credit_ledger WHERE user_id = $1 AND reason = 'subscription_grant'", user_id
    )
    assert [g["delta"] for g in grants] == [10, 10]  # the first period's and the renewal's
    renewals = await db_conn.fetch(
        "SELECT status, amount FROM payments WHERE user_id = $1 AND purpose = 'renewal'", user_id
    )
    assert [(r["status"], r["amount"]) for r in renewals] == [("succeeded", Decimal("19.00"))]
    # The next period's renewal is waiting for its end.
    nxt = await db_conn.fetchval(
        """SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'subscriptions.renew'
           AND status = 'todo' AND scheduled_at = $1""",
        after["current_period_end"],
    )
    assert nxt == 1

    async def told() -> bool:
        n = await db_conn.fetchval(
            "SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'subscription_renewed'",
            user_id,
        )
        return int(n) == 1

    await wait_until(told, timeout=20, what="the renewal notification")
    resp = await other.get("/api/payments/subscription-status", headers=bearer(token))
    assert (await resp.json())["data"]["status"] == "active"


async def test_a_declined_renewal_goes_past_due_retries_then_downgrades(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client(**FAST_WORKER, renewal_retry_after=1.0, renewal_max_declines=2)
    user_id, token = await user(client, "production")
    await subscribe(client, token, "4000000000000341", plan="pro")  # renewals of it decline
    await make_renewal_due(db_conn)

    async def past_due() -> bool:
        return (await subscription_row(db_conn, user_id))["status"] == "past_due"

    await wait_until(past_due, timeout=20, what="past_due after the first decline")
    resp = await client.get("/api/payments/subscription-status", headers=bearer(token))
    status = (await resp.json())["data"]
    assert status["status"] == "past_due" and status["effectivePlan"] == "pro"

    async def expired() -> bool:
        return (await subscription_row(db_conn, user_id))["status"] == "expired"

    await wait_until(expired, timeout=30, what="expired after the last retry")
    resp = await client.get("/api/payments/subscription-status", headers=bearer(token))
    assert (await resp.json())["data"]["effectivePlan"] == "free"
    declined = await db_conn.fetch(
        "SELECT status, failure_code FROM payments WHERE user_id = $1 AND purpose = 'renewal' ORDER BY id",
        user_id,
    )
    assert [(d["status"], d["failure_code"]) for d in declined] == [("declined", "card_declined")] * 2
    grants = await db_conn.fetchval(
        "SELECT count(*) FROM credit_ledger WHERE user_id = $1 AND reason = 'subscription_grant'", user_id
    )
    assert grants == 1  # only the first, paid period

    async def told() -> bool:
        kinds = await db_conn.fetch(
            "SELECT kind FROM notifications WHERE user_id = $1 AND kind LIKE 'subscription_%' ORDER BY id",
            user_id,
        )
        return [k["kind"] for k in kinds] == ["subscription_past_due", "subscription_expired"]

    await wait_until(told, timeout=20, what="past_due then expired notifications")


# ------------------------------------------------------------------------------------------
# The daily digest reaches a real SMTP server on loopback
# ------------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd's handler: every message the relay accepted."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Any:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


async def run_daily_digest(db: asyncpg.Connection) -> None:
    """What the periodic deferrer does at 08:00, done now (for what came before this second)."""
    await asyncio.sleep(1.05)
    now = int(datetime.now(UTC).timestamp())
    async with db.transaction():
        await enqueue(db, "digests.daily", {"timestamp": now})


async def test_the_daily_digest_reaches_a_local_smtp_server_once(
    make_client: Any, db_conn: asyncpg.Connection, smtp_server: Any
) -> None:
    controller, inbox = smtp_server
    port = controller.port
    client = await make_client(
        **FAST_WORKER, smtp_url=f"smtp://127.0.0.1:{port}", public_url="https://pitchey.example"
    )
    reader_id, reader = await user(client, "creator", name="Dora Digest")
    quiet_id, _ = await user(client, "creator")  # no digest chosen: never mailed
    sender_id, sender = await user(client, "investor", name="Sam Sender")
    resp = await client.put(
        "/api/user/preferences",
        json={"notifications": {"new_message": {"emailDigest": True}}},
        headers=bearer(reader),
    )
    assert resp.status == 200, await resp.text()
    for to in (reader_id, reader_id, quiet_id):
        resp = await client.post(
            "/api/messages/send",
            json={"recipientId": to, "content": "Shall we talk?"},
            headers=bearer(sender),
        )
        assert resp.status == 201, await resp.text()
    await run_daily_digest(db_conn)
    await wait_until(lambda: len(inbox.messages) >= 1, timeout=20, what="the digest mail")
    await asyncio.sleep(1.0)  # anything more would be a second mail
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    email = await db_conn.fetchval("SELECT email FROM users WHERE id = $1", reader_id)
    assert mail.rcpt_tos == [email]
    text = mail.content.decode()
    assert "Subject: Pitchey: 2 unread notifications" in text
    assert "Hello Dora Digest," in text and "New message from Sam Sender" in text
    assert "https://pitchey.example/notifications" in text
    # The same day again (a second worker, a retried job): nothing more is sent.
    await run_daily_digest(db_conn)
    await asyncio.sleep(2.0)
    assert len(inbox.messages) == 1
    assert sender_id != reader_id


# ------------------------------------------------------------------------------------------
# Real processes: kill -9 mid-job, periodic jobs across two nodes, the CLI
# ------------------------------------------------------------------------------------------


def fast_env(dsn: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return node_env(
        dsn,
        data_dir,
        PITCHEY_JOB_POLL="0.2",
        PITCHEY_JOB_HEARTBEAT="0.5",
        PITCHEY_JOB_STALLED_AFTER="2",
        **extra,
    )


async def register(http: aiohttp.ClientSession, base: str, portal: str, n: int) -> tuple[int, str]:
    async with http.post(
        f"{base}/api/auth/{portal}/register",
        json={"email": f"jobs-{portal}-{n}@example.com", "password": "jobs tests pw 1"},
    ) as resp:
        body = await resp.json()
        assert resp.status == 201, body
        return int(body["data"]["user"]["id"]), str(body["data"]["token"])


async def test_a_worker_killed_mid_settlement_settles_once(fresh_database: Any, tmp_path: Path) -> None:
    dsn = await fresh_database()
    processor = await Processor().start()
    nodes = NodeSet(tmp_path / "logs")
    env = fast_env(dsn, tmp_path / "data", PITCHEY_PAYMENTS_URL=processor.url)
    first = nodes.add("first", env)
    try:
        await nodes.start(first, timeout=60)
        processor.hold.clear()  # the processor decides, then holds its answer: the node waits
        async with aiohttp.ClientSession() as http:
            _, owner = await register(http, first.base, "creator", 1)
            _, investor = await register(http, first.base, "investor", 1)
            async with http.post(
                f"{first.base}/api/pitches",
                json={"title": "Crash pitch", "status": "published", "visibility": "public"},
                headers=bearer(owner),
            ) as resp:
                pitch_id = (await resp.json())["data"]["id"]
            async with http.post(
                f"{first.base}/api/investments/create",
                json={"pitchId": pitch_id, "amount": "500.00"},
                headers=bearer(investor),
            ) as resp:
                assert resp.status == 201
                inv = (await resp.json())["data"]["id"]
        await asyncio.wait_for(processor.received.wait(), 20)
        first.kill()  # mid-job: the transfer is decided at the processor, nothing committed here
        db = await asyncpg.connect(dsn)
        try:
            assert await status_of(db, inv) == "pending"
            assert (
                await db.fetchval(
                    "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'investments.settle'"
                )
                == "doing"
            )
            processor.hold.set()
            second = nodes.add("second", env)
            await nodes.start(second, timeout=60)

            async def done() -> bool:
                return await status_of(db, inv) == "completed"

            await wait_until(done, timeout=40, what="the stalled settlement taken back and finished")
            assert (
                await db.fetchval("SELECT count(*) FROM investment_ledger WHERE investment_id = $1", inv) == 2
            )
            # Two calls reached the processor with one key, and it moved the money once.
            transfers = [k for p, k in processor.requests if p == "/v1/transfers"]
            assert transfers == [f"pitchey-investment-{inv}"] * 2
            assert processor.distinct_successes() == [(f"pitchey-investment-{inv}", Decimal("500.00"))]

            async def job_succeeded() -> bool:
                status = await db.fetchval(
                    "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'investments.settle'"
                )
                return bool(status == "succeeded")

            await wait_until(job_succeeded, timeout=20, what="the settlement job marked succeeded")
            events = await db.fetch(
                """SELECT e.type::text FROM procrastinate_events e
                   JOIN procrastinate_jobs j ON j.id = e.job_id
                   WHERE j.task_name = 'investments.settle' ORDER BY e.id"""
            )
            types = [e["type"] for e in events]
            # Started on the first node, taken back from it by jobs.recover_stalled once its
            # heartbeat stopped, started again on the second, finished there.
            assert types[:2] == ["deferred", "started"], types
            assert "deferred_for_retry" in types and types.count("started") == 2, types
            assert types[-1] == "succeeded", types
        finally:
            await db.close()
    finally:
        nodes.kill_all()
        await processor.stop()


async def test_a_worker_killed_mid_renewal_charges_once(fresh_database: Any, tmp_path: Path) -> None:
    dsn = await fresh_database()
    processor = await Processor().start()
    nodes = NodeSet(tmp_path / "logs")
    env = fast_env(dsn, tmp_path / "data", PITCHEY_PAYMENTS_URL=processor.url)
    first = nodes.add("first", env)
    try:
        await nodes.start(first, timeout=60)
        async with aiohttp.ClientSession() as http:
            user_id, token = await register(http, first.base, "investor", 2)
            card = {"number": "4242424242424242", "expMonth": 12, "expYear": NEXT_YEAR, "cvc": "123"}
            async with http.post(
                f"{first.base}/api/payments/subscribe",
                json={"plan": "basic", "card": card},
                headers=bearer(token),
            ) as resp:
                assert resp.status == 201, await resp.text()
        db = await asyncpg.connect(dsn)
        try:
            before = await subscription_row(db, user_id)
            processor.received.clear()
            processor.hold.clear()
            await make_renewal_due(db)
            await asyncio.wait_for(processor.received.wait(), 20)
            first.kill()  # the saved card was charged at the processor; nothing committed here
            processor.hold.set()
            second = nodes.add("second", env)
            await nodes.start(second, timeout=60)

            async def renewed() -> bool:
                row = await subscription_row(db, user_id)
                return bool(row["current_period_end"] > before["current_period_end"])

            await wait_until(renewed, timeout=40, what="the stalled renewal taken back and finished")
            saved = [k for p, k in processor.requests if p == "/v1/charges/saved"]
            assert len(saved) == 2 and len(set(saved)) == 1, saved  # one key, asked twice
            renewals = [(k, a) for k, a in processor.distinct_successes() if k in saved]
            assert renewals == [(saved[0], Decimal("19.00"))]  # charged once
            grants = await db.fetchval(
                "SELECT count(*) FROM credit_ledger WHERE user_id = $1 AND reason = 'subscription_grant'",
                user_id,
            )
            assert grants == 2  # the first period's and the renewal's, once
            rows = await db.fetch(
                "SELECT status FROM payments WHERE user_id = $1 AND purpose = 'renewal'", user_id
            )
            assert [r["status"] for r in rows] == ["succeeded"]
        finally:
            await db.close()
    finally:
        nodes.kill_all()
        await processor.stop()


async def test_pitchey_worker_runs_the_jobs_of_a_node_without_one(
    fresh_database: Any, tmp_path: Path
) -> None:
    dsn = await fresh_database()
    nodes = NodeSet(tmp_path / "logs")
    api = nodes.add("api", fast_env(dsn, tmp_path / "data", PITCHEY_JOB_WORKER="false"))
    worker: subprocess.Popen[bytes] | None = None
    try:
        await nodes.start(api, timeout=60)
        async with aiohttp.ClientSession() as http:
            _, owner = await register(http, api.base, "creator", 3)
            _, investor = await register(http, api.base, "investor", 3)
            async with http.post(
                f"{api.base}/api/pitches",
                json={"title": "Worker pitch", "status": "published", "visibility": "public"},
                headers=bearer(owner),
            ) as resp:
                pitch_id = (await resp.json())["data"]["id"]
            async with http.post(
                f"{api.base}/api/investments/create",
                json={"pitchId": pitch_id, "amount": "300.00"},
                headers=bearer(investor),
            ) as resp:
                inv = (await resp.json())["data"]["id"]
        db = await asyncpg.connect(dsn)
        try:
            await asyncio.sleep(1.0)
            assert await status_of(db, inv) == "pending"  # the API node runs no jobs
            with (tmp_path / "logs" / "worker.err").open("wb") as err:
                worker = subprocess.Popen(  # noqa: ASYNC220 (starting it does not block)
                    [sys.executable, "-m", "pitchey.server.cli", "worker"],
                    env=fast_env(dsn, tmp_path / "data"),
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    start_new_session=True,
                )

            async def settled() -> bool:
                return await status_of(db, inv) == "completed"

            await wait_until(settled, timeout=40, what="pitchey worker settling the investment")
        finally:
            await db.close()
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0  # SIGTERM: a clean stop
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        nodes.kill_all()


async def test_two_nodes_run_each_periodic_job_once_per_period(fresh_database: Any, tmp_path: Path) -> None:
    dsn = await fresh_database()
    nodes = NodeSet(tmp_path / "logs")
    a = nodes.add("a", fast_env(dsn, tmp_path / "data"))
    b = nodes.add("b", fast_env(dsn, tmp_path / "data"))
    try:
        await nodes.start(a, b, timeout=60)
        db = await asyncpg.connect(dsn)
        try:

            async def three_periods() -> bool:
                # (procrastinate keeps only the last period in procrastinate_periodic_defers;
                # the jobs themselves stay until the cleanup task prunes them.)
                n = await db.fetchval(
                    """SELECT count(DISTINCT args->>'timestamp') FROM procrastinate_jobs
                       WHERE task_name = 'jobs.recover_stalled' AND status = 'succeeded'"""
                )
                return int(n) >= 3

            await wait_until(three_periods, timeout=45, what="three periods of recover_stalled")
            starts = await db.fetch(
                """SELECT j.id, count(*) FILTER (WHERE e.type = 'started') AS starts
                   FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id
                   WHERE j.task_name = 'jobs.recover_stalled' GROUP BY j.id"""
            )
            assert all(r["starts"] <= 1 for r in starts), "a periodic job started twice"
            stamps = await db.fetch(
                """SELECT (args->>'timestamp')::bigint AS ts, count(*) AS n FROM procrastinate_jobs
                   WHERE task_name = 'jobs.recover_stalled' GROUP BY 1"""
            )
            per_period = {r["ts"]: r["n"] for r in stamps}
            assert len(per_period) >= 3 and set(per_period.values()) == {1}, per_period
            workers = await db.fetchval("SELECT count(*) FROM procrastinate_workers")
            assert workers == 2  # both nodes were running workers all along
        finally:
            await db.close()
    finally:
        nodes.kill_all()


async def test_pitchey_jobs_lists_and_retries(clean_db: str, tmp_path: Path) -> None:
    async def seed() -> int:
        db = await Database.connect(clean_db, min_size=1, max_size=1, timeout=10)
        try:
            async with db.transaction() as conn:
                job = await enqueue(conn, "investments.settle", {"investmentId": 999})
                await conn.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = $1", job)
                await conn.execute(
                    "UPDATE procrastinate_jobs SET status = 'failed', attempts = 1 WHERE id = $1", job
                )
            return job
        finally:
            await db.close()

    job = await seed()
    env = node_env(clean_db, tmp_path)

    def run_sync(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pitchey.server.cli", "jobs", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run_sync, *args)

    listed = await run()
    assert listed.returncode == 0, listed.stderr
    assert f"{job}" in listed.stdout and "failed" in listed.stdout and "investments.settle" in listed.stdout
    retried = await run("retry", str(job))
    assert retried.returncode == 0 and "queued again" in retried.stdout, retried.stderr
    assert (await run("retry", str(job))).returncode == 1  # no longer failed
    todo = await run("--status", "todo")
    assert f"{job}" in todo.stdout and "todo" in todo.stdout
