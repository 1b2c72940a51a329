"""Profiles, public profiles, avatars, preferences (notification settings honoured live,
recommendations using investment preferences) and saved pitches, against real PostgreSQL and
real sockets: each endpoint's success and its refusals (other portal, anonymous, someone else's
id, bad input), and the races a unique username or an idempotent save could lose."""

from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Any

import aiohttp
import pytest
from conftest import expect_envelope
from realtime_helpers import bearer, connect, make_pitch, user

HUGE = "9" * 30


def png() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


async def call(client: Any, method: str, path: str, token: str | None, status: int, **kw: Any) -> Any:
    headers = bearer(token) if token else {}
    resp = await client.request(method, path, headers=headers, **kw)
    return await expect_envelope(resp, status)


def field_of(body: dict[str, Any]) -> str:
    return str(body["error"]["details"][0]["field"])


async def upload(client: Any, token: str, data: bytes, name: str = "me.png") -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    resp: aiohttp.ClientResponse = await client.put("/api/user/avatar", data=form, headers=bearer(token))
    return resp


# -- profile ------------------------------------------------------------------------------------


async def test_profile_read_update_and_completeness_in_the_session(make_client):
    client = await make_client()
    _, token = await user(client, "creator", name="Ada Lovelace", username="ada")
    body = await call(client, "GET", "/api/user/profile", token, 200)
    p = body["data"]
    assert p["username"] == "ada" and p["email"].endswith("@example.com")
    assert p["completeness"]["percent"] < 100 and "bio" in p["completeness"]["missing"]

    body = await call(
        client,
        "PUT",
        "/api/user/profile",
        token,
        200,
        json={
            "firstName": "Ada",
            "lastName": "King",
            "bio": "Two lines\nof bio",
            "company": "Analytical Films",
            "location": "London",
            "website": "https://ada.example.com/films",
        },
    )
    p = body["data"]
    assert (p["firstName"], p["lastName"], p["name"], p["company"]) == (
        "Ada",
        "King",
        "Ada King",
        "Analytical Films",
    )
    assert p["website"] == "https://ada.example.com/films"
    assert p["completeness"]["missing"] == ["avatar"] and p["completeness"]["percent"] == 88

    # Only the fields sent change; null clears one.
    body = await call(client, "PUT", "/api/user/profile", token, 200, json={"location": None})
    assert body["data"]["location"] is None and body["data"]["bio"] == "Two lines\nof bio"

    session = await call(client, "GET", "/api/auth/session", token, 200)
    assert session["data"]["profileCompleteness"] == {"percent": 75, "missing": ["location", "avatar"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"website": "ftp://example.com"}, "website"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "https://"}, "website"),
        ({"bio": "nul\x00byte"}, "bio"),
        ({"firstName": "a\x00"}, "firstName"),
        ({"company": "line\nbreak"}, "company"),
        ({"username": "no spaces please"}, "username"),
        ({"username": "x" * 51}, "username"),
        ({"bio": "b" * 2001}, "bio"),
        ({"email": "new@example.com"}, "email"),
        ({"firstName": 5}, "firstName"),
    ],
)
async def test_profile_bad_input_is_422_naming_the_field(make_client, payload, field):
    client = await make_client()
    _, token = await user(client, "investor")
    body = await call(client, "PUT", "/api/user/profile", token, 422, json=payload)
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert field_of(body) == field, body


