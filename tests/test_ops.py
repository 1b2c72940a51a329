"""Operators and their live figures: `pitchey operator add|remove` against the real database, the
refusals everyone else gets (REST 403, `metrics:ops` FORBIDDEN), revocation on live sessions, the
figures moving with traffic, and the merge of two nodes on one Redis."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from conftest import expect_envelope, register_user
from realtime_helpers import (
    app_state,
    bearer,
    connect,
    make_pitch,
    metric_value,
    prometheus,
    realtime,
    user,
    wait_until,
)

from pitchey.rooms.metrics import bucket_quantile, merge_reports
from pitchey.storage.operators import OperatorStore

OPS = "metrics:ops"


async def operator_cli(dsn: str, data_dir: Path, *args: str) -> tuple[int, str, str]:
    """`pitchey operator ...` as an operator runs it: another process on the same database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PITCHEY_")}
    env.update({"DATABASE_URL": dsn, "PITCHEY_DATA_DIR": str(data_dir), "JWT_SECRET": "x" * 40})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pitchey.server.cli",
        "operator",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def ops_status(client: Any, token: str) -> bool:
    body = await expect_envelope(await client.get("/api/ops/status", headers=bearer(token)), 200)
    return bool(body["data"]["operator"])


async def test_operator_cli_grants_and_revokes_and_live_sessions_lose_it(make_client, clean_db, tmp_path):
    client = await make_client()
    op, op_token = await register_user(client, "investor")
    _, other_token = await register_user(client, "creator")
    pitch = await make_pitch(client, other_token, visibility="private")

    # Not an operator yet: refused everywhere, told why.
    assert await ops_status(client, op_token) is False
    refused = await expect_envelope(
        await client.get("/api/ops/overview", headers=bearer(op_token)), 403, "FORBIDDEN"
    )
    assert "Operators only" in refused["error"]["message"]
    conn = await connect(client, op_token)
    assert await conn.subscribe_error(OPS) == "FORBIDDEN"
    assert await conn.subscribe_error(f"metrics:pitch:{pitch['id']}") == "FORBIDDEN"

    # Granted from the command line (emails as typed by a person: case and spaces do not matter).
    code, out, err = await operator_cli(clean_db, tmp_path, "add", f"  {op['email'].upper()} ")
    assert code == 0, err
    assert "now an operator" in out
    code, out, _ = await operator_cli(clean_db, tmp_path, "list")
    assert code == 0 and op["email"] in out
    assert await ops_status(client, op_token) is True
    overview = await expect_envelope(await client.get("/api/ops/overview", headers=bearer(op_token)), 200)
    assert overview["data"]["cluster"]["connections"] >= 1
    room = await expect_envelope(
        await client.get(f"/api/ops/rooms/pitch/{pitch['id']}", headers=bearer(op_token)), 200
    )
    assert room["data"]["room"] == f"pitch:{pitch['id']}"

    await conn.subscribe(OPS)
    first = await conn.expect("metrics", OPS, timeout=3)
    assert first["data"]["cluster"]["connections"] >= 1
    # An operator watches any room's metrics, even of a pitch they may not see.
    await conn.subscribe(f"metrics:pitch:{pitch['id']}")

    # Revoked: the live session loses both within a second or two, with a refusal in words.
    code, out, err = await operator_cli(clean_db, tmp_path, "remove", op["email"])
    assert code == 0, err
    assert "no longer an operator" in out
    for name in (OPS, f"metrics:pitch:{pitch['id']}"):
        error = await conn.expect("error", name, timeout=4)
        assert error["data"]["code"] == "FORBIDDEN"
        await conn.expect("unsubscribed", name, timeout=2)
    await wait_until(lambda: not realtime(client).sessions.ops.watchers, timeout=2, what="ops unwatched")
    await wait_until(lambda: not realtime(client).hub._watched, timeout=2, what="the room to be unwatched")
    conn.discard(OPS)
    await asyncio.sleep(1.5)
    assert not [f for f in conn.backlog if f.get("room") == OPS and f["type"] == "metrics"]
    await expect_envelope(await client.get("/api/ops/overview", headers=bearer(op_token)), 403, "FORBIDDEN")
    assert await conn.subscribe_error(OPS) == "FORBIDDEN"

    # Refusals of the command itself.
    code, _, err = await operator_cli(clean_db, tmp_path, "add", "nobody@example.com")
    assert code == 1 and "no account" in err
    code, out, _ = await operator_cli(clean_db, tmp_path, "remove", op["email"])
    assert code == 0 and "was not an operator" in out
    code, _, err = await operator_cli(clean_db, tmp_path, "add")
    assert code == 2 and "needs an EMAIL" in err


