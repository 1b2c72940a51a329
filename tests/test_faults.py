"""Faults with real processes: several `pitchey serve` nodes on one PostgreSQL and one Redis,
killed, stopped and cut off while real clients keep working.

1. kill -9 of one node under a steady message load: its clients recover on the other node with
   no gap, no duplicate, one order everywhere.
2. kill -9 of the only node during a burst of writes: every acknowledged write is in the database.
3. PostgreSQL stopped for 10 s: 503 UNAVAILABLE quickly (never 500), sockets stay open, and the
   node recovers by itself.
4. Redis stopped for 10 s: each node serves its own clients, `/ready` says degraded, and both
   nodes resync (new epoch, never a silent gap) when Redis is back.
5. SIGTERM of a node under load: close 1012 promptly, exit 0, recovery on the other node.

Each test prints its figures (run with `-rA` to see them) and, when it fails, the tails of the
nodes' logs. The machinery lives in tests/fault_helpers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from fault_helpers import (
    Node,
    NodeSet,
    Publisher,
    Rest,
    RoomClient,
    SeparatePostgres,
    check_streams,
    node_env,
    open_ws,
    receive_json,
    wait_all,
)
from redis_helpers import RedisProcess

TEST_BUDGET = 55.0  # seconds; every test must finish well under a minute


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[NodeSet]:
    """The test's node processes; every one is killed at teardown, pass or fail."""
    ns = NodeSet(tmp_path / "logs")
    yield ns
    ns.kill_all()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of this test alone: killing it affects no other test."""
    workdir = tmp_path / "redis"
    workdir.mkdir()
    proc = RedisProcess(workdir)
    proc.start()
    yield proc
    proc.kill()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@contextlib.contextmanager
def logs_on_failure(nodes: NodeSet) -> Iterator[None]:
    """Any failure (assertion, timeout, error) carries the tails of every node's logs."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise AssertionError(f"{type(exc).__name__}: {exc}\n\n{nodes.logs_text()}") from exc


def figures(title: str, **values: Any) -> None:
    print(f"\nFIGURES {title}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


def failover(home: Node, *others: Node) -> list[tuple[str, str]]:
    return [(home.name, home.ws_url)] + [(n.name, n.ws_url) for n in others]


async def room_clients(
    rest: Rest,
    http: aiohttp.ClientSession,
    room: str,
    placement: list[tuple[Node, list[Node]]],
    reconnect: bool = True,
) -> list[RoomClient]:
    """One investor per entry, connected to its home node (failing over to the others)."""
    clients = []
    for i, (home, others) in enumerate(placement):
        _, token = await rest.register(home.base, "investor")
        c = RoomClient(f"{home.name}-{i}", http, token, room, failover(home, *others), reconnect=reconnect)
        await c.start()
        clients.append(c)
    return clients


async def stop_all(clients: list[RoomClient]) -> None:
    await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)


# ------------------------------------------------------------------------------------------
# 1 and 5: one node goes (kill -9 or SIGTERM) while a publisher on the other keeps posting
# ------------------------------------------------------------------------------------------


