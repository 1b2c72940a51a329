"""Several nodes on one Redis and one PostgreSQL: one order per room everywhere, recovery on any
node, and a node that keeps serving its own clients while Redis is away."""

from __future__ import annotations

import asyncio

from realtime_helpers import connect, like, make_pitch, realtime, user, wait_until
from redis_helpers import RedisProcess

from pitchey.protocol.events import Event, EventType
from pitchey.rooms.redis_backplane import RedisBackplane


async def two_nodes(make_client, redis_url):
    a = await make_client(redis_url=redis_url)
    b = await make_client(redis_url=redis_url)
    return a, b


async def test_backplane_assigns_one_gapless_order_across_instances(redis_url):
    one, two = RedisBackplane(redis_url), RedisBackplane(redis_url)
    seen: list[int] = []
    try:
        await one.start()
        one.listen(lambda pub: seen.append(pub.seq))
        await one.attach("pitch:1")
        await wait_until(lambda: one.healthy)
        await asyncio.sleep(0.1)  # the subscription is live
        pubs = await asyncio.gather(
            *(
                (one if i % 2 else two).publish("pitch:1", Event(EventType.MESSAGE, {"i": i}))
                for i in range(40)
            )
        )
        assert sorted(p.seq for p in pubs) == list(range(1, 41))
        assert len({p.epoch for p in pubs}) == 1
        await wait_until(lambda: len(seen) == 40)
        assert seen == list(range(1, 41))
        rec = await two.recover("pitch:1", 30, pubs[0].epoch)
        assert rec.recovered and rec.seq == 40 and len(rec.frames) == 10
        assert b'"seq":31,' in rec.frames[0]
        assert not (await two.recover("pitch:1", 30, "another-epoch")).recovered
    finally:
        await one.close()
        await two.close()


async def test_recovery_refuses_a_partial_replay(redis_url):
    from pitchey.rooms.backplane import HistoryLimits

    plane = RedisBackplane(redis_url, HistoryLimits(max_events=5, max_age=600))
    try:
        pubs = [await plane.publish("pitch:2", Event(EventType.MESSAGE, {"i": i})) for i in range(12)]
        epoch = pubs[0].epoch
        full = await plane.recover("pitch:2", 8, epoch)
        assert full.recovered and len(full.frames) == 4
        gap = await plane.recover("pitch:2", 3, epoch)
        assert not gap.recovered and gap.frames == [] and gap.seq == 12
    finally:
        await plane.close()


