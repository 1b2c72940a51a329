"""Every event type the server emits, driven through the real server and checked against the model
`protocol/events.py` declares for it (`EVENT_MODELS`), and the REST answer and the live frame of
one thing (an NDA, a notification, a direct message) shown to have one shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import expect_envelope
from realtime_helpers import (
    bearer,
    connect,
    decide_nda,
    get_pitch,
    like,
    make_pitch,
    realtime,
    request_nda,
    user,
)

from pitchey.protocol import ProtocolError
from pitchey.protocol.events import (
    EVENT_MODELS,
    EventType,
    check_data,
    encode_data,
    encode_event,
    encode_sequenced,
)
from pitchey.protocol.models import DirectMessageOut, MessageOut, NdaOut, NotificationOut
from pitchey.server.nda_expiry import expire_ndas


async def test_every_event_type_is_emitted_as_its_declared_model(make_client):
    client = await make_client(ws_rate=50, ws_burst=40)
    _, owner_token = await user(client, "creator", name="Olga Owner")
    inv_id, inv_token = await user(client, "investor", name="Ivo Investor")
    pitch = await make_pitch(client, owner_token, title="Wire film", visibility="investors_only")
    pid = pitch["id"]
    room = f"pitch:{pid}"
    owner = await connect(client, owner_token)  # connected, subscribed (own room)
    inv = await connect(client, inv_token)
    await owner.subscribe(room)
    await owner.subscribe(f"metrics:{room}")
    await owner.ping()  # pong
    await owner.presence(room)  # presence
    await owner.send("typing", room)  # typing goes to the others: none yet
    await owner.post(room, "hello")  # ack, message (pitch room)

    nda = (await request_nda(client, pid, inv_token))["data"]  # nda_request + notification
    await decide_nda(client, nda["id"], owner_token)  # nda_approved + notification
    await inv.subscribe(room)  # user_joined
    await owner.send("typing", room)  # typing, to the investor
    await get_pitch(client, pid, inv_token)  # view_update
    await like(client, pid, inv_token)  # like_update
    # A settled investment (a background job, tests/test_jobs.py) is announced in the room.
    await realtime(client).hub.investment_settled(pid, 1)  # investment_update
    await inv.expect("investment_update", room)
    await inv.unsubscribe(room)  # unsubscribed, user_left
    resp = await client.post(
        "/api/messages/send", json={"recipientId": inv_id, "content": "Hi"}, headers=bearer(owner_token)
    )
    await expect_envelope(resp, 201)  # message (user room)
    other = await make_pitch(client, owner_token, title="Second", visibility="investors_only")
    second = (await request_nda(client, other["id"], inv_token))["data"]
    await decide_nda(client, second["id"], owner_token, approve=False, reason="No")  # nda_rejected
    resp = await client.post(
        "/api/nda-templates",
        json={"title": "NDA", "body": "Keep it secret.", "termMonths": 1, "jurisdiction": "France"},
        headers=bearer(owner_token),
    )
    template = (await expect_envelope(resp, 201))["data"]
    third = await make_pitch(client, owner_token, title="Third", ndaTemplateId=template["id"])
    resp = await client.post(
        "/api/ndas/request",
        json={"pitchId": third["id"], "acceptTemplateHash": template["contentHash"]},
        headers=bearer(inv_token),
    )
    signed = (await expect_envelope(resp, 201))["data"]
    await decide_nda(client, signed["id"], owner_token)
    # The clock moved past the one-month term: nda_expired (tests/test_nda_templates.py).
    await expire_ndas(realtime(client).hub, datetime.now(UTC) + timedelta(days=62))
    producer_id, producer_token = await user(client, "production")
    resp = await client.post(
        "/api/production/projects",
        json={"title": "Wire project", "budget": "1000.00"},
        headers=bearer(producer_token),
    )
    project_id = (await expect_envelope(resp, 201))["data"]["id"]
    crew = await connect(client, producer_token)
    await crew.subscribe(f"project:{project_id}")
    resp = await client.put(
        f"/api/production/projects/{project_id}", json={"title": "Renamed"}, headers=bearer(producer_token)
    )
    await expect_envelope(resp, 200)  # project_update
    await owner.send("subscribe", "nowhere")  # error
    for _ in range(60):  # error with retryAfter, once the bucket is empty
        await inv.send("ping")

    await inv.expect("typing", room)
    await owner.expect("metrics", f"metrics:{room}", timeout=3)
    await inv.expect("message", f"user:{inv_id}")
    await inv.expect("nda_rejected", f"user:{inv_id}")
    await inv.expect("nda_expired", f"user:{inv_id}")
    await inv.expect("error", where=lambda f: f["data"].get("code") == "RATE_LIMITED")
    await owner.expect("error", where=lambda f: f["data"].get("code") == "BAD_FRAME")
    await owner.expect("user_left", room)
    update = await crew.expect("project_update", f"project:{project_id}")
    assert update["data"]["userId"] == producer_id

    # Every frame read went through check_data (tests/realtime_helpers.py); here: every type came.
    frames = owner.received + inv.received + crew.received
    seen = {f["type"] for f in frames}
    assert seen == {t.value for t in EventType}, sorted({t.value for t in EventType} - seen)
    for f in frames:
        check_data(EventType(f["type"]), f.get("room"), f["data"])
    rate = next(f for f in frames if f["type"] == "error" and f["data"]["code"] == "RATE_LIMITED")
    assert rate["data"]["retryAfter"] > 0


async def test_one_shape_per_thing_over_rest_and_live(make_client):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    inv_id, inv_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token, title="Same shape", visibility="investors_only")
    inv = await connect(client, inv_token)
    nda = (await request_nda(client, pitch["id"], inv_token))["data"]
    decided = (await decide_nda(client, nda["id"], owner_token))["data"]
    frame = await inv.expect("nda_approved", f"user:{inv_id}")
    nda_keys = {f.alias for f in NdaOut.model_fields.values()}
    assert set(decided) == nda_keys
    assert {k: frame["data"][k] for k in nda_keys} == decided
    assert set(frame["data"]) - nda_keys == {"pitchTitle"}

    note = await inv.expect("notification", f"user:{inv_id}")
    resp = await client.get("/api/notifications", headers=bearer(inv_token))
    listed = (await expect_envelope(resp, 200))["data"]
    assert set(note["data"]) == {f.alias for f in NotificationOut.model_fields.values()} == set(listed[0])
    assert next(n for n in listed if n["id"] == note["data"]["id"]) == note["data"]

    resp = await client.post(
        "/api/messages/send", json={"recipientId": inv_id, "content": "Hi"}, headers=bearer(owner_token)
    )
    sent = (await expect_envelope(resp, 201))["data"]
    live = await inv.expect("message", f"user:{inv_id}")
    message_keys = {f.alias for f in MessageOut.model_fields.values()}
    assert set(sent) == message_keys
    assert {k: live["data"][k] for k in message_keys} == sent
    assert set(live["data"]) == {f.alias for f in DirectMessageOut.model_fields.values()}


def test_check_data_refuses_drift():
    good = {"pitchId": 1, "likes": 2, "userId": 3, "liked": True}
    check_data(EventType.LIKE_UPDATE, "pitch:1", good)
    with pytest.raises(ProtocolError, match="not in LikeUpdate"):
        check_data(EventType.LIKE_UPDATE, "pitch:1", {**good, "extra": 1})
    with pytest.raises(ProtocolError, match="missing"):
        check_data(EventType.LIKE_UPDATE, "pitch:1", {k: v for k, v in good.items() if k != "liked"})
    with pytest.raises(ProtocolError, match="does not match"):
        check_data(EventType.LIKE_UPDATE, "pitch:1", {**good, "likes": "many"})
    assert set(EVENT_MODELS) == set(EventType)


def test_a_frame_built_from_parts_is_the_encoded_event():
    """The Redis backplane sends an event's parts (type, seq, timestamp, data JSON) and each node
    builds the frame: the same bytes as encoding the event whole."""
    data = {"userId": 7, "note": "line\nbreak", "at": None}
    ts = "2026-12-01T00:00:00.000Z"
    whole = encode_event(EventType.USER_LEFT, room="pitch:3", seq=41, timestamp=ts, data=data)
    assert encode_sequenced("user_left", "pitch:3", 41, ts, encode_data(data)) == whole
    assert b"\n" not in encode_data(data)  # the pubsub envelope is newline-separated, data last