async def _node_goes_under_load(
    how: str,
    fresh_database: Callable[[], Awaitable[str]],
    own_redis: RedisProcess,
    nodes: NodeSet,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    dsn = await fresh_database()
    env = node_env(dsn, tmp_path / "data", own_redis.url, PITCHEY_SHUTDOWN_TIMEOUT="5")
    a, b = nodes.add("A", env), nodes.add("B", env)
    with logs_on_failure(nodes):
        async with asyncio.timeout(TEST_BUDGET):
            await nodes.start(a, b)
            rest = Rest(http)
            _, creator = await rest.register(a.base)
            room = f"pitch:{await rest.pitch(a.base, creator)}"
            clients = await room_clients(rest, http, room, [(a, [b])] * 3 + [(b, [a])] * 3)
            on_a = clients[:3]
            for i, c in enumerate(on_a):
                # Clients back off differently, so each recovers a different, longer gap.
                c.reconnect_delay = 0.2 * (i + 1)
            pub_client = (await room_clients(rest, http, room, [(b, [])]))[0]
            everyone = [*clients, pub_client]
            try:
                publisher = Publisher(pub_client, interval=0.02)
                publisher.start()
                await pub_client.wait_for(
                    lambda: len(pub_client.acks) >= 40, 15, "40 acked messages before the fault"
                )
                before = len(pub_client.acks)
                went_at = time.monotonic()
                if how == "kill":
                    a.kill()
                else:
                    a.terminate()
                # A's clients notice, move to B and re-subscribe with (since, epoch).
                for c in on_a:
                    await c.wait_for(lambda c=c: len(c.subs) >= 2, 15, "a re-subscribe on B")
                closed_after = [round(c.closes[0].at - went_at, 3) for c in on_a]
                resubscribed_after = [round(c.subs[1].at - went_at, 3) for c in on_a]
                exit_code = exit_after = None
                if how == "term":
                    exit_code = await a.wait_exit(10)  # shutdown timeout 5 s, plus the start
                    exit_after = round(time.monotonic() - went_at, 2)
                await asyncio.sleep(1.5)  # the load goes on with everyone on B
                await publisher.stop()
                acked = publisher.acked()
                assert len(acked) > before + 20, (len(acked), before)
                await wait_all(everyone, max(acked), 10)
                report = check_streams(everyone, acked, context=f"after {how} of node A")
            finally:
                await stop_all(everyone)

            for c in on_a:
                assert [x.node for x in c.closes] == ["A"], c.closes
                assert c.subs[1].node == "B" and c.subs[1].recovered is True, c.subs
                assert len(c.subs) == 2, c.subs
            for c in [*clients[3:], pub_client]:
                assert c.closes == [] and len(c.subs) == 1, (c.name, c.closes, c.subs)
            # The publisher's node never failed: every message it sent was acknowledged.
            unanswered = [cid for cid in publisher.sent if cid not in pub_client.acks]
            assert not unanswered and not pub_client.errors, (unanswered[:5], pub_client.errors[:5])
            if how == "term":
                codes = [c.closes[0].code for c in on_a]
                assert codes == [1012] * 3, codes
                assert max(closed_after) < 5.0, closed_after
                assert exit_code == 0, a.tail()
            figures(
                f"{how} of node A under load",
                sent=len(publisher.sent),
                acked=len(acked),
                unanswered=len(unanswered),
                room_frames=report.frames,
                seq_range=report.first_last.get(pub_client.name),
                close_codes=[int(c.closes[0].code or 0) for c in on_a],
                closed_after_s=closed_after,
                resubscribed_after_s=resubscribed_after,
                recovered=f"{report.recovered}/{report.resubscribes}",
                replayed_frames=[c.subs[1].seq - (c.subs[1].asked_since or 0) for c in on_a],
                exit_code=exit_code,
                exit_after_s=exit_after,
            )


async def test_kill_9_of_one_node_under_a_steady_message_load(
    fresh_database, own_redis, nodes, http, tmp_path
):
    await _node_goes_under_load("kill", fresh_database, own_redis, nodes, http, tmp_path)


async def test_sigterm_of_a_node_under_load(fresh_database, own_redis, nodes, http, tmp_path):
    await _node_goes_under_load("term", fresh_database, own_redis, nodes, http, tmp_path)


# ------------------------------------------------------------------------------------------
# 2: kill -9 of the only node during a burst of writes
# ------------------------------------------------------------------------------------------


async def test_kill_9_during_a_burst_of_writes_loses_no_acknowledged_write(
    fresh_database, own_redis, nodes, http, tmp_path
):
    dsn = await fresh_database()
    env = node_env(dsn, tmp_path / "data", own_redis.url, PITCHEY_DB_POOL_MAX="12")
    node = nodes.add("solo", env)
    with logs_on_failure(nodes):
        async with asyncio.timeout(TEST_BUDGET):
            await nodes.start(node)
            rest = Rest(http)
            _owner_id, creator = await rest.register(node.base)
            target = await rest.pitch(node.base, creator, title="Fund me")
            like_pitches = [await rest.pitch(node.base, creator, title=f"Like {i}") for i in range(40)]
            nda_pitches = [
                await rest.pitch(node.base, creator, title=f"NDA {i}", require_nda=True) for i in range(40)
            ]
            investors = [await rest.register(node.base, "investor") for _ in range(6)]
            room = f"pitch:{target}"
            talkers = await room_clients(rest, http, room, [(node, [])] * 3, reconnect=False)

            acked_investments: list[int] = []
            acked_by_investor: dict[int, int] = {uid: 0 for uid, _ in investors}
            acked_likes: set[tuple[int, int]] = set()
            acked_ndas: list[int] = []
            failed: dict[str, int] = {"investment": 0, "like": 0, "nda": 0}
            killed = asyncio.Event()

            async def write(
                kind: str, method: str, path: str, token: str, body: Any
            ) -> dict[str, Any] | None:
                try:
                    status, got = await rest.call(method, node.base + path, token, json=body, timeout=10)
                except (TimeoutError, aiohttp.ClientError, OSError):
                    failed[kind] += 1
                    return None
                if status not in (200, 201):
                    assert killed.is_set(), (kind, status, got)
                    failed[kind] += 1
                    return None
                return got["data"]

            async def invest(uid: int, token: str) -> None:
                while not killed.is_set():
                    got = await write(
                        "investment",
                        "POST",
                        "/api/investments/create",
                        token,
                        {"pitchId": target, "amount": "10.00"},
                    )
                    if got is not None:
                        acked_investments.append(int(got["id"]))
                        acked_by_investor[uid] += 1

            async def like_all(uid: int, token: str) -> None:
                for pid in like_pitches:
                    if killed.is_set():
                        return
                    got = await write("like", "POST", f"/api/pitches/{pid}/like", token, {})
                    if got is not None and got["liked"] is True:
                        acked_likes.add((pid, uid))

            async def request_all(token: str) -> None:
                for pid in nda_pitches:
                    if killed.is_set():
                        return
                    got = await write(
                        "nda", "POST", "/api/ndas/request", token, {"pitchId": pid, "message": "burst"}
                    )
                    if got is not None:
                        acked_ndas.append(int(got["id"]))

            async def talk(c: RoomClient) -> None:
                n = 0
                while not killed.is_set():
                    # Up to 4 messages in flight per socket; an ack is the acknowledgement.
                    while n - len(c.acks) < 4 and not killed.is_set():
                        n += 1
                        with contextlib.suppress(Exception):
                            await c.send(
                                {
                                    "type": "message",
                                    "room": room,
                                    "id": f"w{n}",
                                    "data": {"text": f"{c.name}-{n}"},
                                }
                            )
                    with contextlib.suppress(AssertionError):
                        await c.wait_for(lambda: n - len(c.acks) < 4 or bool(c.closes), 0.5, "an ack")
                    if c.closes:
                        return

            tasks = [
                asyncio.create_task(f)
                for f in (
                    *(invest(uid, tok) for uid, tok in investors),
                    *(like_all(uid, tok) for uid, tok in investors),
                    *(request_all(tok) for _, tok in investors),
                    *(talk(c) for c in talkers),
                )
            ]
            try:
                deadline = time.monotonic() + 15
                while not (
                    len(acked_investments) >= 40
                    and len(acked_likes) >= 20
                    and len(acked_ndas) >= 20
                    and all(len(c.acks) >= 20 for c in talkers)
                ):
                    assert time.monotonic() < deadline, (
                        len(acked_investments),
                        len(acked_likes),
                        len(acked_ndas),
                        [len(c.acks) for c in talkers],
                    )
                    await asyncio.sleep(0.02)
                node.kill()
                killed.set()
                await asyncio.wait_for(asyncio.gather(*tasks), 15)
            finally:
                for t in tasks:
                    t.cancel()
                await stop_all(talkers)
            # Writes were still going when the node died (otherwise this tests nothing).
            assert len(acked_likes) < len(investors) * len(like_pitches)
            assert len(acked_ndas) < len(investors) * len(nda_pitches)
            acked_messages = {int(a["data"]["messageId"]) for c in talkers for a in c.acks.values()}

            restart_s = await asyncio.wait_for(_restart(node), 45)
            conn = await asyncpg.connect(dsn)
            try:
                inv_rows = {
                    r["id"]
                    for r in await conn.fetch(
                        "SELECT id FROM investments WHERE id = ANY($1::bigint[])", acked_investments
                    )
                }
                msg_rows = {
                    r["id"]
                    for r in await conn.fetch(
                        "SELECT id FROM room_messages WHERE id = ANY($1::bigint[])", list(acked_messages)
                    )
                }
                nda_rows = {
                    r["id"]
                    for r in await conn.fetch(
                        "SELECT id FROM nda_requests WHERE id = ANY($1::bigint[])", acked_ndas
                    )
                }
                like_rows = {
                    (r["pitch_id"], r["user_id"])
                    for r in await conn.fetch("SELECT pitch_id, user_id FROM pitch_likes")
                }
                totals = {
                    t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                    for t in ("investments", "room_messages", "nda_requests", "pitch_likes")
                }
            finally:
                await conn.close()
            missing = {
                "investments": sorted(set(acked_investments) - inv_rows),
                "messages": sorted(acked_messages - msg_rows),
                "ndas": sorted(set(acked_ndas) - nda_rows),
                "likes": sorted(acked_likes - like_rows),
            }
            figures(
                "kill -9 during a burst of writes",
                acknowledged={
                    "investments": len(acked_investments),
                    "messages": len(acked_messages),
                    "ndas": len(acked_ndas),
                    "likes": len(acked_likes),
                },
                present={
                    "investments": len(inv_rows),
                    "messages": len(msg_rows),
                    "ndas": len(nda_rows),
                    "likes": len(acked_likes & like_rows),
                },
                rows_in_db=totals,
                failed_requests=failed,
                restart_to_healthy_s=round(restart_s, 2),
            )
            assert all(not v for v in missing.values()), missing
            assert len(acked_investments) == len(set(acked_investments))

            # The restarted node serves the same data with the same tokens (same data dir).
            uid, token = investors[0]
            status, body = await rest.call("GET", node.base + "/api/auth/session", token)
            assert status == 200 and body["data"]["user"]["id"] == uid, body
            status, body = await rest.call("GET", node.base + "/api/investments/portfolio", token)
            assert status == 200, body
            assert body["data"]["investmentCount"] >= acked_by_investor[uid] > 0, body
            c = (await room_clients(rest, http, room, [(node, [])]))[0]
            try:
                ack = await c.post("after the restart")
                assert ack["type"] == "ack", ack
            finally:
                await c.stop()


async def _restart(node: Node) -> float:
    node.start()
    return await node.wait_healthy(40)


# ------------------------------------------------------------------------------------------
# 3: PostgreSQL stopped for 10 s
# ------------------------------------------------------------------------------------------


async def test_postgres_stopped_for_10_seconds(own_redis, nodes, http, tmp_path):
    (tmp_path / "pg").mkdir()
    pg = await asyncio.to_thread(SeparatePostgres, tmp_path / "pg" / "pgdata")
    try:
        conn = await asyncpg.connect(pg.uri)
        try:
            await conn.execute("CREATE DATABASE pitchey_faults")
        finally:
            await conn.close()
        dsn = pg.dsn("pitchey_faults")
        node = nodes.add("solo", node_env(dsn, tmp_path / "data", own_redis.url))
        with logs_on_failure(nodes):
            async with asyncio.timeout(TEST_BUDGET):
                await _postgres_outage(pg, node, nodes, http)
    finally:
        nodes.kill_all()
        await asyncio.to_thread(pg.close)


async def _postgres_outage(
    pg: SeparatePostgres, node: Node, nodes: NodeSet, http: aiohttp.ClientSession
) -> None:
    await nodes.start(node)
    rest = Rest(http)
    base = node.base
    _, creator = await rest.register(base)
    watched = await rest.pitch(base, creator, title="Watched")
    unread = await rest.pitch(base, creator, title="Never read before the outage")
    room = f"pitch:{watched}"
    _, investor = await rest.register(base, "investor")
    investor2 = await rest.register(base, "investor")
    c = RoomClient("ws", http, investor, room, [(node.name, node.ws_url)], reconnect=False)
    await c.start()
    try:
        assert (await c.post("before"))["type"] == "ack"

        await asyncio.to_thread(pg.stop)
        stopped_at = time.monotonic()
        assert not pg.running()

        # A socket opened during the outage is greeted and joins its own room (which starts
        # without the database); a pitch room, whose access needs the database, says so.
        late_id, late_token = investor2
        late = await open_ws(http, node.ws_url, late_token)
        try:
            greeting = [await receive_json(late, 5) for _ in range(2)]
        except TimeoutError:
            raise AssertionError(
                "a socket opened during the outage was not greeted and subscribed to its own room within 5 s"
            ) from None
        assert greeting[0]["type"] == "connected", greeting
        assert (greeting[1]["type"], greeting[1]["room"]) == ("subscribed", f"user:{late_id}")
        await late.send_json({"type": "subscribe", "room": room, "id": "late-1"})
        refused = await receive_json(late, 5)
        assert (refused["type"], refused["id"], refused["data"]["code"]) == (
            "error",
            "late-1",
            "UNAVAILABLE",
        ), refused
        probes: list[tuple[str, int, str | None, float]] = []

        async def probe(
            name: str, method: str, path: str, token: str | None = None, body: Any = None
        ) -> tuple[int, dict[str, Any]]:
            started = time.monotonic()
            status, got = await rest.call(method, base + path, token, json=body, timeout=10)
            code = got.get("error", {}).get("code") if isinstance(got, dict) else None
            probes.append((name, status, code, time.monotonic() - started))
            return status, got

        rounds = 0
        ws_answers: list[dict[str, Any]] = []
        pings: list[float] = []
        while time.monotonic() - stopped_at < 10.0 or rounds < 2:
            rounds += 1
            await probe("session", "GET", "/api/auth/session", investor)
            await probe(
                "create pitch",
                "POST",
                "/api/pitches",
                creator,
                {"title": "During the outage", "status": "published"},
            )
            await probe("read pitch", "GET", f"/api/pitches/{unread}", investor)
            await probe("health", "GET", "/health")
            await probe("ready", "GET", "/ready")
            pings.append(await c.ping())
            started = time.monotonic()
            ws_answers.append(await c.post(f"during {rounds}", timeout=5))
            pings.append(time.monotonic() - started)
            assert node.alive()
            await asyncio.sleep(0.5)
        outage_s = time.monotonic() - stopped_at

        expected = {
            "session": (503, "UNAVAILABLE"),
            "create pitch": (503, "UNAVAILABLE"),
            "read pitch": (503, "UNAVAILABLE"),
            "health": (200, None),
            "ready": (503, "UNAVAILABLE"),
        }
        wrong = [p for p in probes if (p[1], p[2]) != expected[p[0]]]
        assert not wrong, wrong
        slow = [p for p in probes if p[3] >= 5.0]
        assert not slow, slow
        assert all(a["type"] == "error" and a["data"]["code"] == "UNAVAILABLE" for a in ws_answers), (
            ws_answers
        )
        assert c.closes == [], c.closes
        assert max(pings) < 5.0, pings

        await asyncio.to_thread(pg.start_again)
        back_at = time.monotonic()
        recovered_s: dict[str, float] = {}

        async def until(name: str, cond: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
            deadline = time.monotonic() + timeout
            while not await cond():
                assert time.monotonic() < deadline, f"{name} did not recover in {timeout}s"
                await asyncio.sleep(0.2)
            recovered_s[name] = round(time.monotonic() - back_at, 2)

        async def ok(method: str, path: str, token: str | None, status: int, body: Any = None) -> bool:
            got, _ = await rest.call(method, base + path, token, json=body, timeout=10)
            return got == status

        await until("session", lambda: ok("GET", "/api/auth/session", investor, 200))
        await until("ready", lambda: ok("GET", "/ready", None, 200))
        await until(
            "create pitch",
            lambda: ok("POST", "/api/pitches", creator, 201, {"title": "After", "status": "published"}),
        )
        await until("read pitch", lambda: ok("GET", f"/api/pitches/{unread}", investor, 200))

        async def ws_post() -> bool:
            return (await c.post("after", timeout=5))["type"] == "ack"

        await until("ws message", ws_post)
        await late.send_json({"type": "subscribe", "room": room, "id": "late-2"})
        answer = await receive_json(late, 5)
        while answer.get("id") != "late-2":  # room events may come first
            answer = await receive_json(late, 5)
        assert answer["type"] == "subscribed", answer
        await late.close()
        assert c.closes == [] and node.alive()
        statuses = sorted({(p[0], p[1]) for p in probes})
        figures(
            "PostgreSQL stopped",
            outage_s=round(outage_s, 1),
            requests=len(probes),
            statuses=statuses,
            max_latency_s=round(max(p[3] for p in probes), 3),
            max_latency_by_probe={n: round(max(p[3] for p in probes if p[0] == n), 3) for n in expected},
            ws_unavailable_answers=len(ws_answers),
            max_ws_roundtrip_s=round(max(pings), 3),
            recovered_after_s=recovered_s,
        )
    finally:
        await c.stop()


# ------------------------------------------------------------------------------------------
# 4: Redis stopped for 10 s
# ------------------------------------------------------------------------------------------


async def test_redis_stopped_for_10_seconds(fresh_database, own_redis, nodes, http, tmp_path):
    dsn = await fresh_database()
    env = node_env(dsn, tmp_path / "data", own_redis.url)
    a, b = nodes.add("A", env), nodes.add("B", env)
    with logs_on_failure(nodes):
        async with asyncio.timeout(TEST_BUDGET):
            await nodes.start(a, b)
            rest = Rest(http)
            _, creator = await rest.register(a.base)
            pitch = await rest.pitch(a.base, creator)
            room = f"pitch:{pitch}"
            clients = await room_clients(
                rest, http, room, [(a, []), (a, []), (b, []), (b, [])], reconnect=False
            )
            a1, a2, b1, b2 = clients
            try:
                await _redis_outage(own_redis, a, b, rest, pitch, clients, a1, a2, b1, b2)
            finally:
                await stop_all(clients)


async def _redis_outage(
    redis: RedisProcess,
    a: Node,
    b: Node,
    rest: Rest,
    pitch_id: int,
    clients: list[RoomClient],
    a1: RoomClient,
    a2: RoomClient,
    b1: RoomClient,
    b2: RoomClient,
) -> None:
    ack = await a1.post("shared before")
    await wait_all(clients, int(ack["seq"]), 5)
    shared_epoch, shared_seq = a1.epoch, a1.last_seq
    assert shared_epoch is not None and shared_seq is not None
    assert {c.epoch for c in clients} == {shared_epoch}

    redis.kill()
    killed_at = time.monotonic()
    # Each node notices and moves its rooms to a local stream: a resync, never a silent
    # continuation of the shared numbering.
    for c in clients:
        await c.wait_for(lambda c=c: any(s.resync for s in c.subs), 10, "the local resync")
    noticed_s = [round(next(s.at for s in c.subs if s.resync) - killed_at, 3) for c in clients]
    local_epochs = {c.name: c.epoch for c in clients}
    assert shared_epoch not in local_epochs.values(), local_epochs
    assert local_epochs[a1.name] == local_epochs[a2.name]
    assert local_epochs[b1.name] == local_epochs[b2.name]

    # Each node keeps serving its own clients.
    for poster, peer, other in ((a1, a2, b1), (b1, b2, a1)):
        text = f"local on {poster.node}"
        got = await poster.post(text)
        assert got["type"] == "ack", got
        await peer.wait_for(lambda p=peer, t=text: t in p.texts(), 5, f"'{text}' on the peer")
        assert text not in other.texts()  # the other node cannot know of it
    ready: dict[str, Any] = {}
    for n in (a, b):
        status, body = await rest.call("GET", n.base + "/ready")
        ready[n.name] = (status, body.get("data", {}).get("status"))
    assert ready == {"A": (200, "degraded"), "B": (200, "degraded")}, ready
    # REST keeps working on both nodes: reads, writes (rate limits count on the node
    # meanwhile), sign-ups and logins, one-time WebSocket tickets (node-local meanwhile).
    for n in (a, b):
        status, body = await rest.call("GET", n.base + "/api/auth/session", a1.token)
        assert status == 200, (n.name, body)
    status, body = await rest.call("POST", f"{a.base}/api/pitches/{pitch_id}/like", a2.token, json={})
    assert status == 200 and body["data"]["liked"] is True, body
    for c in (a1, a2):
        await c.wait_for(
            lambda c=c: any(t == "like_update" for _, t, _ in c.frames), 5, "the like_update of a like on A"
        )
    uid, token = await rest.register(b.base, "investor")
    status, body = await rest.call("GET", f"{b.base}/api/ws/token", token)
    assert status == 200, body
    ws = await rest.http.ws_connect(f"{b.ws_url}?ticket={body['data']['ticket']}", protocols=("pitchey.v1",))
    try:
        hello = await receive_json(ws, 5)
        assert hello["type"] == "connected" and hello["data"]["userId"] == uid, hello
    finally:
        await ws.close()
    local_positions = {c.name: (c.last_seq, c.epoch) for c in clients}

    await asyncio.sleep(max(0.0, 10.0 - (time.monotonic() - killed_at)))
    redis.start()
    back_at = time.monotonic()
    for c in clients:
        await c.wait_for(lambda c=c: sum(s.resync for s in c.subs) >= 2, 15, "the resync after Redis is back")
    resync_s = [round(c.subs[-1].at - back_at, 3) for c in clients]
    new_epochs = {c.epoch for c in clients}
    assert len(new_epochs) == 1, new_epochs
    new_epoch = next(iter(new_epochs))
    assert new_epoch != shared_epoch and new_epoch not in local_epochs.values()

    # Old positions are not recoverable: said plainly, not papered over.
    old = await a1.resubscribe(shared_seq, shared_epoch)
    assert old.recovered is False and old.epoch == new_epoch, old
    seq, epoch = local_positions[b1.name]
    assert seq is not None and epoch is not None
    old_local = await b1.resubscribe(seq, epoch)
    assert old_local.recovered is False and old_local.epoch == new_epoch, old_local

    # Cross-node delivery works again, both ways.
    cross: dict[str, float] = {}
    for poster, text in ((a1, "shared after from A"), (b2, "shared after from B")):
        started = time.monotonic()
        got = await poster.post(text)
        assert got["type"] == "ack", got
        await asyncio.gather(*(c.wait_for(lambda c=c, t=text: t in c.texts(), 5, text) for c in clients))
        cross[text] = round(time.monotonic() - started, 3)
    for c in clients:
        assert c.closes == [], (c.name, c.closes)
        assert not c.problems, c.problems  # every jump of seq came with a `subscribed`
    status, body = await rest.call("GET", a.base + "/ready")
    assert status == 200 and body["data"]["status"] == "ready", body
    figures(
        "Redis stopped",
        outage_s=round(back_at - killed_at, 1),
        noticed_after_s=noticed_s,
        resynced_after_restart_s=resync_s,
        epochs=f"{shared_epoch} -> local {sorted(set(local_epochs.values()))} -> {new_epoch}",
        cross_node_after_s=cross,
    )
