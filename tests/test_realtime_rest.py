"""REST writes that become live events: views, likes and the NDA lifecycle, plus the access
changes an approved NDA brings (private room, protected fields)."""

from __future__ import annotations

from realtime_helpers import (
    bearer,
    connect,
    decide_nda,
    get_pitch,
    like,
    make_pitch,
    request_nda,
    user,
)


async def test_view_counted_once_per_user_per_day_live(make_client, db_conn):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    v_id, v_token = await user(client, "investor")
    w_id, w_token = await user(client, "production")
    pitch = await make_pitch(client, owner_token)
    pid = pitch["id"]
    room = f"pitch:{pid}"
    owner = await connect(client, owner_token)
    await owner.subscribe(room)
    assert (await owner.next_in_room(room))["type"] == "user_joined"  # seq 1

    body = await get_pitch(client, pid, v_token)
    assert body["data"]["viewCount"] == 1
    view = await owner.next_in_room(room)
    assert view["type"] == "view_update" and view["seq"] == 2
    assert view["data"] == {"pitchId": pid, "views": 1, "userId": v_id}

    # The same viewer again today: no event, no count. The owner's own reads never count.
    body = await get_pitch(client, pid, v_token)
    assert body["data"]["viewCount"] == 1
    await get_pitch(client, pid, owner_token)
    # The next event in the room is the other viewer's: seq 3, nothing in between.
    body = await get_pitch(client, pid, w_token)
    assert body["data"]["viewCount"] == 2
    nxt = await owner.next_in_room(room)
    assert (nxt["type"], nxt["seq"], nxt["data"]["views"], nxt["data"]["userId"]) == (
        "view_update",
        3,
        2,
        w_id,
    )
    assert await db_conn.fetchval("SELECT view_count FROM pitches WHERE id = $1", pid) == 2
    assert await db_conn.fetchval("SELECT count(*) FROM pitch_views WHERE pitch_id = $1", pid) == 2
    # An anonymous read is not counted either.
    resp = await client.get(f"/api/pitches/{pid}")
    assert resp.status == 200
    await like(client, pid, v_token)
    nxt = await owner.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("like_update", 4)
    assert owner_id != v_id


async def test_like_and_unlike_announce_counts(make_client):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    a_id, a_token = await user(client, "investor")
    b_id, b_token = await user(client, "creator")
    pitch = await make_pitch(client, owner_token)
    pid = pitch["id"]
    room = f"pitch:{pid}"
    watcher = await connect(client, a_token)
    await watcher.subscribe(room)
    await watcher.next_in_room(room)  # own join, seq 1

    body = await like(client, pid, a_token)
    assert body["data"] == {"liked": True, "likeCount": 1}
    body = await like(client, pid, b_token)
    assert body["data"] == {"liked": True, "likeCount": 2}
    # Idempotent: a second like changes nothing and announces nothing.
    body = await like(client, pid, b_token)
    assert body["data"] == {"liked": True, "likeCount": 2}
    body = await like(client, pid, a_token, liked=False)
    assert body["data"] == {"liked": False, "likeCount": 1}
    body = await like(client, pid, a_token, liked=False)
    assert body["data"] == {"liked": False, "likeCount": 1}
    body = await like(client, pid, b_token, liked=False)
    assert body["data"] == {"liked": False, "likeCount": 0}

    events = [await watcher.next_in_room(room) for _ in range(4)]
    assert [(e["type"], e["seq"]) for e in events] == [("like_update", n) for n in (2, 3, 4, 5)]
    assert [(e["data"]["userId"], e["data"]["liked"], e["data"]["likes"]) for e in events] == [
        (a_id, True, 1),
        (b_id, True, 2),
        (a_id, False, 1),
        (b_id, False, 0),
    ]
    assert all(e["data"]["pitchId"] == pid for e in events)
    # The idempotent repeats published nothing.
    await watcher.post(room, "marker")
    nxt = await watcher.next_in_room(room)
    assert (nxt["type"], nxt["seq"]) == ("message", 6)


async def test_like_of_a_pitch_one_may_not_see(make_client):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    _, c_token = await user(client, "creator")
    private = await make_pitch(client, owner_token, visibility="private")
    draft = await make_pitch(client, owner_token, status="draft")
    await like(client, private["id"], c_token, status=403)
    await like(client, draft["id"], c_token, status=404)
    await like(client, 999999, c_token, status=404)