async def test_profile_refusals(make_client):
    client = await make_client()
    _, token = await user(client, "production")
    await call(client, "GET", "/api/user/profile", None, 401)
    await call(client, "PUT", "/api/user/profile", None, 401, json={"bio": "x"})
    await call(client, "PUT", "/api/user/profile", token, 422, json={})
    resp = await client.put(
        "/api/user/profile", data=b"\x00\xff", headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert resp.status == 400


async def test_username_unique_case_insensitively_and_a_race_has_one_winner(make_client):
    client = await make_client()
    _, a = await user(client, "creator", username="taken")
    _, b = await user(client, "investor")
    body = await call(client, "PUT", "/api/user/profile", b, 409, json={"username": "TAKEN"})
    assert body["error"]["code"] == "USERNAME_EXISTS"
    # Keeping one's own username is no conflict.
    await call(client, "PUT", "/api/user/profile", a, 200, json={"username": "taken"})

    _, c = await user(client, "production")
    _, d = await user(client, "creator")
    answers = await asyncio.gather(
        *(
            client.put("/api/user/profile", json={"username": "same-name"}, headers=bearer(t))
            for t in (b, c, d)
        )
    )
    codes = sorted(r.status for r in answers)
    assert codes == [200, 409, 409], codes
    for r in answers:
        if r.status == 409:
            assert (await r.json())["error"]["code"] == "USERNAME_EXISTS"


# -- avatar -------------------------------------------------------------------------------------


async def test_avatar_upload_checked_like_a_poster_served_publicly_and_replaced(make_client):
    client = await make_client()
    me, token = await user(client, "creator")
    resp = await upload(client, token, png())
    body = await expect_envelope(resp, 200)
    url = body["data"]["avatarUrl"]
    assert url.startswith(f"/api/users/{me}/avatar?v=")
    assert "avatar" not in body["data"]["completeness"]["missing"]

    got = await client.get(url)  # anonymous: avatars are public
    assert got.status == 200 and got.headers["Content-Type"] == "image/png"
    assert await got.read() == png()
    store = client.server.app  # the object is in the blob store under avatars/<id>/
    from pitchey.server.state import APP_STATE

    blobs = store[APP_STATE].blobs
    assert len(await blobs.keys(f"avatars/{me}/")) == 1

    # A second upload replaces the first object; a PDF or a renamed text file is refused.
    body = await expect_envelope(await upload(client, token, png()), 200)
    assert body["data"]["avatarUrl"] != url
    assert len(await blobs.keys(f"avatars/{me}/")) == 1
    refused = await expect_envelope(await upload(client, token, b"%PDF-1.4\n...", "me.png"), 415)
    assert "avatar" in refused["error"]["message"].lower()
    await expect_envelope(await upload(client, token, b""), 422)
    resp = await client.put("/api/user/avatar", json={}, headers=bearer(token))
    await expect_envelope(resp, 415)
    resp = await client.put("/api/user/avatar", data=aiohttp.FormData({"file": "x"}))
    await expect_envelope(resp, 401)

    body = await call(client, "DELETE", "/api/user/avatar", token, 200)
    assert body["data"]["avatarUrl"] is None
    assert await blobs.keys(f"avatars/{me}/") == []
    await call(client, "GET", f"/api/users/{me}/avatar", None, 404)
    await call(client, "DELETE", "/api/user/avatar", token, 200)  # idempotent


async def test_avatar_over_the_poster_limit_is_413(make_client):
    client = await make_client(media_max_poster=1024)
    _, token = await user(client, "investor")
    resp = await upload(client, token, png() + b"\x00" * 4096)
    await expect_envelope(resp, 413)


# -- public profile -----------------------------------------------------------------------------


async def test_public_profile_shows_what_a_stranger_may_see(make_client):
    client = await make_client()
    owner, o = await user(client, "creator", username="owner1", name="Olive Owner")
    inv, i = await user(client, "investor")
    await call(client, "PUT", "/api/user/profile", o, 200, json={"bio": "I write films"})
    public = await make_pitch(client, o, title="Public one")
    await make_pitch(client, o, title="For investors", visibility="investors_only")
    await make_pitch(client, o, title="Draft", status="draft")
    await make_pitch(client, o, title="Private", visibility="private")
    nda = await make_pitch(client, o, title="Secret budget", requireNda=True, budget="1000.00", synopsis="S")
    await call(client, "POST", "/api/follows", i, 201, json={"userId": owner})

    anon = (await call(client, "GET", f"/api/users/{owner}", None, 200))["data"]
    assert "email" not in anon and anon["username"] == "owner1" and anon["bio"] == "I write films"
    assert anon["followerCount"] == 1 and anon["followingCount"] == 0 and anon["following"] is None
    titles = {p["title"] for p in anon["pitches"]}
    assert titles == {"Public one", "Secret budget"} and anon["pitchCount"] == 2
    secret = next(p for p in anon["pitches"] if p["id"] == nda["id"])
    assert secret["protected"] is True and secret["budget"] is None and secret["synopsis"] is None

    seen = await call(client, "GET", f"/api/users/{owner}?limit=1", i, 200)
    d = seen["data"]
    assert d["following"] is True and d["pitchCount"] == 3 and len(d["pitches"]) == 1
    assert seen["meta"]["pagination"] == {"page": 1, "limit": 1, "total": 3, "hasMore": True}
    assert public["id"] in {
        p["id"] for p in (await call(client, "GET", f"/api/users/{owner}", i, 200))["data"]["pitches"]
    }

    mine = (await call(client, "GET", f"/api/users/{inv}", i, 200))["data"]
    assert mine["following"] is None and mine["followingCount"] == 1 and mine["pitches"] == []

    for bad in ("999999", HUGE, "abc", "-1", "1%00"):
        await call(client, "GET", f"/api/users/{bad}", None, 404)
    await call(client, "GET", f"/api/users/{owner}?limit=0", None, 422)
    await call(client, "GET", f"/api/users/{owner}?page=1&extra=1", None, 422)


# -- preferences --------------------------------------------------------------------------------


async def test_preferences_defaults_update_and_portal_rules(make_client):
    client = await make_client()
    _, c = await user(client, "creator")
    _, i = await user(client, "investor")
    prefs = (await call(client, "GET", "/api/user/preferences", c, 200))["data"]
    assert prefs["investment"] is None and prefs["updatedAt"] is None
    assert prefs["notifications"]["new_message"] == {"live": True, "emailDigest": False}

    body = await call(
        client,
        "PUT",
        "/api/user/preferences",
        c,
        200,
        json={"notifications": {"new_message": {"live": False}, "new_follower": {"emailDigest": True}}},
    )
    n = body["data"]["notifications"]
    assert n["new_message"] == {"live": False, "emailDigest": False}
    assert n["new_follower"] == {"live": True, "emailDigest": True}
    # One channel changed later keeps the other.
    body = await call(
        client,
        "PUT",
        "/api/user/preferences",
        c,
        200,
        json={"notifications": {"new_message": {"emailDigest": True}}},
    )
    assert body["data"]["notifications"]["new_message"] == {"live": False, "emailDigest": True}

    bad = await call(
        client, "PUT", "/api/user/preferences", c, 403, json={"investment": {"genres": ["Drama"]}}
    )
    assert field_of(bad) == "investment"
    bad = await call(
        client, "PUT", "/api/user/preferences", c, 422, json={"notifications": {"bogus": {"live": True}}}
    )
    assert "notifications" in field_of(bad)
    await call(client, "PUT", "/api/user/preferences", c, 422, json={})
    await call(client, "PUT", "/api/user/preferences", None, 401, json={"notifications": {}})
    await call(client, "GET", "/api/user/preferences", None, 401)

    body = await call(
        client,
        "PUT",
        "/api/user/preferences",
        i,
        200,
        json={
            "investment": {
                "genres": ["Drama", " drama ", "Sci-Fi"],
                "formats": ["Feature"],
                "budgetMax": "5000",
            }
        },
    )
    inv = body["data"]["investment"]
    assert inv == {
        "genres": ["Drama", "Sci-Fi"],
        "formats": ["Feature"],
        "budgetMin": None,
        "budgetMax": "5000.00",
    }
    for payload, field in (
        ({"investment": {"budgetMin": "9000"}}, "investment.budgetMin"),  # above the stored max
        ({"investment": {"budgetMin": "-1"}}, "investment.budgetMin"),
        ({"investment": {"budgetMin": "1.001"}}, "investment.budgetMin"),
        ({"investment": {"genres": ["x\x00"]}}, "investment.genres.0"),
        ({"investment": {"genres": ["g"] * 21}}, "investment.genres"),
        ({"investment": {"genres": None}}, "investment"),
    ):
        bad = await call(client, "PUT", "/api/user/preferences", i, 422, json=payload)
        assert field_of(bad) == field, (payload, bad)


async def test_recommendations_use_preferences_and_say_so(make_client):
    client = await make_client()
    _, c = await user(client, "creator")
    _, i = await user(client, "investor")
    drama = await make_pitch(client, c, title="Drama one", genre="Drama", format="Series")
    series = await make_pitch(client, c, title="A series", genre="Comedy", format="Feature")
    cheap = await make_pitch(client, c, title="Cheap", genre="Horror", budget="100.00")
    hidden = await make_pitch(
        client, c, title="Hidden budget", genre="Horror", budget="100.00", requireNda=True
    )
    await call(
        client,
        "PUT",
        "/api/user/preferences",
        i,
        200,
        json={
            "investment": {"genres": ["drama"], "formats": ["feature"], "budgetMin": "50", "budgetMax": "500"}
        },
    )
    recs = (await call(client, "GET", "/api/investment/recommendations", i, 200))["data"]
    by_id = {r["pitch"]["id"]: r for r in recs}
    assert by_id[drama["id"]]["reasonCode"] == "preferred_genre"
    assert by_id[drama["id"]]["reason"] == "Matches your preferred genre: Drama"
    assert by_id[series["id"]]["reasonCode"] == "preferred_format"
    assert by_id[series["id"]]["reason"] == "Matches your preferred format: Feature"
    assert by_id[cheap["id"]]["reasonCode"] == "preferred_budget"
    # A budget the investor may not see never matches their range (that would reveal it).
    assert by_id[hidden["id"]]["reasonCode"] in ("new", "trending")
    assert recs[0]["pitch"]["id"] == drama["id"]


async def test_a_kind_switched_off_for_live_is_stored_but_not_pushed(make_client, db_conn):
    client = await make_client()
    target, t = await user(client, "creator")
    _, f1 = await user(client, "investor")
    _, f2 = await user(client, "production")
    ws = await connect(client, t)
    await call(
        client,
        "PUT",
        "/api/user/preferences",
        t,
        200,
        json={"notifications": {"new_follower": {"live": False}}},
    )
    await call(client, "POST", "/api/follows", f1, 201, json={"userId": target})
    # Switched back on: the next one is pushed; the first one never was.
    await call(
        client,
        "PUT",
        "/api/user/preferences",
        t,
        200,
        json={"notifications": {"new_follower": {"live": True}}},
    )
    await call(client, "POST", "/api/follows", f2, 201, json={"userId": target})
    note = await ws.expect("notification", f"user:{target}")
    assert note["data"]["data"]["followerType"] == "production"
    assert ws.discard(f"user:{target}") == []
    stored = await db_conn.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'new_follower'", target
    )
    assert stored == 2
    await ws.close()


