"""Rooms over real sockets: presence across tabs, message ordering and acks, typing, persistence,
and who may join which room."""

from __future__ import annotations

import asyncio

import pytest
from realtime_helpers import (
    bearer,
    connect,
    decide_nda,
    make_pitch,
    realtime,
    request_nda,
    user,
    wait_until,
)

# ---------------------------------------------------------------------------------------------
# Presence
# ---------------------------------------------------------------------------------------------


async def test_presence_one_entry_per_user_across_tabs(make_client):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    uid, token = await user(client, "investor")

    watcher = await connect(client, owner_token)
    sub = await watcher.subscribe(room)
    assert sub["data"]["seq"] == 0
    own_join = (await watcher.events(room, 1))[0]
    assert own_join["type"] == "user_joined" and own_join["seq"] == 1

    tabs = [await connect(client, token) for _ in range(3)]
    subs = [await tab.subscribe(room) for tab in tabs]
    assert [s["data"]["presence"] for s in subs][-1] == [
        {"userId": owner_id, "userType": "creator", "connections": 1},
        {"userId": uid, "userType": "investor", "connections": 3},
    ]
    joined = (await watcher.events(room, 1))[0]
    assert joined["type"] == "user_joined" and joined["seq"] == 2
    assert joined["data"] == {"userId": uid, "userType": "investor"}

    presence = await watcher.presence(room)
    assert presence[uid]["connections"] == 3 and presence[owner_id]["connections"] == 1
    assert len(presence) == 2

    # The second and third tabs announced nothing: the next event is seq 3.
    _, ack = await watcher.post(room, "marker")
    assert ack["seq"] == 3
    assert (await watcher.events(room, 1))[0]["type"] == "message"

    # Two tabs close: the user is still here.
    sessions = realtime(client).sessions.sessions
    await tabs[0].close()
    await tabs[1].close()
    await wait_until(lambda: len(sessions) == 2, what="two tabs to be gone server-side")
    _, ack = await watcher.post(room, "still here?")
    assert ack["seq"] == 4
    nxt = (await watcher.events(room, 1))[0]
    assert nxt["type"] == "message" and nxt["seq"] == 4, nxt
    presence = await watcher.presence(room)
    assert presence[uid]["connections"] == 1

    # The last tab closes: user_left, seen by the other user.
    await tabs[2].close()
    left = (await watcher.events(room, 1))[0]
    assert left["type"] == "user_left" and left["seq"] == 5
    assert left["data"]["userId"] == uid
    assert uid not in await watcher.presence(room)


async def test_unsubscribe_of_last_tab_announces_user_left(make_client):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    uid, token = await user(client, "investor")
    watcher = await connect(client, owner_token)
    await watcher.subscribe(room)
    tab = await connect(client, token)
    await tab.subscribe(room)
    reply = await tab.unsubscribe(room)
    assert reply["room"] == room
    left = await watcher.expect("user_left", room)
    assert left["data"]["userId"] == uid
    # Commands for a room one left are refused.
    cid = await tab.send("presence", room)
    assert (await tab.error_for(cid))["data"]["code"] == "NOT_SUBSCRIBED"
    cid = await tab.send("unsubscribe", room)
    assert (await tab.error_for(cid))["data"]["code"] == "NOT_SUBSCRIBED"


async def test_typing_reaches_the_others_only(make_client):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    _, token = await user(client, "investor")
    a = await connect(client, owner_token)
    b = await connect(client, token)
    await a.subscribe(room)
    await b.subscribe(room)
    await a.send("typing", room)
    typing = await b.expect("typing", room)
    assert typing["data"] == {"userId": owner_id}
    assert "seq" not in typing
    # The typist gets nothing: a ping round trip after the typing notice shows no typing frame.
    await a.ping()
    assert not [f for f in a.backlog if f["type"] == "typing"]


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


