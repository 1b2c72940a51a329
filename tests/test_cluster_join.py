"""Joining a room while its events stream past, on two nodes sharing one Redis.

Fan-out runs straight from each node's Redis subscription, outside the room's turns, so a
session whose position a turn is still reading (a subscribe, a recovery) must neither miss an
event that arrives meanwhile nor get one twice: the room holds what arrives during the turn and
replays it after the position (rooms/room.py, `Hold`). These tests join, and recover, on both
nodes while a publisher on one of them keeps many posts in flight, and check that every session
sees each event after its position exactly once, in seq order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from realtime_helpers import Conn, connect, make_pitch, realtime, user, wait_until

from pitchey.protocol.events import Event, EventType
from pitchey.rooms.redis_backplane import RedisBackplane

BURST = 400  # posts the publisher sends without waiting for their acks
LIMITS = {"ws_rate": 100000.0, "ws_burst": 100000}  # the burst is not what is under test here


async def two_nodes(make_client: Any, redis_url: str) -> tuple[Any, Any]:
    return (
        await make_client(redis_url=redis_url, **LIMITS),
        await make_client(redis_url=redis_url, **LIMITS),
    )


async def read_through(conn: Conn, room: str, last: int, timeout: float = 20.0) -> list[int]:
    """Every sequenced event of `room` the session receives, up to and including seq `last`."""
    seqs: list[int] = []
    while not seqs or seqs[-1] < last:
        frame = await conn.expect(
            None,
            room,
            timeout=timeout,
            where=lambda f: "seq" in f and f["type"] not in ("ack", "subscribed"),
        )
        seqs.append(frame["seq"])
    return seqs


async def burst(publisher: Conn, room: str, n: int, tag: str) -> None:
    for i in range(n):
        await publisher.send("message", room, data={"text": f"{tag} {i}"})
        if i % 8 == 7:
            await asyncio.sleep(0)  # let the joins below interleave with the stream


async def stream(publisher: Conn, room: str, n: int, tag: str) -> None:
    """`n` posts one after the other (each after the last one's ack): a steady stream of single
    publications, so that a join's reads are likely to have some land among them."""
    for i in range(n):
        await publisher.post(room, f"{tag} {i}")


async def test_joins_on_either_node_during_a_burst_see_every_later_event_once(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published")
    room = f"pitch:{pitch['id']}"
    publisher = await connect(a, creator)
    await publisher.subscribe(room)
    _, talker_token = await user(b, "investor")
    talker = await connect(b, talker_token)  # posts from the other node at the same time
    await talker.subscribe(room)
    nodes = [b, a] * 8
    tokens = [(await user(node, "investor"))[1] for node in nodes]

    joined: list[tuple[Conn, int]] = []

    async def join_during_the_burst() -> None:
        for node, token in zip(nodes, tokens, strict=True):
            conn = await connect(node, token)
            sub = await conn.subscribe(room, timeout=20)
            joined.append((conn, sub["data"]["seq"]))

    await asyncio.gather(
        burst(publisher, room, BURST, "burst"),
        stream(talker, room, 150, "stream"),
        join_during_the_burst(),
    )
    # A last post marks the end: every session must see everything up to it.
    _, ack = await publisher.post(room, "end")
    end = ack["seq"]
    positions = [seq for _, seq in joined]
    assert positions[0] < positions[-1] < end, positions  # the joins did land inside the stream
    for conn, position in joined:
        seqs = await read_through(conn, room, end)
        assert seqs == list(range(position + 1, end + 1)), (position, seqs[:20])
        await conn.close()
    for conn in (publisher, talker):
        await conn.close()


async def test_a_recovery_on_the_other_node_during_a_burst_is_gapless(make_client, redis_url):
    a, b = await two_nodes(make_client, redis_url)
    _, creator = await user(a, "creator")
    pitch = await make_pitch(a, creator, status="published")
    room = f"pitch:{pitch['id']}"
    publisher = await connect(a, creator)
    await publisher.subscribe(room)
    _, token = await user(a, "investor")
    _, witness_token = await user(b, "investor")
    witness = await connect(b, witness_token)  # keeps node B subscribed throughout
    await witness.subscribe(room)
    first = await connect(a, token)
    sub = await first.subscribe(room)
    epoch = sub["data"]["epoch"]

    recovered: dict[str, Any] = {}

    async def leave_and_come_back() -> None:
        # Read a part of the burst on node A, drop the connection, and come back on node B
        # with the last seq seen, while the burst goes on.
        seen = 0
        while seen < 60:
            frame = await first.expect("message", room, timeout=20)
            seen, last = seen + 1, frame["seq"]
        await first.close()
        back = await connect(b, token)
        again = await back.subscribe(room, since=last, epoch=epoch, timeout=20)
        recovered.update(conn=back, since=last, reply=again)

    await asyncio.gather(burst(publisher, room, BURST, "burst"), leave_and_come_back())
    _, ack = await publisher.post(room, "end")
    end = ack["seq"]
    reply = recovered["reply"]
    assert reply["data"]["recovered"] is True and reply["data"]["epoch"] == epoch
    assert recovered["since"] < reply["data"]["seq"] < end  # it came back inside the stream
    seqs = await read_through(recovered["conn"], room, end)
    assert seqs == list(range(recovered["since"] + 1, end + 1)), seqs[:20]
    witness_seqs = await read_through(witness, room, end)
    assert witness_seqs == sorted(set(witness_seqs)) and witness_seqs[-1] == end
    for conn in (recovered["conn"], witness, publisher):
        await conn.close()


async def test_attach_returns_once_redis_delivers_the_rooms_events(redis_url):
    """A position read right after attach() is one the subscription continues from: the
    SUBSCRIBE is confirmed before attach returns, so nothing published after the read is lost."""
    node, other = RedisBackplane(redis_url), RedisBackplane(redis_url)
    seen: list[int] = []
    try:
        await node.start()
        node.listen(lambda pub: seen.append(pub.seq))
        await wait_until(lambda: node._pubsub is not None)
        for round_ in range(20):
            name = f"pitch:{1000 + round_}"
            await other.publish(name, Event(EventType.MESSAGE, {"i": 0}))
            await node.attach(name)
            position = (await node.recover(name, None, None)).seq
            pub = await other.publish(name, Event(EventType.MESSAGE, {"i": 1}))
            assert pub.seq == position + 1
            await wait_until(lambda pub=pub: seen == [pub.seq], timeout=5)
            seen.clear()
        assert not node._subscribing  # every waiter was answered and removed
    finally:
        await node.close()
        await other.close()


async def test_a_turn_of_posts_is_one_script_call(make_client, redis_url):
    """The posts a room stores in one commit are published in one Redis round trip, with
    consecutive seqs in the order stored."""
    plane = RedisBackplane(redis_url)
    try:
        pubs = await plane.publish_many("pitch:77", [Event(EventType.MESSAGE, {"i": i}) for i in range(5)])
        assert [p.seq for p in pubs] == [1, 2, 3, 4, 5]
        assert len({p.epoch for p in pubs}) == 1
        more = await plane.publish("pitch:77", Event(EventType.MESSAGE, {"i": 5}))
        assert more.seq == 6 and more.epoch == pubs[0].epoch
        replay = await plane.recover("pitch:77", 0, pubs[0].epoch)
        assert replay.recovered and replay.frames == [p.frame for p in pubs] + [more.frame]
    finally:
        await plane.close()
    # Through the server: a burst's acks carry gapless seqs in the order the posts were sent.
    node = await make_client(redis_url=redis_url, **LIMITS)
    _, creator = await user(node, "creator")
    pitch = await make_pitch(node, creator, status="published")
    room = f"pitch:{pitch['id']}"
    conn = await connect(node, creator)
    await conn.subscribe(room)
    ids = [await conn.send("message", room, data={"text": f"m{i}"}) for i in range(50)]
    acks = [await conn.expect("ack", where=lambda f, cid=cid: f.get("id") == cid, timeout=10) for cid in ids]
    seqs = [ack["seq"] for ack in acks]
    assert seqs == list(range(seqs[0], seqs[0] + 50))
    events = await conn.events(room, 50, timeout=10, types=("message",))
    assert [f["data"]["text"] for f in events] == [f"m{i}" for i in range(50)]
    assert [f["seq"] for f in events] == seqs
    assert realtime(node).hub.backplane.healthy
    await conn.close()


def test_a_hold_replays_what_follows_the_position_once_and_bounds_itself():
    from pitchey.rooms.backplane import Publication
    from pitchey.rooms.room import Hold

    def pub(seq: int, epoch: str = "e1", size: int = 10) -> Publication:
        return Publication("pitch:1", seq, epoch, "message", bytes([seq % 256]) * size, 0.0)

    hold = Hold(limit=100)
    for seq in (4, 5, 6, 7):  # 4 and 5 arrived before the position (5) was read: not again
        hold.add(pub(seq))
    assert hold.after(5, "e1") == (7, [pub(6).frame, pub(7).frame], True)
    assert hold.after(7, "e1") == (7, [], True)
    # Another stream's publications are not this position's (its switch resyncs on its own).
    hold.add(pub(1, "e2"))
    assert hold.after(5, "e1") == (7, [pub(6).frame, pub(7).frame], True)
    assert hold.after(0, "e2") == (1, [pub(1, "e2").frame], True)
    # Past its limit a hold keeps only the last publication: the session starts after it and
    # is told it did not recover (it reloads) instead of being sent more than it could queue.
    small = Hold(limit=25)
    for seq in (10, 11, 12):
        small.add(pub(seq))
    assert small.after(9, "e1") == (12, [], False)
    assert small.after(12, "e1") == (12, [], True)