async def test_everyone_else_gets_403_and_forbidden(make_client):
    client = await make_client()
    for portal in ("creator", "investor", "production"):
        _, token = await user(client, portal)
        for path in ("/api/ops/overview", "/api/ops/rooms/pitch/1", "/api/ops/rooms/user/1"):
            await expect_envelope(await client.get(path, headers=bearer(token)), 403, "FORBIDDEN")
        conn = await connect(client, token)
        assert await conn.subscribe_error(OPS) == "FORBIDDEN"
        # Not subscribed: nothing to leave, and no figures arrive.
        cid = await conn.send("unsubscribe", OPS)
        assert (await conn.error_for(cid))["data"]["code"] == "NOT_SUBSCRIBED"
        await conn.close()
    for path in ("/api/ops/overview", "/api/ops/status"):
        await expect_envelope(await client.get(path), 401, "UNAUTHORIZED")


def cluster(frame: dict[str, Any]) -> dict[str, Any]:
    figures: dict[str, Any] = frame["data"]["cluster"]
    return figures


async def grant(client: Any, email: str) -> None:
    """The CLI's grant, in process (the CLI itself is tested above)."""
    assert await OperatorStore(app_state(client).database).grant(email) is not None


async def test_figures_move_with_traffic(make_client):
    client = await make_client(ws_rate=1000, ws_burst=1000)
    op, op_token = await register_user(client, "production")
    await grant(client, op["email"])
    _, creator = await user(client, "creator")
    _, investor = await user(client, "investor")
    pitch = await make_pitch(client, creator)
    room = f"pitch:{pitch['id']}"

    watcher = await connect(client, op_token)
    await watcher.subscribe(OPS)
    await watcher.expect("metrics", OPS, timeout=3)

    a = await connect(client, investor)
    sub = await a.subscribe(room)
    for i in range(5):
        await a.post(room, f"m{i}")
    frame = await watcher.expect(
        "metrics",
        OPS,
        timeout=4,
        where=lambda f: (
            f["data"]["cluster"]["eventsPerSec"] > 0 and f["data"]["cluster"]["deliveriesPerSec"] > 0
        ),
    )
    data = frame["data"]
    # The first frame may predate the watcher's own connection: count what this test opened.
    assert data["cluster"]["connections"] == 2  # the watcher and the investor
    assert data["cluster"]["subscribers"] >= 2  # the investor's own user room and the pitch room
    assert data["cluster"]["fanoutP99Ms"] is not None
    assert len(data["nodes"]) == 1 and data["nodes"][0]["node"]
    busiest = {r["room"]: r for r in data["rooms"]}
    assert busiest[room]["subscribers"] == 1 and busiest[room]["nodes"] == 1

    # Recovery outcomes: a reconnect that gets its gap back, and one that cannot.
    seq, epoch = sub["data"]["seq"], sub["data"]["epoch"]
    b = await connect(client, investor)
    await b.subscribe(room, since=seq, epoch=epoch)
    c = await connect(client, investor)
    await c.subscribe(room, since=seq, epoch="not-the-epoch")
    frame = await watcher.expect(
        "metrics",
        OPS,
        timeout=4,
        where=lambda f: (
            f["data"]["cluster"]["recoveredTotal"] >= 1 and f["data"]["cluster"]["recoveryLostTotal"] >= 1
        ),
    )
    assert frame["data"]["cluster"]["connections"] == 4

    # Prometheus sees the same things (and the names the docs' dashboards use).
    text = await prometheus(client)
    assert metric_value(text, 'pitchey_recoveries_total{outcome="recovered"}') >= 1
    assert metric_value(text, 'pitchey_recoveries_total{outcome="lost"}') >= 1
    assert metric_value(text, "pitchey_ws_subscriptions") >= 4

    # The room view: presence on every node, subscribers here.
    view = await expect_envelope(
        await client.get(f"/api/ops/rooms/pitch/{pitch['id']}", headers=bearer(op_token)), 200
    )
    assert view["data"]["active"] is True and view["data"]["subscribers"] == 3
    assert [p["connections"] for p in view["data"]["presence"]] == [3]
    await expect_envelope(
        await client.get("/api/ops/rooms/pitch/1000000000000000000", headers=bearer(op_token)),
        404,
        "NOT_FOUND",
    )