async def test_every_kind_the_server_stores_can_be_switched(make_client, db_conn):
    """The preferences list every kind of NotificationKind (one list: rooms and routes are typed
    with it), and a kind that once had no switch (a co-editing invitation) obeys its switch."""
    from pitchey.protocol.models import NOTIFICATION_KINDS

    client = await make_client()
    _, o = await user(client, "creator")
    invitee, i = await user(client, "investor")
    prefs = (await call(client, "GET", "/api/user/preferences", i, 200))["data"]
    assert list(prefs["notifications"]) == list(NOTIFICATION_KINDS)
    assert {"nda_expired", "collaborator_invite", "investment_failed", "team_removed"} <= set(
        prefs["notifications"]
    )

    ws = await connect(client, i)
    quiet = await make_pitch(client, o, title="Invited quietly")
    loud = await make_pitch(client, o, title="Invited aloud")
    await call(
        client,
        "PUT",
        "/api/user/preferences",
        i,
        200,
        json={"notifications": {"collaborator_invite": {"live": False}}},
    )
    await call(
        client,
        "POST",
        f"/api/pitches/{quiet['id']}/collaborators",
        o,
        201,
        json={"userId": invitee, "role": "editor"},
    )
    await call(
        client,
        "PUT",
        "/api/user/preferences",
        i,
        200,
        json={"notifications": {"collaborator_invite": {"live": True}}},
    )
    await call(
        client,
        "POST",
        f"/api/pitches/{loud['id']}/collaborators",
        o,
        201,
        json={"userId": invitee, "role": "viewer"},
    )
    note = await ws.expect("notification", f"user:{invitee}")
    assert (note["data"]["kind"], note["data"]["data"]["pitchId"]) == ("collaborator_invite", loud["id"])
    assert ws.discard(f"user:{invitee}") == []
    stored = await db_conn.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'collaborator_invite'", invitee
    )
    assert stored == 2
    await ws.close()