async def test_messages_ordered_gapless_and_identical_for_every_subscriber(make_client, db_conn):
    client = await make_client(ws_rate=1000, ws_burst=1000)
    _, owner_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    _, t2 = await user(client, "investor")
    _, t3 = await user(client, "production")
    a = await connect(client, owner_token)
    b = await connect(client, t2)
    c = await connect(client, t3)
    for conn in (a, b, c):
        await conn.subscribe(room)
    # Wait until everyone saw all three joins (seq 1..3), so all see the same tail from here.
    for conn in (a, b, c):
        await conn.expect("user_joined", room, where=lambda f: f["seq"] == 3)

    per_sender = 25
    ids: dict[str, list] = {"a": [], "b": []}

    async def burst(conn, tag):
        for i in range(per_sender):
            ids[tag].append(await conn.send("message", room, data={"text": f"{tag}-{i}"}))

    await asyncio.gather(burst(a, "a"), burst(b, "b"))
    total = 2 * per_sender
    streams = []
    for conn in (a, b, c):
        events = await conn.events(room, total, types=("message",))
        streams.append([(e["seq"], e["data"]["text"], e["data"]["id"]) for e in events])
    assert streams[0] == streams[1] == streams[2]
    seqs = [s for s, _, _ in streams[0]]
    assert seqs == list(range(4, 4 + total)), seqs
    texts = [t for _, t, _ in streams[0]]
    # Each sender's messages keep the order they were sent in.
    for tag in ("a", "b"):
        assert [t for t in texts if t.startswith(tag)] == [f"{tag}-{i}" for i in range(per_sender)]

    # Every message was acknowledged to its sender with the id sent and the event's seq.
    by_text = {t: (s, mid) for s, t, mid in streams[0]}
    for conn, tag in ((a, "a"), (b, "b")):
        for i, cid in enumerate(ids[tag]):
            ack = await conn.expect("ack", where=lambda f, cid=cid: f.get("id") == cid)
            seq, mid = by_text[f"{tag}-{i}"]
            assert ack["room"] == room and ack["seq"] == seq
            assert ack["data"] == {"messageId": mid}
    # c sent nothing and got no acks.
    assert not [f for f in c.backlog if f["type"] == "ack"]

    # Every message is stored, once.
    rows = await db_conn.fetch(
        "SELECT id, body FROM room_messages WHERE pitch_id = $1 ORDER BY id", pitch["id"]
    )
    assert sorted(r["body"] for r in rows) == sorted(texts)
    assert {r["id"]: r["body"] for r in rows} == {mid: t for _, t, mid in streams[0]}


async def test_message_event_payload_and_persistence(make_client, db_conn):
    client = await make_client()
    uid, token = await user(client, "creator")
    pitch = await make_pitch(client, token)
    room = f"pitch:{pitch['id']}"
    conn = await connect(client, token)
    await conn.subscribe(room)
    _, ack = await conn.post(room, "  hello world  ")
    event = await conn.expect("message", room)
    assert event["seq"] == ack["seq"]
    data = event["data"]
    assert data["text"] == "hello world"  # stripped
    assert data["userId"] == uid and data["userType"] == "creator"
    assert data["pitchId"] == pitch["id"] and data["id"] == ack["data"]["messageId"]
    assert data["createdAt"].endswith("Z")
    row = await db_conn.fetchrow("SELECT * FROM room_messages WHERE id = $1", data["id"])
    assert row["body"] == "hello world" and row["user_id"] == uid
    assert row["pitch_id"] == pitch["id"]


async def test_message_refusals_keep_the_session(make_client, db_conn):
    client = await make_client()
    uid, token = await user(client, "creator")
    pitch = await make_pitch(client, token)
    room = f"pitch:{pitch['id']}"
    conn = await connect(client, token)
    cid = await conn.send("message", room, data={"text": "not yet"})
    err = await conn.error_for(cid)
    assert err["data"]["code"] == "NOT_SUBSCRIBED" and err["room"] == room
    await conn.subscribe(room)
    for bad in ({"text": ""}, {"text": "   "}, {}, {"text": 5}, {"text": "x" * 4001}):
        cid = await conn.send("message", room, data=bad)
        assert (await conn.error_for(cid))["data"]["code"] == "BAD_FRAME", bad
    # Messages go to pitch rooms: the own user room refuses them, and the stream stays intact.
    cid = await conn.send("message", f"user:{uid}", data={"text": "to myself"})
    err = await conn.error_for(cid)
    assert err["data"]["code"] == "FORBIDDEN" and err["room"] == f"user:{uid}"
    await conn.ping()
    # A metrics room is not a message room either.
    cid = await conn.send("message", f"metrics:{room}", data={"text": "x"})
    assert (await conn.error_for(cid))["data"]["code"] == "NOT_SUBSCRIBED"
    await conn.ping()
    assert await db_conn.fetchval("SELECT count(*) FROM room_messages") == 0


async def test_resubscribe_is_answered_like_a_first_join_without_a_second_join_event(make_client):
    client = await make_client()
    uid, token = await user(client, "creator")
    pitch = await make_pitch(client, token)
    room = f"pitch:{pitch['id']}"
    conn = await connect(client, token)
    first = await conn.subscribe(room)
    joined = await conn.next_in_room(room)
    assert (joined["type"], joined["seq"]) == ("user_joined", 1)
    again = await conn.subscribe(room, since=0, epoch=first["data"]["epoch"])
    assert again["data"]["epoch"] == first["data"]["epoch"]
    assert again["data"]["recovered"] is True and again["data"]["seq"] == 1
    assert again["data"]["presence"] == [{"userId": uid, "userType": "creator", "connections": 1}]
    replayed = await conn.next_in_room(room)
    assert (replayed["type"], replayed["seq"]) == ("user_joined", 1)
    assert (await conn.presence(room))[uid]["connections"] == 1
    # The user never left, so nobody is told it joined again: the next event is seq 2.
    _, ack = await conn.post(room, "after the replay")
    assert ack["seq"] == 2
    nxt = await conn.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("message", 2)