async def test_two_nodes_on_redis_are_merged(make_client, redis_url):
    a = await make_client(redis_url=redis_url, ws_rate=1000, ws_burst=1000)
    b = await make_client(redis_url=redis_url, ws_rate=1000, ws_burst=1000)
    op, op_token = await register_user(a, "creator")
    await grant(a, op["email"])
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator)
    room = f"pitch:{pitch['id']}"
    _, inv_a = await user(a, "investor")
    _, inv_b = await user(b, "investor")
    on_a = await connect(a, inv_a)
    on_b = await connect(b, inv_b)
    await on_a.subscribe(room)
    await on_b.subscribe(room)

    watcher = await connect(a, op_token)
    await watcher.subscribe(OPS)
    await on_b.post(room, "from b")

    def merged(f: dict[str, Any]) -> bool:
        d = f["data"]
        return len(d["nodes"]) == 2 and any(r["room"] == room and r["nodes"] == 2 for r in d["rooms"])

    data = (await watcher.expect("metrics", OPS, timeout=10, where=merged))["data"]
    nodes = data["nodes"]
    names = {n["node"] for n in nodes}
    assert names == {realtime(a).sessions.ops.node, realtime(b).sessions.ops.node}
    for field in ("connections", "subscribers", "activeRooms", "slowConsumerClosesTotal", "recoveredTotal"):
        assert data["cluster"][field] == sum(n[field] for n in nodes), field
    assert data["cluster"]["connections"] == 3  # two investors and the operator
    entry = next(r for r in data["rooms"] if r["room"] == room)
    assert entry["subscribers"] == 2

    # One event fanned out on both nodes is one event, not two. The nodes' one-second windows do
    # not line up, so keep the room busy until one frame has both nodes counting its events.
    async def chatter() -> None:
        for i in range(150):
            await on_b.send("message", room, data={"text": f"burst {i}"})
            await asyncio.sleep(0.05)

    def busy(f: dict[str, Any]) -> bool:
        return len(f["data"]["nodes"]) == 2 and all(n["eventsPerSec"] > 0 for n in f["data"]["nodes"])

    talking = asyncio.create_task(chatter())
    try:
        data = (await watcher.expect("metrics", OPS, timeout=10, where=busy))["data"]
    finally:
        talking.cancel()
    per_node = [n["eventsPerSec"] for n in data["nodes"]]
    assert abs(data["cluster"]["eventsPerSec"] - max(per_node)) < 0.02, (data["cluster"], per_node)

    # Every node answers the same merge over REST; the presence of the room spans both nodes.
    op_b = (await register_user(b, "investor"))[1]  # not an operator: still refused on node B
    await expect_envelope(await b.get("/api/ops/overview", headers=bearer(op_b)), 403, "FORBIDDEN")
    over_b = await expect_envelope(await b.get("/api/ops/overview", headers=bearer(op_token)), 200)
    assert len(over_b["data"]["nodes"]) == 2
    view = await expect_envelope(
        await b.get(f"/api/ops/rooms/pitch/{pitch['id']}", headers=bearer(op_token)), 200
    )
    assert len(view["data"]["presence"]) == 2

    # A node that stops is gone from the merge at once (it removes its report).
    await b.close()
    await watcher.expect("metrics", OPS, timeout=10, where=lambda f: len(f["data"]["nodes"]) == 1)


def test_bucket_quantile_matches_prometheus():
    # histogram_quantile(0.99, ...) over these cumulative buckets: 99th of 100 observations lies
    # in (0.005, 0.01], the 4th of 10 in it: 0.005 + 0.005 * 9 / 10.
    buckets = [(0.001, 50.0), (0.005, 90.0), (0.01, 100.0), (float("inf"), 100.0)]
    assert abs((bucket_quantile(0.99, buckets) or 0) - 0.0095) < 1e-9
    assert bucket_quantile(0.5, buckets) == 0.001
    assert bucket_quantile(0.99, [(0.001, 0.0), (float("inf"), 0.0)]) is None
    # Everything beyond the largest finite bucket: its bound is all that is known.
    assert bucket_quantile(0.99, [(0.001, 0.0), (float("inf"), 5.0)]) == 0.001


def test_merge_counts_a_room_event_once_and_adds_the_rest():
    def report(node: str, subs: int, events: int, deliveries: int) -> dict[str, Any]:
        return {
            "node": node,
            "at": 0,
            "window": 1.0,
            "connections": subs,
            "subscribers": subs,
            "watchers": 0,
            "activeRooms": 1,
            "events": events,
            "eventsOther": 0,
            "rooms": [["pitch:1", subs, events]],
            "deliveries": deliveries,
            "slow": 0,
            "slowTotal": 1,
            "recovered": 0,
            "lost": 0,
            "recoveredTotal": 2,
            "lostTotal": 0,
            "bounds": [0.001, 1e300],
            "buckets": [events, events],
        }

    merged = merge_reports([report("b", 3, 10, 30), report("a", 2, 10, 20)])
    assert [n["node"] for n in merged["nodes"]] == ["a", "b"]
    assert merged["cluster"]["eventsPerSec"] == 10.0  # the same 10 events reached both nodes
    assert merged["cluster"]["deliveriesPerSec"] == 50.0
    assert merged["cluster"]["subscribers"] == 5
    assert merged["cluster"]["slowConsumerClosesTotal"] == 2
    assert merged["rooms"] == [{"room": "pitch:1", "subscribers": 5, "eventsPerSec": 10.0, "nodes": 2}]
