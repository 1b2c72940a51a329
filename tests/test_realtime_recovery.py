"""Recovery after a disconnect (since + epoch), history limits, passivation of idle rooms with
their snapshot, and a failed room actor replaced by the Hub with a resync."""

from __future__ import annotations

import asyncio

from realtime_helpers import (
    connect,
    like,
    make_pitch,
    prometheus,
    realtime,
    user,
    wait_until,
)

from pitchey.rooms.room import PitchRoom


async def room_setup(client):
    """An owner P (the poster) and an investor X, both subscribed to one public pitch room.

    Returns (P conn, X token, X conn, room, epoch, X's last seen seq): seq 1 is P joining, 2 X
    joining, 3 and 4 P's messages.
    """
    _, p_token = await user(client, "creator")
    _, x_token = await user(client, "investor")
    pitch = await make_pitch(client, p_token)
    room = f"pitch:{pitch['id']}"
    p = await connect(client, p_token)
    await p.subscribe(room)
    x = await connect(client, x_token)
    sub = await x.subscribe(room)
    epoch = sub["data"]["epoch"]
    await p.post(room, "m1")
    await p.post(room, "m2")
    seen = await x.events(room, 3)
    assert [e["seq"] for e in seen] == [2, 3, 4]
    assert [e["type"] for e in seen] == ["user_joined", "message", "message"]
    return p, x_token, x, room, epoch, seen[-1]["seq"]


async def disconnect(client, p, x, room):
    """X goes away; P sees user_left (so the room processed X's departure)."""
    await x.close()
    return await p.expect("user_left", room)


async def test_recovery_replays_exactly_the_missed_events(make_client):
    client = await make_client()
    p, x_token, x, room, epoch, last = await room_setup(client)
    left = await disconnect(client, p, x, room)
    assert left["seq"] == 5
    await p.post(room, "m3")
    await p.post(room, "m4")

    x2 = await connect(client, x_token)
    sub = await x2.subscribe(room, since=last, epoch=epoch)
    assert sub["data"]["recovered"] is True
    assert sub["data"]["seq"] == 7 and sub["data"]["epoch"] == epoch
    replay = [await x2.next_in_room(room) for _ in range(3)]
    assert [(f["seq"], f["type"]) for f in replay] == [(5, "user_left"), (6, "message"), (7, "message")]
    assert [f["data"].get("text") for f in replay[1:]] == ["m3", "m4"]
    # Then live again: X's own join is seq 8 and nothing was delivered twice.
    nxt = await x2.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("user_joined", 8)
    await p.post(room, "m5")
    nxt = await x2.next_in_room(room)
    assert (nxt["type"], nxt["seq"], nxt["data"]["text"]) == ("message", 9, "m5")


async def test_recovery_with_nothing_missed(make_client):
    client = await make_client()
    p, x_token, x, room, epoch, _ = await room_setup(client)
    left = await disconnect(client, p, x, room)
    x2 = await connect(client, x_token)
    sub = await x2.subscribe(room, since=left["seq"], epoch=epoch)
    assert sub["data"]["recovered"] is True and sub["data"]["seq"] == left["seq"]
    nxt = await x2.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("user_joined", left["seq"] + 1)


async def test_gap_beyond_history_size_is_not_replayed(make_client):
    client = await make_client(room_history_size=5, ws_rate=1000, ws_burst=1000)
    p, x_token, x, room, epoch, last = await room_setup(client)
    await disconnect(client, p, x, room)  # seq 5
    for i in range(6):  # seq 6..11: 7 missed events, only the last 5 held
        await p.post(room, f"later-{i}")
    x2 = await connect(client, x_token)
    sub = await x2.subscribe(room, since=last, epoch=epoch)
    assert sub["data"]["recovered"] is False
    assert sub["data"]["seq"] == 11 and sub["data"]["epoch"] == epoch
    nxt = await x2.next_in_room(room)  # nothing replayed: the next frame is X's own join
    assert (nxt["type"], nxt["seq"]) == ("user_joined", 12)