# -- saved pitches ------------------------------------------------------------------------------


async def test_save_list_unsave_and_the_owner_sees_only_a_count(make_client):
    client = await make_client()
    _, c = await user(client, "creator")
    _, i = await user(client, "investor")
    _, i2 = await user(client, "investor")
    a = await make_pitch(client, c, title="Alpha")
    b = await make_pitch(client, c, title="Bravo", requireNda=True, synopsis="secret", budget="10.00")

    first = await call(client, "POST", f"/api/pitches/{a['id']}/save", i, 201, json={})
    assert first["data"]["saved"] is True and first["data"]["pitchId"] == a["id"]
    again = await call(client, "POST", f"/api/pitches/{a['id']}/save", i, 200, json={})
    assert again["data"]["savedAt"] == first["data"]["savedAt"]
    await call(client, "POST", f"/api/pitches/{b['id']}/save", i, 201)
    await call(client, "POST", f"/api/pitches/{a['id']}/save", i2, 201, json={})

    page = await call(client, "GET", "/api/saved-pitches?limit=1", i, 200)
    assert [s["pitch"]["title"] for s in page["data"]] == ["Bravo"]
    assert page["data"][0]["pitch"]["protected"] is True and page["data"][0]["pitch"]["synopsis"] is None
    assert page["meta"]["pagination"] == {"page": 1, "limit": 1, "total": 2, "hasMore": True}
    state = await call(client, "GET", f"/api/pitches/{a['id']}/save", i, 200)
    assert state["data"]["saved"] is True

    # The owner: how many, never who.
    mine = await call(client, "GET", "/api/pitches/my", c, 200)
    counts = {p["title"]: p["saveCount"] for p in mine["data"]}
    assert counts == {"Alpha": 2, "Bravo": 1}
    detail = await call(client, "GET", f"/api/pitches/{a['id']}", c, 200)
    assert detail["data"]["saveCount"] == 2
    other = await call(client, "GET", f"/api/pitches/{a['id']}", i, 200)
    assert other["data"].get("saveCount") is None

    await call(client, "DELETE", f"/api/pitches/{a['id']}/save", i, 200)
    gone = await call(client, "DELETE", f"/api/pitches/{a['id']}/save", i, 200)  # idempotent
    assert gone["data"] == {"pitchId": a["id"], "saved": False, "savedAt": None}
    assert [s["pitch"]["id"] for s in (await call(client, "GET", "/api/saved-pitches", i, 200))["data"]] == [
        b["id"]
    ]


