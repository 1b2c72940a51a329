"""Passivation under pressure: a snapshot that cannot be saved keeps the room awake with its
history (seq never goes back within an epoch), and many idle rooms do not flood the pool."""

from __future__ import annotations

import asyncio

from realtime_helpers import connect, make_pitch, realtime, user, wait_until

from pitchey.protocol import parse_room
from pitchey.storage.database import StorageUnavailable


async def test_a_failed_snapshot_save_keeps_the_room_and_its_seq(make_client, monkeypatch):
    client = await make_client(room_idle_timeout=0.2)
    _, creator = await user(client, "creator")
    pitch = await make_pitch(client, creator, status="published")
    room = f"pitch:{pitch['id']}"
    conn = await connect(client, creator)
    sub = await conn.subscribe(room)
    epoch = sub["data"]["epoch"]
    for i in range(3):
        await conn.post(room, f"m{i}")
    last = (await conn.events(room, 4))[-1]["seq"]  # user_joined + 3 messages
    await conn.unsubscribe(room)
    hub = realtime(client).hub
    attempts = 0

    async def failing_save(name, snapshot):
        nonlocal attempts
        attempts += 1
        raise StorageUnavailable("database down")

    monkeypatch.setattr(hub.room_store, "save_snapshot", failing_save)
    await wait_until(lambda: attempts >= 2, timeout=5, what="passivation attempts")
    assert hub.is_active(room), "a room whose snapshot could not be saved must stay awake"
    assert hub.metrics.room_restarts._value.get() == 0
    monkeypatch.undo()
    back = await conn.subscribe(room, since=last - 2, epoch=epoch)
    assert back["data"]["recovered"] is True and back["data"]["epoch"] == epoch
    _, ack = await conn.post(room, "after")
    assert ack["seq"] > last + 1  # continues (user_left/user_joined in between), never goes back
    await conn.close()


async def test_many_idle_rooms_passivate_without_flooding_the_pool(make_client):
    client = await make_client(room_idle_timeout=0.2)
    hub = realtime(client).hub
    names = [f"user:{900000 + i}" for i in range(300)]
    for name in names:
        hub.ref(parse_room(name))
    await asyncio.sleep(0)
    await wait_until(
        lambda: not any(hub.is_active(n) for n in names), timeout=20, what="every idle room to passivate"
    )
    assert hub.metrics.room_restarts._value.get() == 0