async def test_gap_exactly_at_history_size_is_replayed(make_client):
    client = await make_client(room_history_size=5, ws_rate=1000, ws_burst=1000)
    p, x_token, x, room, epoch, last = await room_setup(client)
    await disconnect(client, p, x, room)  # seq 5
    for i in range(4):  # seq 6..9: 5 missed events, all held
        await p.post(room, f"later-{i}")
    x2 = await connect(client, x_token)
    sub = await x2.subscribe(room, since=last, epoch=epoch)
    assert sub["data"]["recovered"] is True and sub["data"]["seq"] == 9
    replay = [await x2.next_in_room(room) for _ in range(5)]
    assert [f["seq"] for f in replay] == [5, 6, 7, 8, 9]


async def test_replay_too_big_for_the_send_buffer_is_not_recovered(make_client):
    """A replay the session could not queue must not get it closed as a slow consumer (and
    again on every reconnect): it is answered `recovered: false`, and the session lives."""
    client = await make_client(ws_send_buffer=64 * 1024, ws_rate=1000, ws_burst=1000)
    p, x_token, x, room, epoch, last = await room_setup(client)
    await disconnect(client, p, x, room)  # seq 5
    for i in range(20):  # seq 6..25, about 70 KiB of frames: more than the session may queue
        await p.post(room, f"{i:02d}" + "w" * 3500)
    x2 = await connect(client, x_token)
    sub = await x2.subscribe(room, since=last, epoch=epoch)
    assert sub["data"]["recovered"] is False and sub["data"]["seq"] == 25
    nxt = await x2.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("user_joined", 26)
    await x2.ping()
    # A smaller gap is still replayed in full.
    await x2.close()
    await p.expect("user_left", room)  # seq 27
    await p.post(room, "small")  # seq 28
    x3 = await connect(client, x_token)
    sub = await x3.subscribe(room, since=26, epoch=epoch)
    assert sub["data"]["recovered"] is True
    replay = [await x3.next_in_room(room) for _ in range(2)]
    assert [(f["type"], f["seq"]) for f in replay] == [("user_left", 27), ("message", 28)]


async def test_gap_older_than_history_age_is_not_replayed(make_client):
    client = await make_client(room_history_seconds=0.3)
    p, x_token, x, room, epoch, last = await room_setup(client)
    await disconnect(client, p, x, room)
    await asyncio.sleep(0.5)  # a timer: the history's age limit
    await p.post(room, "fresh")
    x2 = await connect(client, x_token)
    sub = await x2.subscribe(room, since=last, epoch=epoch)
    assert sub["data"]["recovered"] is False and sub["data"]["seq"] == 6
    nxt = await x2.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("user_joined", 7)


async def test_wrong_epoch_or_future_seq_is_not_recovered(make_client):
    client = await make_client()
    p, x_token, x, room, epoch, last = await room_setup(client)
    await disconnect(client, p, x, room)
    x2 = await connect(client, x_token)
    sub = await x2.subscribe(room, since=last, epoch="deadbeef")
    assert sub["data"]["recovered"] is False
    assert sub["data"]["seq"] == 5 and sub["data"]["epoch"] == epoch
    nxt = await x2.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("user_joined", 6)
    # A seq from the future is not recovered either.
    again = await x2.subscribe(room, since=999, epoch=epoch)
    assert again["data"]["recovered"] is False and again["data"]["seq"] == 6


# ---------------------------------------------------------------------------------------------
# Passivation
# ---------------------------------------------------------------------------------------------