async def test_saved_pitches_refusals_and_visibility(make_client):
    client = await make_client()
    _, c = await user(client, "creator")
    _, i = await user(client, "investor")
    _, p = await user(client, "production")
    pub = await make_pitch(client, c, title="Pub")
    draft = await make_pitch(client, c, title="Draft", status="draft")
    private = await make_pitch(client, c, title="Private", visibility="private")

    for token in (c, p):  # other portals
        body = await call(client, "POST", f"/api/pitches/{pub['id']}/save", token, 403, json={})
        assert "accounts may do this" in body["error"]["message"]
        await call(client, "GET", "/api/saved-pitches", token, 403)
    await call(client, "POST", f"/api/pitches/{pub['id']}/save", None, 401, json={})
    await call(client, "GET", "/api/saved-pitches", None, 401)
    await call(client, "POST", f"/api/pitches/{draft['id']}/save", i, 404, json={})
    await call(client, "DELETE", f"/api/pitches/{draft['id']}/save", i, 404)
    await call(client, "POST", f"/api/pitches/{private['id']}/save", i, 403, json={})
    for bad in ("999999", HUGE, "x"):
        await call(client, "POST", f"/api/pitches/{bad}/save", i, 404, json={})
    await call(client, "POST", f"/api/pitches/{pub['id']}/save", i, 422, json={"note": "x"})
    await call(client, "GET", "/api/saved-pitches?page=0", i, 422)

    # Saved, then hidden by its owner: it leaves the list, and can still be unsaved.
    await call(client, "POST", f"/api/pitches/{pub['id']}/save", i, 201, json={})
    await call(client, "PUT", f"/api/pitches/{pub['id']}", c, 200, json={"visibility": "private"})
    page = await call(client, "GET", "/api/saved-pitches", i, 200)
    assert page["data"] == [] and page["meta"]["pagination"]["total"] == 0
    await call(client, "DELETE", f"/api/pitches/{pub['id']}/save", i, 200)