async def test_events_caused_on_one_node_reach_clients_on_the_other(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    creator_id, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published")
    room = f"pitch:{pitch['id']}"
    _, inv_a = await user(a, "investor")
    inv_b_id, inv_b = await user(b, "investor")
    on_a = await connect(a, inv_a)
    on_b = await connect(b, inv_b)
    await on_a.subscribe(room)
    await on_b.subscribe(room)
    await like(b, pitch["id"], inv_b)
    got_a = await on_a.expect("like_update", room)
    got_b = await on_b.expect("like_update", room)
    assert got_a["seq"] == got_b["seq"]
    assert got_a["data"]["likes"] == 1 and got_a["data"]["userId"] == inv_b_id
    # Notifications and NDA events cross nodes too: the owner is on node A, the request on B.
    owner = await connect(a, creator)
    resp = await b.post(
        "/api/ndas/request",
        json={"pitchId": pitch["id"], "message": "hi"},
        headers={"Authorization": f"Bearer {inv_b}"},
    )
    assert resp.status == 201
    frame = await owner.expect("nda_request", f"user:{creator_id}")
    assert frame["data"]["requesterId"] == inv_b_id
    for c in (on_a, on_b, owner):
        await c.close()


async def test_messages_from_both_nodes_arrive_in_one_order_everywhere(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published")
    room = f"pitch:{pitch['id']}"
    conns = []
    for node in (a, b, a, b):
        _, tok = await user(node, "investor")
        c = await connect(node, tok)
        await c.subscribe(room)
        conns.append(c)
    for c in conns:
        c.discard(room)

    async def post_many(c, n):
        for i in range(n):
            await c.send("message", room, data={"text": f"{id(c)}-{i}"})

    await asyncio.gather(post_many(conns[0], 15), post_many(conns[1], 15))
    sequences = []
    for c in conns:
        frames: list = []
        while len(frames) < 30:  # presence events from late joiners may interleave
            f = await c.next_in_room(room, timeout=10)
            if f["type"] == "message":
                frames.append(f)
        sequences.append([(f["seq"], f["data"]["text"]) for f in frames])
    assert all(s == sequences[0] for s in sequences)
    seqs = [s for s, _ in sequences[0]]
    assert seqs == list(range(seqs[0], seqs[0] + 30))
    for c in conns:
        await c.close()


async def test_recovery_works_on_whichever_node_the_client_returns_to(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published")
    room = f"pitch:{pitch['id']}"
    _, tok = await user(a, "investor")
    _, poster = await user(b, "investor")
    watcher = await connect(a, tok)
    sub = await watcher.subscribe(room)
    epoch = sub["data"]["epoch"]
    talker = await connect(b, poster)
    await talker.subscribe(room)
    await talker.post(room, "before")
    last_seen = (await watcher.expect("message", room))["seq"]
    await watcher.close()
    for i in range(3):
        await talker.post(room, f"missed {i}")
    back = await connect(b, tok)
    sub = await back.subscribe(room, since=last_seen, epoch=epoch)
    assert sub["data"]["recovered"] is True
    current = sub["data"]["seq"]
    replay = await back.events(room, current - last_seen)  # the watcher's user_left included
    assert [f["data"]["text"] for f in replay if f["type"] == "message"] == [
        "missed 0",
        "missed 1",
        "missed 2",
    ]
    assert [f["seq"] for f in replay] == list(range(last_seen + 1, current + 1))
    await back.close()
    await talker.close()


async def test_a_node_serves_its_own_clients_while_redis_is_away(make_client, tmp_path):
    redis = RedisProcess(tmp_path)
    redis.start()
    try:
        node = await make_client(redis_url=redis.url)
        _, creator = await user(node, "creator")
        pitch = await make_pitch(node, creator, status="published")
        room = f"pitch:{pitch['id']}"
        _, tok = await user(node, "investor")
        c = await connect(node, tok)
        first = await c.subscribe(room)
        shared_epoch = first["data"]["epoch"]
        await c.post(room, "shared")
        redis.kill()
        # The node notices (on its next use of Redis or its subscription) and moves the room to
        # a local stream, telling the subscriber: a new epoch, never a silent continuation.
        _, ack = await c.post(room, "local")
        resync = await c.expect("subscribed", room, timeout=10)
        assert resync["data"].get("resync") is True
        assert resync["data"]["epoch"] != shared_epoch
        ready = await node.get("/ready")
        assert ready.status == 200
        assert (await ready.json())["data"]["status"] == "degraded"
        # Local clients keep being served.
        _, ack = await c.post(room, "still here")
        assert ack["type"] == "ack"
        redis.start()
        back = await c.expect("subscribed", room, timeout=15)
        assert back["data"].get("resync") is True
        assert back["data"]["epoch"] not in (shared_epoch, resync["data"]["epoch"])
        await wait_until(lambda: realtime(node).backplane.healthy, timeout=10)
        ready = await node.get("/ready")
        assert (await ready.json())["data"]["status"] == "ready"
        await c.close()
    finally:
        redis.kill()


async def test_a_user_on_two_nodes_is_one_presence_entry(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published")
    room = f"pitch:{pitch['id']}"
    watcher_id, watcher_tok = await user(a, "investor")
    watcher = await connect(a, watcher_tok)
    await watcher.subscribe(room)
    uid, tok = await user(a, "investor")
    tab_a = await connect(a, tok)
    await tab_a.subscribe(room)
    await watcher.expect("user_joined", room, where=lambda f: f["data"]["userId"] == uid)
    tab_b = await connect(b, tok)
    sub_b = await tab_b.subscribe(room)
    users = {u["userId"]: u for u in sub_b["data"]["presence"]}
    assert users[uid]["connections"] == 2 and watcher_id in users
    await tab_a.close()
    await tab_a_gone(a, room, uid)
    await watcher.ping()  # nothing announced: the user is still here through node B
    assert not [
        f
        for f in watcher.discard(room)
        if f["type"] in ("user_joined", "user_left") and f["data"]["userId"] == uid
    ]
    await tab_b.close()
    await watcher.expect("user_left", room, where=lambda f: f["data"]["userId"] == uid)
    await watcher.close()


async def tab_a_gone(node, room, uid):
    await wait_until(lambda: uid not in realtime(node).hub._rooms[room].presence)


async def test_a_dead_nodes_users_leave_within_its_presence_ttl(redis_url):
    dead, alive = RedisBackplane(redis_url), RedisBackplane(redis_url)
    dead.presence_ttl = alive.presence_ttl = 1
    seen: list = []
    try:
        await alive.start()
        alive.listen(lambda pub: seen.append(pub.type))
        await alive.attach("pitch:9")
        await asyncio.sleep(0.1)
        assert (await alive.presence_update("pitch:9", 1, "investor", 1)).type == "user_joined"
        assert (await dead.presence_update("pitch:9", 2, "creator", 1)).type == "user_joined"
        # Node "dead" stops renewing (as after kill -9); node "alive" keeps renewing its own.
        await dead.close()
        gone = False
        for _ in range(40):
            await alive.keepalive({"pitch:9": {1: (1, "investor")}})
            local = [{"userId": 1, "userType": "investor", "connections": 1}]
            users = {u["userId"] for u in await alive.presence("pitch:9", local)}
            if users == {1}:
                gone = True
                break
            await asyncio.sleep(0.1)
        assert gone, "the dead node's user is still present"
        await wait_until(lambda: seen.count("user_left") == 1)
    finally:
        await alive.close()


async def test_logout_on_one_node_closes_sessions_on_the_other(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, tok = await user(a, "investor")
    live = await connect(a, tok)
    resp = await b.post("/api/auth/logout", json={}, headers={"Authorization": f"Bearer {tok}"})
    assert resp.status == 200
    assert await live.closed(timeout=5) == 4001
    again = await a.get("/api/auth/session", headers={"Authorization": f"Bearer {tok}"})
    assert again.status == 401


async def test_a_ticket_from_one_node_opens_one_socket_on_another(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    uid, tok = await user(a, "investor")
    resp = await a.get("/api/ws/token", headers={"Authorization": f"Bearer {tok}"})
    ticket = (await resp.json())["data"]["ticket"]
    ws = await b.ws_connect(f"/ws?ticket={ticket}", protocols=["pitchey.v1"])
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "connected" and first["data"]["userId"] == uid
    await ws.close()
    for node in (a, b):
        reuse = await node.get(
            f"/ws?ticket={ticket}",
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        assert reuse.status == 401


async def test_failed_logins_are_counted_across_nodes(make_client, redis_url, expect):
    a = await make_client(redis_url=redis_url, login_failure_limit="3/minute")
    b = await make_client(redis_url=redis_url, login_failure_limit="3/minute")
    email = "shared-limit@example.com"
    reg = await a.post("/api/auth/investor/register", json={"email": email, "password": "right-password"})
    assert reg.status == 201
    for node in (a, b, a):
        r = await node.post("/api/auth/investor/login", json={"email": email, "password": "nope-nope"})
        assert r.status == 401
    blocked = await b.post("/api/auth/investor/login", json={"email": email, "password": "right-password"})
    await expect(blocked, 429, "RATE_LIMITED")


async def test_room_metrics_add_up_across_nodes(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published")
    room = f"pitch:{pitch['id']}"
    dashboard = await connect(a, creator)
    await dashboard.subscribe(f"metrics:{room}")
    members = []
    for node in (a, b, b):
        _, tok = await user(node, "investor")
        c = await connect(node, tok)
        await c.subscribe(room)
        members.append(c)

    def all_three(f):
        return f["data"].get("subscribers") == 3 and f["data"].get("nodes") == 2

    frame = await dashboard.expect("metrics", f"metrics:{room}", timeout=8, where=all_three)
    assert frame["data"]["subscribers"] == 3
    for c in (*members, dashboard):
        await c.close()


async def test_an_edit_on_one_node_is_never_stale_on_another(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published", title="Before")
    _, viewer = await user(b, "investor")
    headers = {"Authorization": f"Bearer {viewer}"}
    for _ in range(2):  # the second read is served from node B's cache
        r = await b.get(f"/api/pitches/{pitch['id']}", headers=headers)
        assert (await r.json())["data"]["title"] == "Before"
    r = await a.put(
        f"/api/pitches/{pitch['id']}", json={"title": "After"}, headers={"Authorization": f"Bearer {creator}"}
    )
    assert r.status == 200

    async def fresh() -> bool:
        got = await b.get(f"/api/pitches/{pitch['id']}", headers=headers)
        return (await got.json())["data"]["title"] == "After"

    await wait_until(fresh, timeout=2, what="node B to drop its cached copy")
