"""Direct messages (live `message` frame and `new_message` notification, threads, unread counts,
read marking) and notifications (list with unreadCount, read one, read all), with every refusal."""

from __future__ import annotations

from typing import Any

from conftest import expect_envelope
from realtime_helpers import bearer, connect, make_pitch, user


async def send(client: Any, token: str, status: int = 201, **body: Any) -> Any:
    resp = await client.post("/api/messages/send", json=body, headers=bearer(token))
    return await expect_envelope(resp, status)


async def get(client: Any, path: str, token: str, status: int = 200) -> Any:
    resp = await client.get(path, headers=bearer(token))
    return await expect_envelope(resp, status)


async def test_message_is_stored_announced_live_and_notified(make_client, db_conn):
    client = await make_client()
    a_id, a = await user(client, "creator", name="Ada")
    b_id, b = await user(client, "investor")
    ws = await connect(client, b)
    room = f"user:{b_id}"

    body = await send(client, a, recipientId=b_id, content="  Hello there  ")
    m = body["data"]
    assert (m["senderId"], m["recipientId"], m["pitchId"], m["content"], m["readAt"]) == (
        a_id,
        b_id,
        None,
        "Hello there",
        None,
    )

    frame = await ws.expect("message", room)
    assert frame["data"]["id"] == m["id"]
    assert frame["data"]["senderId"] == a_id and frame["data"]["senderName"] == "Ada"
    assert frame["data"]["senderType"] == "creator"
    assert frame["data"]["content"] == "Hello there" and frame["data"]["pitchId"] is None
    note = await ws.expect("notification", room)
    assert note["seq"] > frame["seq"]  # the message first, then its notification
    assert note["data"]["kind"] == "new_message"
    assert note["data"]["data"] == {"messageId": m["id"], "senderId": a_id, "pitchId": None}
    assert "Ada" in note["data"]["title"]

    row = await db_conn.fetchrow("SELECT * FROM direct_messages WHERE id = $1", m["id"])
    assert (row["sender_id"], row["recipient_id"], row["content"]) == (a_id, b_id, "Hello there")
    assert (
        await db_conn.fetchval(
            "SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'new_message'", b_id
        )
        == 1
    )
    # The sender's own room heard nothing about it.
    assert await db_conn.fetchval("SELECT count(*) FROM notifications WHERE user_id = $1", a_id) == 0
    await ws.close()


async def test_message_about_a_pitch_goes_to_its_owner(make_client, db_conn):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    c_id, company = await user(client, "production", companyName="Big Studio")
    pitch = await make_pitch(client, owner, title="Night Train", visibility="investors_only")
    ws = await connect(client, owner)
    m = (await send(client, company, pitchId=pitch["id"], content="Interested"))["data"]
    assert (m["recipientId"], m["pitchId"]) == (owner_id, pitch["id"])
    frame = await ws.expect("message", f"user:{owner_id}")
    assert frame["data"]["pitchTitle"] == "Night Train"
    assert frame["data"]["senderName"] == "Big Studio"
    note = await ws.expect("notification", f"user:{owner_id}")
    assert "Night Train" in note["data"]["title"]
    assert c_id == m["senderId"]
    await ws.close()


async def test_send_refusals_write_nothing(make_client, db_conn):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    b_id, b = await user(client, "investor")
    _, creator2 = await user(client, "creator")
    own = await make_pitch(client, owner)
    draft = await make_pitch(client, owner, status="draft")
    private = await make_pitch(client, owner, visibility="private")
    investors_only = await make_pitch(client, owner, visibility="investors_only")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (b, {"content": "no target"}, 422, "VALIDATION_ERROR"),
        (b, {"recipientId": owner_id, "pitchId": own["id"], "content": "both"}, 422, "VALIDATION_ERROR"),
        (b, {"recipientId": owner_id, "content": ""}, 422, "VALIDATION_ERROR"),
        (b, {"recipientId": owner_id, "content": "   "}, 422, "VALIDATION_ERROR"),
        (b, {"recipientId": owner_id, "content": "x" * 4001}, 422, "VALIDATION_ERROR"),
        (b, {"recipientId": owner_id}, 422, "VALIDATION_ERROR"),
        (b, {"recipientId": 0, "content": "zero"}, 422, "VALIDATION_ERROR"),
        (b, {"recipientId": b_id, "content": "me"}, 403, "FORBIDDEN"),
        (owner, {"pitchId": own["id"], "content": "my own pitch"}, 403, "FORBIDDEN"),
        (b, {"recipientId": 999999, "content": "ghost"}, 404, "NOT_FOUND"),
        (b, {"pitchId": 999999, "content": "ghost pitch"}, 404, "NOT_FOUND"),
        (b, {"pitchId": draft["id"], "content": "draft"}, 404, "NOT_FOUND"),
        (b, {"pitchId": private["id"], "content": "private"}, 403, "FORBIDDEN"),
        (creator2, {"pitchId": investors_only["id"], "content": "creators may not see it"}, 403, "FORBIDDEN"),
    ]
    for token, body, status, code in cases:
        resp = await client.post("/api/messages/send", json=body, headers=bearer(token))
        await expect_envelope(resp, status, code)
    resp = await client.post("/api/messages/send", json={"recipientId": owner_id, "content": "anon"})
    await expect_envelope(resp, 401, "UNAUTHORIZED")
    assert await db_conn.fetchval("SELECT count(*) FROM direct_messages") == 0
    assert await db_conn.fetchval("SELECT count(*) FROM notifications") == 0
    # Exactly 4000 characters is fine.
    await send(client, b, recipientId=owner_id, content="y" * 4000)