async def test_parallel_saves_make_one_row(make_client, db_conn):
    client = await make_client()
    _, c = await user(client, "creator")
    me, i = await user(client, "investor")
    pitch = await make_pitch(client, c)
    answers = await asyncio.gather(
        *(client.post(f"/api/pitches/{pitch['id']}/save", json={}, headers=bearer(i)) for _ in range(6))
    )
    statuses = sorted(r.status for r in answers)
    assert statuses.count(201) == 1 and statuses.count(200) == 5, statuses
    assert await db_conn.fetchval("SELECT count(*) FROM saved_pitches WHERE user_id = $1", me) == 1


async def test_parallel_preference_saves_of_different_switches_all_land(make_client):
    client = await make_client()
    _, token = await user(client, "creator")
    switches = [
        ("new_message", "live"),
        ("new_message", "emailDigest"),
        ("new_follower", "live"),
        ("nda_request", "emailDigest"),
        ("nda_approved", "live"),
    ]
    answers = await asyncio.gather(
        *(
            client.put(
                "/api/user/preferences",
                json={"notifications": {kind: {channel: channel != "live"}}},
                headers=bearer(token),
            )
            for kind, channel in switches
        )
    )
    assert [r.status for r in answers] == [200] * len(switches)
    n = (await call(client, "GET", "/api/user/preferences", token, 200))["data"]["notifications"]
    assert n["new_message"] == {"live": False, "emailDigest": True}
    assert n["new_follower"] == {"live": False, "emailDigest": False}
    assert n["nda_request"] == {"live": True, "emailDigest": True}
    assert n["nda_approved"] == {"live": False, "emailDigest": False}


async def test_profile_and_save_writes_are_rate_limited_like_other_writes(make_client):
    client = await make_client(write_user_limit="3/minute")
    _, c = await user(client, "creator")
    _, i = await user(client, "investor")
    pitch = await make_pitch(client, c)
    for n in range(3):
        await call(client, "PUT", "/api/user/profile", i, 200, json={"bio": f"take {n}"})
    limited = await call(client, "PUT", "/api/user/profile", i, 429, json={"bio": "one too many"})
    assert limited["error"]["code"] == "RATE_LIMITED"
    await call(client, "POST", f"/api/pitches/{pitch['id']}/save", i, 429, json={})
    # Reads are not writes.
    await call(client, "GET", "/api/user/profile", i, 200)


async def test_nul_bytes_and_huge_numbers_in_queries_are_422(make_client):
    client = await make_client()
    me, i = await user(client, "investor")
    for query in ("page=%00", "limit=1%002", f"page={HUGE}", "limit=101"):
        body = await call(client, "GET", f"/api/users/{me}?{query}", None, 422)
        assert field_of(body) in ("page", "limit")
        await call(client, "GET", f"/api/saved-pitches?{query}", i, 422)


async def test_saved_list_shows_protected_fields_to_an_approved_nda_holder(make_client):
    client = await make_client()
    _, c = await user(client, "creator")
    _, i = await user(client, "investor")
    secret = await make_pitch(
        client, c, title="Secret", requireNda=True, synopsis="The twist", budget="99.00"
    )
    await call(client, "POST", f"/api/pitches/{secret['id']}/save", i, 201, json={})
    listed = (await call(client, "GET", "/api/saved-pitches", i, 200))["data"][0]["pitch"]
    assert (listed["protected"], listed["synopsis"], listed["budget"]) == (True, None, None)
    nda = (await call(client, "POST", "/api/ndas/request", i, 201, json={"pitchId": secret["id"]}))["data"]
    await call(client, "POST", f"/api/ndas/{nda['id']}/approve", c, 200, json={})
    listed = (await call(client, "GET", "/api/saved-pitches", i, 200))["data"][0]["pitch"]
    assert (listed["protected"], listed["synopsis"], listed["budget"]) == (False, "The twist", "99.00")