async def test_idle_room_passivates_with_snapshot_and_recovers(make_client, db_conn):
    client = await make_client(room_idle_timeout=0.3)
    hub = realtime(client).hub
    _, owner_token = await user(client, "creator")
    _, x_token = await user(client, "investor")
    _, v_token = await user(client, "production")
    pitch = await make_pitch(client, owner_token)
    pid = pitch["id"]
    room = f"pitch:{pid}"

    x = await connect(client, x_token)
    sub = await x.subscribe(room)
    epoch = sub["data"]["epoch"]
    await like(client, pid, v_token)
    seen = await x.events(room, 2)
    assert [(e["type"], e["seq"]) for e in seen] == [("user_joined", 1), ("like_update", 2)]
    await x.unsubscribe(room)  # user_left: seq 3
    await like(client, pid, v_token, liked=False)  # like_update: seq 4, nobody listening

    await wait_until(lambda: not hub.is_active(room), timeout=5, what="the idle room to passivate")
    row = await db_conn.fetchrow("SELECT epoch, seq, history FROM room_snapshots WHERE room = $1", room)
    assert row is not None and row["epoch"] == epoch and row["seq"] == 4
    assert b"like_update" in bytes(row["history"])
    text = await prometheus(client)
    assert "pitchey_rooms_passivated_total 1.0" in text

    # Back: the room reactivates from its snapshot; the gap is replayed.
    sub = await x.subscribe(room, since=2, epoch=epoch)
    assert hub.is_active(room)
    assert sub["data"]["recovered"] is True
    assert sub["data"]["seq"] == 4 and sub["data"]["epoch"] == epoch
    replay = [await x.next_in_room(room) for _ in range(2)]
    assert [(f["type"], f["seq"]) for f in replay] == [("user_left", 3), ("like_update", 4)]
    assert replay[1]["data"]["likes"] == 0 and replay[1]["data"]["liked"] is False
    nxt = await x.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("user_joined", 5)
    await like(client, pid, v_token)
    nxt = await x.next_in_room(room)
    assert (nxt["type"], nxt["seq"], nxt["data"]["likes"]) == ("like_update", 6, 1)


async def test_room_with_subscribers_does_not_passivate(make_client):
    client = await make_client(room_idle_timeout=0.2)
    hub = realtime(client).hub
    _, token = await user(client, "creator")
    pitch = await make_pitch(client, token)
    room = f"pitch:{pitch['id']}"
    conn = await connect(client, token)
    await conn.subscribe(room)
    await asyncio.sleep(0.6)  # a timer: three idle periods
    assert hub.is_active(room)
    assert hub.is_active(f"user:{conn.user_id}")
    _, ack = await conn.post(room, "still awake")
    assert ack["seq"] == 2


async def test_history_survives_an_app_restart(make_client):
    """Shutdown passivates rooms; a new app on the same database resumes the stream, epoch and
    history intact, byte for byte (non-ASCII text included)."""
    client = await make_client()
    p, x_token, x, room, epoch, last = await room_setup(client)
    await disconnect(client, p, x, room)  # seq 5
    await p.post(room, "héllo wörld 🎬 — 日本語")  # seq 6
    await client.server.close()
    assert await p.closed() == 1012  # p's user_left: seq 7

    client2 = await make_client()
    x2 = await connect(client2, x_token)
    sub = await x2.subscribe(room, since=last, epoch=epoch)
    assert sub["data"]["recovered"] is True
    assert sub["data"]["seq"] == 7 and sub["data"]["epoch"] == epoch
    replay = [await x2.next_in_room(room) for _ in range(3)]
    assert [(f["type"], f["seq"]) for f in replay] == [("user_left", 5), ("message", 6), ("user_left", 7)]
    assert replay[1]["data"]["text"] == "héllo wörld 🎬 — 日本語"
    nxt = await x2.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("user_joined", 8)


# ---------------------------------------------------------------------------------------------
# A failing room actor
# ---------------------------------------------------------------------------------------------


