"""NDA lists (incoming requests, outgoing requests, signed NDAs) and the notifications NDA requests
and decisions leave, stored and live."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import expect_envelope
from realtime_helpers import bearer, connect, decide_nda, make_pitch, request_nda, user


def hdr(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def nda_list(client, which, token, _status=200, _code=None, **params) -> dict[str, Any]:
    resp = await client.get(
        f"/api/ndas/{which}", params={k: str(v) for k, v in params.items()}, headers=hdr(token)
    )
    return await expect_envelope(resp, _status, _code)


def ids(body: dict[str, Any]) -> list[int]:
    return [n["id"] for n in body["data"]]


@pytest.fixture
async def cast(make_client):
    """Two creators with pitches; two investors and a production company asking for NDAs.

    NDA states: a1/inv pending, a2/inv approved, a1/prod rejected, b1/inv2 pending.
    """
    client = await make_client()
    people = {}
    for name, portal, extra in (
        ("a", "creator", {"username": "alice", "name": "Alice Author"}),
        ("b", "creator", {"username": "bob"}),
        ("inv", "investor", {"username": "ivan", "name": "Ivan Investor", "companyName": "Ivan Capital"}),
        ("inv2", "investor", {}),
        ("prod", "production", {"companyName": "Big Studio"}),
    ):
        people[name] = await user(client, portal, **extra)
    a, b = people["a"][1], people["b"][1]
    pitches = {
        "a1": await make_pitch(client, a, title="First of Alice", requireNda=True),
        # Public while the NDA is requested (a private pitch is refused like its detail), made
        # private once it is approved: the holder still sees it, in every list.
        "a2": await make_pitch(client, a, title="Second of Alice"),
        "b1": await make_pitch(client, b, title="Bob's"),
    }
    ndas = {
        "a1_inv": (await request_nda(client, pitches["a1"]["id"], people["inv"][1]))["data"],
        "a2_inv": (await request_nda(client, pitches["a2"]["id"], people["inv"][1]))["data"],
        "a1_prod": (await request_nda(client, pitches["a1"]["id"], people["prod"][1]))["data"],
        "b1_inv2": (await request_nda(client, pitches["b1"]["id"], people["inv2"][1]))["data"],
    }
    await decide_nda(client, ndas["a2_inv"]["id"], a)
    made_private = await client.put(
        f"/api/pitches/{pitches['a2']['id']}", json={"visibility": "private"}, headers=bearer(a)
    )
    assert made_private.status == 200
    await decide_nda(client, ndas["a1_prod"]["id"], a, approve=False, reason="Not now")
    return client, people, pitches, ndas


async def test_incoming_requests(cast):
    client, people, pitches, ndas = cast
    a = people["a"][1]
    body = await nda_list(client, "incoming-requests", a)
    assert ids(body) == [ndas["a1_inv"]["id"]]  # default: pending only
    item = body["data"][0]
    assert item["pitchTitle"] == "First of Alice" and item["status"] == "pending"
    assert item["pitchId"] == pitches["a1"]["id"] and item["message"] == "please"
    assert item["requesterId"] == people["inv"][0] and item["ownerId"] == people["a"][0]
    assert item["otherParty"] == {
        "id": people["inv"][0],
        "username": "ivan",
        "name": "Ivan Investor",
        "companyName": "Ivan Capital",
        "userType": "investor",
    }
    assert body["meta"]["pagination"] == {"page": 1, "limit": 20, "total": 1, "hasMore": False}
    body = await nda_list(client, "incoming-requests", a, status="all")
    assert ids(body) == [ndas[k]["id"] for k in ("a1_prod", "a2_inv", "a1_inv")]  # newest first
    assert "@" not in json.dumps(body)
    body = await nda_list(client, "incoming-requests", a, status="approved")
    assert ids(body) == [ndas["a2_inv"]["id"]] and body["data"][0]["decidedAt"]
    body = await nda_list(client, "incoming-requests", a, status="rejected")
    assert body["data"][0]["reason"] == "Not now"
    assert body["data"][0]["otherParty"]["companyName"] == "Big Studio"
    body = await nda_list(client, "incoming-requests", a, status="all", limit=2, page=2)
    assert ids(body) == [ndas["a1_inv"]["id"]]
    assert body["meta"]["pagination"] == {"page": 2, "limit": 2, "total": 3, "hasMore": False}
    # Bob sees only the request on his own pitch.
    body = await nda_list(client, "incoming-requests", people["b"][1], status="all")
    assert ids(body) == [ndas["b1_inv2"]["id"]]


async def test_outgoing_requests_and_signed(cast):
    client, people, pitches, ndas = cast
    inv = people["inv"][1]
    body = await nda_list(client, "outgoing-requests", inv)
    assert ids(body) == [ndas["a2_inv"]["id"], ndas["a1_inv"]["id"]]
    assert {n["otherParty"]["id"] for n in body["data"]} == {people["a"][0]}
    assert body["data"][0]["otherParty"]["username"] == "alice"
    assert body["data"][0]["pitchTitle"] == "Second of Alice"
    body = await nda_list(client, "outgoing-requests", inv, status="pending")
    assert ids(body) == [ndas["a1_inv"]["id"]]
    body = await nda_list(client, "outgoing-requests", people["prod"][1])
    assert ids(body) == [ndas["a1_prod"]["id"]] and body["data"][0]["status"] == "rejected"

    body = await nda_list(client, "incoming-signed", inv)
    assert ids(body) == [ndas["a2_inv"]["id"]]
    assert body["data"][0]["status"] == "approved"
    assert body["data"][0]["otherParty"]["name"] == "Alice Author"
    assert body["meta"]["pagination"]["total"] == 1
    assert (await nda_list(client, "incoming-signed", people["prod"][1]))["data"] == []
    assert (await nda_list(client, "incoming-signed", people["inv2"][1]))["data"] == []
    # Approving another one moves it into the signed list, most recent first.
    await decide_nda(client, ndas["a1_inv"]["id"], people["a"][1])
    body = await nda_list(client, "incoming-signed", inv)
    assert ids(body) == [ndas["a1_inv"]["id"], ndas["a2_inv"]["id"]]
    body = await nda_list(client, "incoming-signed", inv, limit=1)
    assert body["meta"]["pagination"] == {"page": 1, "limit": 1, "total": 2, "hasMore": True}
    assert pitches


async def test_nda_list_refusals(cast):
    client, people, _, _ = cast
    inv, a = people["inv"][1], people["a"][1]
    # Wrong portal per the permission matrix.
    await nda_list(client, "incoming-requests", inv, 403, "FORBIDDEN")
    await nda_list(client, "incoming-requests", people["prod"][1], 403, "FORBIDDEN")
    await nda_list(client, "outgoing-requests", a, 403, "FORBIDDEN")
    await nda_list(client, "incoming-signed", a, 403, "FORBIDDEN")
    for which in ("incoming-requests", "outgoing-requests", "incoming-signed"):
        await nda_list(client, which, None, 401, "UNAUTHORIZED")
    token = {"incoming-requests": a, "outgoing-requests": inv, "incoming-signed": inv}
    for which, t in token.items():
        await nda_list(client, which, t, 422, "VALIDATION_ERROR", limit=0)
        await nda_list(client, which, t, 422, "VALIDATION_ERROR", page=-1)
    await nda_list(client, "incoming-requests", a, 422, "VALIDATION_ERROR", status="maybe")
    await nda_list(client, "outgoing-requests", inv, 422, "VALIDATION_ERROR", status="signed")


async def test_nda_request_and_decisions_notify(make_client, db_conn):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    inv_id, inv = await user(client, "investor", name="Nia")
    prod_id, prod = await user(client, "production")
    pid = (await make_pitch(client, owner, title="Noted", requireNda=True))["id"]
    owner_ws = await connect(client, owner)
    inv_ws = await connect(client, inv)
    prod_ws = await connect(client, prod)

    nda = (await request_nda(client, pid, inv))["data"]
    live = await owner_ws.expect("nda_request", f"user:{owner_id}")
    note = await owner_ws.expect("notification", f"user:{owner_id}")
    assert note["seq"] == live["seq"] + 1  # the live event first, then the stored notification
    assert note["data"]["kind"] == "nda_request"
    assert note["data"]["data"]["ndaId"] == nda["id"] and note["data"]["data"]["pitchId"] == pid
    assert "Nia" in note["data"]["title"] and "Noted" in note["data"]["title"]
    row = await db_conn.fetchrow("SELECT id, kind, data FROM notifications WHERE user_id = $1", owner_id)
    assert row["kind"] == "nda_request" and row["id"] == note["data"]["id"]
    assert json.loads(row["data"])["requesterId"] == inv_id

    await decide_nda(client, nda["id"], owner)
    await inv_ws.expect("nda_approved", f"user:{inv_id}")
    note = await inv_ws.expect("notification", f"user:{inv_id}")
    assert note["data"]["kind"] == "nda_approved"
    assert note["data"]["data"]["ndaId"] == nda["id"] and "approved" in note["data"]["title"]

    nda2 = (await request_nda(client, pid, prod))["data"]
    await decide_nda(client, nda2["id"], owner, approve=False, reason="Too early")
    await prod_ws.expect("nda_rejected", f"user:{prod_id}")
    note = await prod_ws.expect("notification", f"user:{prod_id}")
    assert note["data"]["kind"] == "nda_rejected"
    assert note["data"]["data"]["reason"] == "Too early"

    kinds = {
        (r["user_id"], r["kind"]) for r in await db_conn.fetch("SELECT user_id, kind FROM notifications")
    }
    assert kinds == {(owner_id, "nda_request"), (inv_id, "nda_approved"), (prod_id, "nda_rejected")}
    # Refused requests and decisions leave no notification.
    await request_nda(client, pid, inv, status=409)
    await decide_nda(client, nda["id"], owner, status=409)
    assert await db_conn.fetchval("SELECT count(*) FROM notifications") == 4