async def test_threads_conversation_and_unread_counts(make_client):
    client = await make_client()
    a_id, a = await user(client, "creator")
    b_id, b = await user(client, "investor")
    c_id, c = await user(client, "production")
    _, d = await user(client, "investor")
    m1 = (await send(client, b, recipientId=a_id, content="b1"))["data"]
    await send(client, b, recipientId=a_id, content="b2")
    await send(client, c, recipientId=a_id, content="c1")
    m4 = (await send(client, a, recipientId=b_id, content="a-to-b"))["data"]

    # A's threads: B most recently active (A's own reply), then C.
    body = await get(client, "/api/messages", a)
    threads = body["data"]
    assert [t["counterpart"]["id"] for t in threads] == [b_id, c_id]
    assert threads[0]["lastMessage"]["id"] == m4["id"]
    assert (threads[0]["unreadCount"], threads[0]["messageCount"]) == (2, 3)
    assert (threads[1]["unreadCount"], threads[1]["messageCount"]) == (1, 1)
    assert threads[1]["counterpart"]["userType"] == "production"
    assert body["meta"]["unreadCount"] == 3
    assert body["meta"]["pagination"] == {"page": 1, "limit": 20, "total": 2, "hasMore": False}
    page2 = await get(client, "/api/messages?limit=1&page=2", a)
    assert [t["counterpart"]["id"] for t in page2["data"]] == [c_id]
    assert page2["meta"]["pagination"]["hasMore"] is False

    # Reading the conversation with B changes nothing (a GET never does) ...
    body = await get(client, f"/api/messages/{b_id}", a)
    assert [m["content"] for m in body["data"]] == ["a-to-b", "b2", "b1"]
    assert "markedRead" not in body["meta"]
    assert body["meta"]["pagination"]["total"] == 3
    assert not any(m["readAt"] for m in body["data"])
    assert [t["unreadCount"] for t in (await get(client, "/api/messages", a))["data"]] == [2, 1]
    # ... marking it read is a POST: B's messages to A up to the one shown, not A's to B.
    read = f"/api/messages/conversations/{b_id}/read"
    resp = await client.post(read, json={"upTo": m1["id"]}, headers=bearer(a))
    assert (await expect_envelope(resp, 200))["data"] == {"marked": 1, "unreadCount": 2}
    resp = await client.post(read, json={}, headers=bearer(a))
    assert (await expect_envelope(resp, 200))["data"] == {"marked": 1, "unreadCount": 1}
    body = await get(client, f"/api/messages/{b_id}", a)
    assert all(m["readAt"] for m in body["data"] if m["senderId"] == b_id)
    assert [m["readAt"] for m in body["data"] if m["senderId"] == a_id] == [None]
    threads = (await get(client, "/api/messages", a))["data"]
    assert [t["unreadCount"] for t in threads] == [0, 1]
    resp = await client.post(read, json={}, headers=bearer(a))
    assert (await expect_envelope(resp, 200))["data"] == {"marked": 0, "unreadCount": 1}
    resp = await client.post("/api/messages/conversations/999999/read", json={}, headers=bearer(a))
    await expect_envelope(resp, 404, "NOT_FOUND")
    resp = await client.post(read, json={"upTo": "1"}, headers=bearer(a))
    await expect_envelope(resp, 422, "VALIDATION_ERROR")
    # B still has A's reply unread.
    b_threads = await get(client, "/api/messages", b)
    assert b_threads["data"][0]["unreadCount"] == 1 and b_threads["meta"]["unreadCount"] == 1
    paged = await get(client, f"/api/messages/{a_id}?limit=2&page=2", b)
    assert [m["id"] for m in paged["data"]] == [m1["id"]]

    # One message read explicitly: only its recipient may.
    resp = await client.post(f"/api/messages/{m4['id']}/read", json={}, headers=bearer(a))
    await expect_envelope(resp, 404, "NOT_FOUND")  # the sender
    resp = await client.post(f"/api/messages/{m4['id']}/read", json={}, headers=bearer(d))
    await expect_envelope(resp, 404, "NOT_FOUND")  # a stranger
    resp = await client.post("/api/messages/999999/read", json={}, headers=bearer(b))
    await expect_envelope(resp, 404, "NOT_FOUND")
    resp = await client.post(f"/api/messages/{m4['id']}/read", json={}, headers=bearer(b))
    assert (await expect_envelope(resp, 200))["data"]["readAt"] is not None
    assert (await get(client, "/api/messages", b))["meta"]["unreadCount"] == 0

    # Unknown counterpart; a stranger's threads are empty.
    await get(client, "/api/messages/999999", a, status=404)
    await get(client, "/api/messages/notanid", a, status=404)
    empty = await get(client, "/api/messages", d)
    assert empty["data"] == [] and empty["meta"]["pagination"]["total"] == 0
    resp = await client.get("/api/messages")
    await expect_envelope(resp, 401, "UNAUTHORIZED")


