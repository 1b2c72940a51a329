"""Live room metrics for dashboards (metrics:pitch:<id>, metrics:user:<id>) and GET /metrics."""

from __future__ import annotations

from conftest import expect_envelope
from realtime_helpers import (
    connect,
    make_pitch,
    metric_value,
    prometheus,
    realtime,
    user,
    wait_until,
)


async def test_owner_gets_metrics_frames_with_subscriber_count(make_client):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    _, a_token = await user(client, "investor")
    _, b_token = await user(client, "production")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    mroom = f"metrics:{room}"
    owner = await connect(client, owner_token)
    sub = await owner.subscribe(mroom)
    assert sub["data"] == {"seq": 0, "epoch": "", "recovered": False, "presence": []}
    a = await connect(client, a_token)
    b = await connect(client, b_token)
    await a.subscribe(room)
    await b.subscribe(room)
    await a.post(room, "traffic")

    frame = await owner.expect("metrics", mroom, timeout=2.5)
    data = frame["data"]
    assert set(data) >= {
        "subscribers",
        "eventsInPerSec",
        "eventsOutPerSec",
        "droppedFrames",
        "fanoutLatencyMs",
        "windowSeconds",
    }
    assert set(data["fanoutLatencyMs"]) == {"p50", "p99", "max"}
    assert "seq" not in frame
    # Within a couple of ticks the frame reflects the two subscribers and their traffic.
    frame = await owner.expect("metrics", mroom, timeout=2.5, where=lambda f: f["data"]["subscribers"] == 2)
    assert frame["data"]["droppedFrames"] == 0
    # A watcher is not a subscriber of the room itself: it does not appear in presence.
    presence = await a.presence(room)
    assert len(presence) == 2
    # Unwatching stops the frames.
    reply = await owner.unsubscribe(mroom)
    assert reply["room"] == mroom
    owner.discard(mroom)
    await wait_until(lambda: not realtime(client).hub._watched, timeout=2, what="the room to be unwatched")


async def test_metrics_room_reports_event_rates(make_client):
    client = await make_client(ws_rate=1000, ws_burst=1000)
    _, owner_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    room = f"pitch:{pitch['id']}"
    owner = await connect(client, owner_token)
    await owner.subscribe(f"metrics:{room}")
    await owner.subscribe(room)
    for i in range(10):
        await owner.post(room, f"m{i}")
    frame = await owner.expect(
        "metrics", f"metrics:{room}", timeout=3.5, where=lambda f: f["data"]["eventsInPerSec"] > 0
    )
    assert frame["data"]["eventsOutPerSec"] > 0
    assert frame["data"]["fanoutLatencyMs"]["max"] is not None


async def test_metrics_rooms_are_for_owner_and_self_only(make_client):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    inv_id, inv_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token)
    inv = await connect(client, inv_token)
    assert await inv.subscribe_error(f"metrics:pitch:{pitch['id']}") == "FORBIDDEN"
    assert await inv.subscribe_error(f"metrics:user:{owner_id}") == "FORBIDDEN"
    await inv.subscribe(f"metrics:user:{inv_id}")
    frame = await inv.expect("metrics", f"metrics:user:{inv_id}", timeout=2.5)
    assert frame["data"]["subscribers"] == 1  # the own user room has this session


async def test_prometheus_endpoint_on_loopback(make_client):
    client = await make_client()
    _, token = await user(client)
    pitch = await make_pitch(client, token)
    conn = await connect(client, token)
    await conn.subscribe(f"pitch:{pitch['id']}")
    await conn.post(f"pitch:{pitch['id']}", "hello")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    assert metric_value(text, "pitchey_ws_connections") == 1.0
    assert metric_value(text, "pitchey_rooms_active") >= 2.0  # user:<id> and pitch:<id>
    assert "pitchey_fanout_seconds_bucket" in text
    assert metric_value(text, "pitchey_fanout_seconds_count") >= 2.0  # join + message
    assert metric_value(text, "pitchey_room_events_total") >= 2.0
    assert 'pitchey_ws_commands_total{type="sendmessage"} 1.0' in text
    await conn.close()
    await wait_until(lambda: len(realtime(client).sessions.sessions) == 0, what="disconnect")
    assert metric_value(await prometheus(client), "pitchey_ws_connections") == 0.0


async def test_prometheus_endpoint_with_token(make_client):
    client = await make_client(metrics_token="s3cret-metrics-token")
    await expect_envelope(await client.get("/metrics"), 403, "FORBIDDEN")
    await expect_envelope(
        await client.get("/metrics", headers={"Authorization": "Bearer nope"}), 403, "FORBIDDEN"
    )
    text = await prometheus(client, {"Authorization": "Bearer s3cret-metrics-token"})
    assert "pitchey_ws_connections" in text


async def test_prometheus_endpoint_refuses_proxied_public_clients(make_client):
    """Behind a reverse proxy on the same host every peer is loopback: the forwarded client
    address is what decides, or /metrics would be public."""
    client = await make_client(trust_proxy=True)
    resp = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    await expect_envelope(resp, 403, "FORBIDDEN")
    # A scraper on the host itself (through the proxy, or directly) still gets them.
    await prometheus(client, {"X-Forwarded-For": "127.0.0.1"})
    await prometheus(client)
