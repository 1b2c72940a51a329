"""Coalesced room posts (issue 16): a pitch room's turn stores every post queued behind it in one
transaction, then publishes and acknowledges them in order; a value the database refuses fails
only its own post, and a post from a session that is not subscribed only its sender.

The posts are told to the room in one go from the test (as a busy socket's reader would queue
them), so they are all in the inbox when the room's turn starts. Rows written by one transaction
share their `xmin` (the id of the transaction that inserted them): that is how the tests see
one commit rather than guess it from timing."""

from __future__ import annotations

from typing import Any

from realtime_helpers import connect, make_pitch, realtime, user

from pitchey.protocol import RoomName
from pitchey.rooms.messages import Leave, Post


async def _setup(make_client: Any) -> tuple[Any, Any, Any, int, str]:
    client = await make_client(ws_rate=10000.0, ws_burst=10000)
    _, creator = await user(client, "creator")
    _, investor = await user(client, "investor")
    pitch = await make_pitch(client, creator)
    room = f"pitch:{pitch['id']}"
    sender, other = await connect(client, creator), await connect(client, investor)
    for conn in (sender, other):
        await conn.subscribe(room)
    await sender.ping()
    return client, sender, other, pitch["id"], room


def _session(client: Any, conn: Any) -> Any:
    return next(s for s in realtime(client).sessions.sessions if s.session_id == conn.session_id)


async def test_queued_posts_share_one_commit_and_are_acked_in_order(make_client: Any, db_conn: Any) -> None:
    client, sender, other, pitch_id, room = await _setup(make_client)
    hub = realtime(client).hub
    session = _session(client, sender)
    before = hub._rooms[room]
    texts = [f"batch-{i}" for i in range(20)]
    for i, text in enumerate(texts):
        hub.tell(RoomName.pitch(pitch_id), Post(session, text, f"b{i}"))
    acks = [await sender.expect("ack", where=lambda f, i=i: f.get("id") == f"b{i}") for i in range(20)]
    seen = await other.events(room, 20, types=("message",))
    assert [e["data"]["text"] for e in seen] == texts
    assert [a["seq"] for a in acks] == [e["seq"] for e in seen]
    assert [a["seq"] for a in acks] == list(range(acks[0]["seq"], acks[0]["seq"] + 20))
    assert [a["data"]["messageId"] for a in acks] == [e["data"]["id"] for e in seen]
    rows = await db_conn.fetch(
        "SELECT id, body, xmin::text AS tx FROM room_messages WHERE pitch_id = $1 ORDER BY id", pitch_id
    )
    assert [r["body"] for r in rows] == texts
    assert [r["id"] for r in rows] == [a["data"]["messageId"] for a in acks]
    # All twenty in one transaction: one commit for the turn, not one per post.
    assert len({r["tx"] for r in rows}) == 1
    assert hub._rooms[room] is before


async def test_a_refused_value_in_a_batch_fails_only_its_post(make_client: Any, db_conn: Any) -> None:
    client, sender, other, pitch_id, room = await _setup(make_client)
    hub = realtime(client).hub
    session = _session(client, sender)
    before = hub._rooms[room]
    restarts = hub.metrics.room_restarts._value.get()
    texts = ["one", "two", "past the edge\x00", "four", "five"]
    for i, text in enumerate(texts):
        hub.tell(RoomName.pitch(pitch_id), Post(session, text, f"r{i}"))
    err = await sender.error_for("r2")
    assert err["data"]["code"] == "BAD_FRAME" and err["room"] == room
    good = [0, 1, 3, 4]
    acks = [await sender.expect("ack", where=lambda f, i=i: f.get("id") == f"r{i}") for i in good]
    seen = await other.events(room, 4, types=("message",))
    assert [e["data"]["text"] for e in seen] == ["one", "two", "four", "five"]
    assert [a["seq"] for a in acks] == [e["seq"] for e in seen]
    bodies = await db_conn.fetch("SELECT body FROM room_messages WHERE pitch_id = $1 ORDER BY id", pitch_id)
    assert [r["body"] for r in bodies] == ["one", "two", "four", "five"]
    # The room carried on: same actor, no restart, nobody told to resync.
    assert hub._rooms[room] is before
    assert hub.metrics.room_restarts._value.get() == restarts
    assert not [f for c in (sender, other) for f in c.received if f["data"].get("resync")]
    await sender.post(room, "after")
    assert (await other.expect("message", room))["data"]["text"] == "after"


async def test_a_post_of_an_unsubscribed_session_in_a_batch_answers_only_it(
    make_client: Any, db_conn: Any
) -> None:
    client, sender, other, pitch_id, room = await _setup(make_client)
    _, producer = await user(client, "production")
    outsider = await connect(client, producer)
    await outsider.ping()
    hub = realtime(client).hub
    mine, theirs = _session(client, sender), _session(client, outsider)
    name = RoomName.pitch(pitch_id)
    hub.tell(name, Post(mine, "first", "u0"))
    hub.tell(name, Post(theirs, "not subscribed", "u1"))
    hub.tell(name, Post(mine, "second", "u2"))
    err = await outsider.error_for("u1")
    assert err["data"]["code"] == "NOT_SUBSCRIBED"
    for cid in ("u0", "u2"):
        await sender.expect("ack", where=lambda f, cid=cid: f.get("id") == cid)
    seen = await other.events(room, 2, types=("message",))
    assert [e["data"]["text"] for e in seen] == ["first", "second"]
    assert await db_conn.fetchval("SELECT count(*) FROM room_messages WHERE pitch_id = $1", pitch_id) == 2


async def test_a_batch_never_reaches_past_another_message(make_client: Any, db_conn: Any) -> None:
    """Only the unbroken run of posts at the head of the inbox joins a turn: a post queued after
    the sender's own Leave is judged after it (and refused), not swept into the earlier commit."""
    client, sender, _other, pitch_id, _room = await _setup(make_client)
    hub = realtime(client).hub
    session = _session(client, sender)
    name = RoomName.pitch(pitch_id)
    hub.tell(name, Post(session, "before leaving", "l0"))
    hub.tell(name, Leave(session, "l1", reply=True))
    hub.tell(name, Post(session, "after leaving", "l2"))
    await sender.expect("ack", where=lambda f: f.get("id") == "l0")
    err = await sender.error_for("l2")
    assert err["data"]["code"] == "NOT_SUBSCRIBED"
    bodies = await db_conn.fetch("SELECT body FROM room_messages WHERE pitch_id = $1", pitch_id)
    assert [r["body"] for r in bodies] == ["before leaving"]