async def test_notifications_list_read_and_read_all(make_client, db_conn):
    client = await make_client()
    a_id, a = await user(client, "creator")
    b_id, b = await user(client, "investor")
    for i in range(3):
        await send(client, a, recipientId=b_id, content=f"m{i}")
    await send(client, b, recipientId=a_id, content="back")

    body = await get(client, "/api/notifications", b)
    notes = body["data"]
    assert len(notes) == 3 and all(n["kind"] == "new_message" for n in notes)
    assert [n["body"] for n in notes] == ["m2", "m1", "m0"]  # newest first
    assert body["meta"]["unreadCount"] == 3
    assert body["meta"]["pagination"] == {"page": 1, "limit": 20, "total": 3, "hasMore": False}

    newest = notes[0]["id"]
    resp = await client.post(f"/api/notifications/{newest}/read", json={}, headers=bearer(a))
    await expect_envelope(resp, 404, "NOT_FOUND")  # not A's
    assert await db_conn.fetchval("SELECT read_at FROM notifications WHERE id = $1", newest) is None
    resp = await client.post(f"/api/notifications/{newest}/read", json={}, headers=bearer(b))
    r = await expect_envelope(resp, 200)
    assert r["data"]["id"] == newest and r["data"]["readAt"] is not None
    assert r["meta"]["unreadCount"] == 2
    resp = await client.post("/api/notifications/999999/read", json={}, headers=bearer(b))
    await expect_envelope(resp, 404, "NOT_FOUND")

    unread = await get(client, "/api/notifications?unreadOnly=true&limit=1", b)
    assert [n["body"] for n in unread["data"]] == ["m1"]
    assert unread["meta"]["pagination"] == {"page": 1, "limit": 1, "total": 2, "hasMore": True}
    assert unread["meta"]["unreadCount"] == 2

    resp = await client.post("/api/notifications/read-all", json={}, headers=bearer(b))
    assert (await expect_envelope(resp, 200))["data"] == {"marked": 2, "unreadCount": 0}
    resp = await client.post("/api/notifications/read-all", json={}, headers=bearer(b))
    assert (await expect_envelope(resp, 200))["data"] == {"marked": 0, "unreadCount": 0}
    # A's own notification is untouched by B's read-all.
    a_notes = await get(client, "/api/notifications", a)
    assert a_notes["meta"]["unreadCount"] == 1 and a_notes["data"][0]["readAt"] is None

    await get(client, "/api/notifications?unreadOnly=maybe", b, status=422)
    # One spelling per value: `1`, `yes`, `on` would make two URLs of one answer.
    for spelling in ("1", "0", "yes", "on", "True", "FALSE"):
        await get(client, f"/api/notifications?unreadOnly={spelling}", b, status=422)
    every = await get(client, "/api/notifications?unreadOnly=false&limit=1", b)
    assert every["meta"]["pagination"]["total"] >= 1
    await get(client, "/api/notifications?page=0", b, status=422)
    resp = await client.get("/api/notifications")
    await expect_envelope(resp, 401, "UNAUTHORIZED")
    resp = await client.post("/api/notifications/read-all", json={})
    await expect_envelope(resp, 401, "UNAUTHORIZED")