async def test_nda_lifecycle_live_and_access(make_client):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    inv_id, inv_token = await user(client, "investor", name="Ivy Investor")
    pitch = await make_pitch(
        client,
        owner_token,
        title="Secret film",
        visibility="private",
        requireNda=True,
        synopsis="The butler did it",
        budget="1500000.00",
    )
    pid = pitch["id"]
    room = f"pitch:{pid}"
    owner = await connect(client, owner_token)
    inv = await connect(client, inv_token)

    # Before: the private pitch is off limits to the investor, over REST and WebSocket, and so is
    # asking for its NDA (refused as its detail is: it is no way to learn its title).
    assert await inv.subscribe_error(room) == "FORBIDDEN"
    await get_pitch(client, pid, inv_token, status=403)
    await request_nda(client, pid, inv_token, status=403)
    assert not [f for f in owner.backlog if f["type"] == "nda_request"]

    # Opened to investors (its content still NDA-protected) while they may ask, then private again.
    visibility = f"/api/pitches/{pid}"
    opened = await client.put(visibility, json={"visibility": "investors_only"}, headers=bearer(owner_token))
    assert opened.status == 200
    body = await request_nda(client, pid, inv_token, message="I'd like to read it")
    nda = body["data"]
    assert nda["status"] == "pending" and nda["requesterId"] == inv_id
    assert nda["ownerId"] == owner_id
    ev = await owner.expect("nda_request", f"user:{owner_id}")
    d = ev["data"]
    assert d["id"] == nda["id"] and d["pitchId"] == pid and d["pitchTitle"] == "Secret film"
    assert d["requesterId"] == inv_id and d["status"] == "pending"
    assert d["message"] == "I'd like to read it" and d["requesterName"] == "Ivy Investor"
    # A second request while one is pending: conflict, and no second event.
    await request_nda(client, pid, inv_token, status=409)
    closed = await client.put(visibility, json={"visibility": "private"}, headers=bearer(owner_token))
    assert closed.status == 200

    # Only the owner decides.
    await decide_nda(client, nda["id"], inv_token, status=403)
    body = await decide_nda(client, nda["id"], owner_token)
    assert body["data"]["status"] == "approved"
    ev = await inv.expect("nda_approved", f"user:{inv_id}")
    assert ev["data"]["id"] == nda["id"] and ev["data"]["status"] == "approved"
    assert ev["data"]["decidedAt"] is not None and ev["data"]["pitchTitle"] == "Secret film"
    # A second decision either way: 409.
    await decide_nda(client, nda["id"], owner_token, status=409)
    await decide_nda(client, nda["id"], owner_token, approve=False, status=409)
    # And the approval opened the room and the protected fields.
    sub = await inv.subscribe(room)
    assert sub["room"] == room
    body = await get_pitch(client, pid, inv_token)
    assert body["data"]["synopsis"] == "The butler did it"
    assert body["data"]["budget"] is not None and float(body["data"]["budget"]) == 1500000.0
    assert body["data"]["protected"] is False
    # The conflicting request announced nothing: one nda_request in the owner's room, ever.
    await owner.ping()
    assert not [f for f in owner.backlog if f["type"] == "nda_request"]


async def test_nda_rejection_live(make_client):
    client = await make_client()
    owner_id, owner_token = await user(client, "creator")
    prod_id, prod_token = await user(client, "production")
    # Investors and production companies see it; its NDA-protected synopsis they do not.
    pitch = await make_pitch(
        client, owner_token, visibility="investors_only", requireNda=True, synopsis="Protected"
    )
    prod = await connect(client, prod_token)
    owner = await connect(client, owner_token)
    nda = (await request_nda(client, pitch["id"], prod_token))["data"]
    first = await owner.expect("nda_request", f"user:{owner_id}")
    body = await decide_nda(client, nda["id"], owner_token, approve=False, reason="Not yet")
    assert body["data"]["status"] == "rejected" and body["data"]["reason"] == "Not yet"
    ev = await prod.expect("nda_rejected", f"user:{prod_id}")
    assert ev["data"]["id"] == nda["id"] and ev["data"]["reason"] == "Not yet"
    assert ev["data"]["status"] == "rejected"
    await decide_nda(client, nda["id"], owner_token, status=409)
    await decide_nda(client, nda["id"], owner_token, approve=False, status=409)
    # Still locked out of the protected content; a new request is allowed after a rejection.
    locked = await get_pitch(client, pitch["id"], prod_token)
    assert locked["data"]["protected"] is True and locked["data"]["synopsis"] is None
    await request_nda(client, pitch["id"], prod_token)
    ev = await owner.expect("nda_request", f"user:{owner_id}")
    assert ev["seq"] > first["seq"] and ev["data"]["id"] != nda["id"]


async def test_protected_fields_hidden_before_nda_shown_after(make_client):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    _, inv_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token, requireNda=True, synopsis="Twist ending", budget="250000")
    pid = pitch["id"]
    assert pitch["synopsis"] == "Twist ending"  # the owner sees everything
    before = (await get_pitch(client, pid, inv_token))["data"]
    assert before["synopsis"] is None and before["budget"] is None
    assert before["protected"] is True and before["requireNda"] is True
    anon = await client.get(f"/api/pitches/{pid}")
    anon_body = await anon.json()
    assert anon_body["data"]["synopsis"] is None and anon_body["data"]["protected"] is True
    # A public pitch: the investor can already join the room, and the NDA changes the fields.
    inv = await connect(client, inv_token)
    await inv.subscribe(f"pitch:{pid}")
    nda = (await request_nda(client, pid, inv_token))["data"]
    await decide_nda(client, nda["id"], owner_token)
    after = (await get_pitch(client, pid, inv_token))["data"]
    assert after["synopsis"] == "Twist ending" and float(after["budget"]) == 250000.0
    assert after["protected"] is False


async def test_nda_request_refusals(make_client):
    client = await make_client()
    _, owner_token = await user(client, "creator")
    _, c_token = await user(client, "creator")
    _, inv_token = await user(client, "investor")
    pitch = await make_pitch(client, owner_token)
    draft = await make_pitch(client, owner_token, status="draft")
    resp = await client.post(
        "/api/ndas/request", json={"pitchId": pitch["id"]}, headers={"Authorization": f"Bearer {c_token}"}
    )
    assert resp.status == 403  # creators do not request NDAs
    await request_nda(client, draft["id"], inv_token, status=404)
    await request_nda(client, 999999, inv_token, status=404)
    await decide_nda(client, 999999, owner_token, status=404)