# ---------------------------------------------------------------------------------------------
# Room authorization
# ---------------------------------------------------------------------------------------------

OK = "ok"


@pytest.fixture
async def cast_and_pitches(make_client):
    client = await make_client()
    people = {}
    for name, portal in (
        ("owner", "creator"),
        ("investor", "investor"),
        ("creator", "creator"),
        ("production", "production"),
        ("nda", "investor"),
    ):
        people[name] = await user(client, portal)
    owner_token = people["owner"][1]
    pitches = {
        "public": await make_pitch(client, owner_token, visibility="public"),
        "investors_only": await make_pitch(client, owner_token, visibility="investors_only"),
        "private": await make_pitch(client, owner_token, visibility="public"),  # private below
        "draft": await make_pitch(client, owner_token, status="draft"),
    }
    # Requested while public (a private pitch refuses a request as its detail does), then private.
    nda = await request_nda(client, pitches["private"]["id"], people["nda"][1])
    await decide_nda(client, nda["data"]["id"], owner_token)
    made_private = await client.put(
        f"/api/pitches/{pitches['private']['id']}",
        json={"visibility": "private"},
        headers=bearer(owner_token),
    )
    assert made_private.status == 200
    pitches["private"]["visibility"] = "private"
    return client, people, pitches


MATRIX = {
    #                 owner investor  creator       production    nda holder (an investor)
    "public": (OK, OK, OK, OK, OK),
    "investors_only": (OK, OK, "FORBIDDEN", OK, OK),
    "private": (OK, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", OK),
    "draft": (OK, "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"),
}


async def test_pitch_room_authorization_matrix(cast_and_pitches):
    client, people, pitches = cast_and_pitches
    order = ("owner", "investor", "creator", "production", "nda")
    conns = {name: await connect(client, people[name][1]) for name in order}
    seen = {}
    for kind, expected in MATRIX.items():
        room = f"pitch:{pitches[kind]['id']}"
        for name, want in zip(order, expected, strict=True):
            conn = conns[name]
            cid = await conn.send("subscribe", room)
            reply = await conn.expect(where=lambda f, cid=cid: f.get("id") == cid)
            got = OK if reply["type"] == "subscribed" else reply["data"]["code"]
            seen[(kind, name)] = got
            assert reply.get("room") == room
    expected_map = {(k, n): w for k, row in MATRIX.items() for n, w in zip(order, row, strict=True)}
    assert seen == expected_map
    # Unknown pitch: not found for everyone.
    assert await conns["owner"].subscribe_error("pitch:999999") == "NOT_FOUND"
    # A refused subscription leaves the session usable and not subscribed.
    cid = await conns["investor"].send("presence", f"pitch:{pitches['private']['id']}")
    assert (await conns["investor"].error_for(cid))["data"]["code"] == "NOT_SUBSCRIBED"


async def test_user_and_metrics_room_authorization(cast_and_pitches):
    client, people, pitches = cast_and_pitches
    owner_id, owner_token = people["owner"]
    inv_id, inv_token = people["investor"]
    owner = await connect(client, owner_token)
    inv = await connect(client, inv_token)
    assert await inv.subscribe_error(f"user:{owner_id}") == "FORBIDDEN"
    assert await inv.subscribe_error(f"metrics:user:{owner_id}") == "FORBIDDEN"
    public = pitches["public"]["id"]
    assert await inv.subscribe_error(f"metrics:pitch:{public}") == "FORBIDDEN"
    assert await inv.subscribe_error("metrics:pitch:999999") == "NOT_FOUND"
    # Owner and self are allowed.
    sub = await owner.subscribe(f"metrics:pitch:{public}")
    assert sub["data"]["recovered"] is False
    await owner.subscribe(f"metrics:pitch:{pitches['draft']['id']}")
    await inv.subscribe(f"metrics:user:{inv_id}")
    # Subscribing to one's own user room again is fine (a replay request).
    again = await inv.subscribe(f"user:{inv_id}")
    assert again["data"]["presence"][0]["connections"] == 1
    # Bad room names are BAD_FRAME.
    for bad in ("pitch:0", "pitch:abc", "lobby", "metrics:metrics:pitch:1", "Pitch:1"):
        cid = await inv.send("subscribe", bad)
        assert (await inv.error_for(cid))["data"]["code"] == "BAD_FRAME", bad


async def test_subscription_limit(make_client):
    client = await make_client(ws_max_subscriptions=3)
    _, token = await user(client, "creator")
    rooms = [f"pitch:{(await make_pitch(client, token))['id']}" for _ in range(3)]
    conn = await connect(client, token)  # the own user room is one subscription
    await conn.subscribe(rooms[0])
    await conn.subscribe(rooms[1])
    cid = await conn.send("subscribe", rooms[2])
    assert (await conn.error_for(cid))["data"]["code"] == "LIMIT"
    await conn.unsubscribe(rooms[0])
    await conn.subscribe(rooms[2])