async def test_failed_room_is_replaced_and_subscribers_resync(make_client, monkeypatch):
    client = await make_client()
    hub = realtime(client).hub
    owner_id, owner_token = await user(client, "creator")
    x_id, x_token = await user(client, "investor")
    _, v_token = await user(client, "production")
    pitch = await make_pitch(client, owner_token)
    pid = pitch["id"]
    room = f"pitch:{pid}"
    o = await connect(client, owner_token)
    x = await connect(client, x_token)
    x_tab2 = await connect(client, x_token)
    sub = await o.subscribe(room)
    epoch = sub["data"]["epoch"]
    await x.subscribe(room)
    await x_tab2.subscribe(room)
    await o.expect("user_joined", room, where=lambda f: f["seq"] == 2)
    before = hub._rooms[room]

    original = PitchRoom.set_like
    calls = {"n": 0}

    async def flaky(self, user_id, liked):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated room crash")
        return await original(self, user_id, liked)

    monkeypatch.setattr(PitchRoom, "set_like", flaky)
    resp = await client.post(
        f"/api/pitches/{pid}/like", json={}, headers={"Authorization": f"Bearer {v_token}"}
    )
    await resp.read()
    assert resp.status == 500

    for conn in (o, x, x_tab2):
        resync = await conn.expect("subscribed", room, where=lambda f: f["data"].get("resync") is True)
        assert "id" not in resync
        assert resync["data"]["recovered"] is False
        assert resync["data"]["seq"] == 2 and resync["data"]["epoch"] == epoch
        users = {u["userId"]: u["connections"] for u in resync["data"]["presence"]}
        assert users == {owner_id: 1, x_id: 2}
        # Nothing but the joins came before the resync (the failed like announced nothing).
        earlier = conn.discard(room)
        assert {f["type"] for f in earlier} <= {"user_joined"}, earlier
    after = hub._rooms[room]
    assert after is not before and before.actor_stopped.is_set()

    # Events keep flowing, seq continuing; the crashed like was never stored nor announced.
    await like(client, pid, v_token)
    for conn in (o, x, x_tab2):
        nxt = await conn.next_in_room(room)
        assert (nxt["type"], nxt["seq"], nxt["data"]["likes"]) == ("like_update", 3, 1)
    _, ack = await x.post(room, "after the crash")
    assert ack["seq"] == 4
    presence = await o.presence(room)
    assert {u: p["connections"] for u, p in presence.items()} == {owner_id: 1, x_id: 2}
    # Presence bookkeeping survived: one tab leaving is silent, the last one is announced.
    await x_tab2.unsubscribe(room)
    await x.unsubscribe(room)
    left = await o.next_in_room(room)
    assert (left["type"], left["seq"]) == ("message", 4)
    left = await o.next_in_room(room)
    assert (left["type"], left["seq"], left["data"]["userId"]) == ("user_left", 5, x_id)
    assert "pitchey_room_restarts_total 1.0" in await prometheus(client)


async def test_metrics_watchers_survive_a_room_failure(make_client, monkeypatch):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    _, v_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token)
    pid = pitch["id"]
    room = f"pitch:{pid}"
    owner = await connect(client, owner_token)
    await owner.subscribe(f"metrics:{room}")
    await owner.subscribe(room)
    calls = {"n": 0}
    original = PitchRoom.record_view

    async def flaky(self, user_id):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated room crash")
        return await original(self, user_id)

    monkeypatch.setattr(PitchRoom, "record_view", flaky)
    resp = await client.get(f"/api/pitches/{pid}", headers={"Authorization": f"Bearer {v_token}"})
    await resp.read()
    assert resp.status == 500
    await owner.expect("subscribed", room, where=lambda f: f["data"].get("resync") is True)
    owner.discard(f"metrics:{room}")
    frame = await owner.expect("metrics", f"metrics:{room}", timeout=2.5)
    assert frame["data"]["subscribers"] == 1
    # The failed view was not counted: the next read counts it, live.
    resp = await client.get(f"/api/pitches/{pid}", headers={"Authorization": f"Bearer {v_token}"})
    assert (await resp.json())["data"]["viewCount"] == 1
    view = await owner.expect("view_update", room)
    assert view["data"]["views"] == 1 and view["seq"] == 2
