"""The pitch catalog: the pitch journey per role, edits and deletion with every refusal, browse
(visibility, filters, sorting, pagination, full-text search), protected fields in every list,
trending, following, follows with their notification, the read cache, and rooms dropping
subscribers who lost sight of a pitch."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from conftest import expect_envelope
from realtime_helpers import (
    connect,
    decide_nda,
    like,
    make_pitch,
    realtime,
    request_nda,
    user,
    wait_until,
)

from pitchey.server.cache import TtlCache, cached

# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def hdr(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def put(client, pid, token, _status=200, _code=None, **fields) -> dict[str, Any]:
    resp = await client.put(f"/api/pitches/{pid}", json=fields, headers=hdr(token))
    return await expect_envelope(resp, _status, _code)


async def delete(client, pid, token, status=200, code=None) -> dict[str, Any]:
    resp = await client.delete(f"/api/pitches/{pid}", headers=hdr(token))
    return await expect_envelope(resp, status, code)


async def listing(client, path, token=None, _status=200, _code=None, **params) -> dict[str, Any]:
    query = {k: str(v) for k, v in params.items()}
    resp = await client.get(path, params=query, headers=hdr(token))
    return await expect_envelope(resp, _status, _code)


async def browse(client, token=None, _status=200, _code=None, **params) -> dict[str, Any]:
    return await listing(client, "/api/pitches/browse", token, _status, _code, **params)


async def detail(client, pid, token=None, status=200, code=None) -> dict[str, Any]:
    resp = await client.get(f"/api/pitches/{pid}", headers=hdr(token))
    return await expect_envelope(resp, status, code)


def ids(body: dict[str, Any]) -> list[int]:
    return [p["id"] for p in body["data"]]


def page_meta(body: dict[str, Any]) -> dict[str, Any]:
    return body["meta"]["pagination"]


# ------------------------------------------------------------------------------------------
# the journey and its refusals
# ------------------------------------------------------------------------------------------


async def test_creator_pitch_journey(make_client, db_conn):
    client = await make_client()
    owner_id, token = await user(client, "creator", name="Cleo Creator")
    _, inv = await user(client, "investor")
    draft = await make_pitch(
        client, token, title="Night Train", status="draft", genre="Thriller", budget="250000.00"
    )
    pid = draft["id"]
    assert draft["status"] == "draft" and draft["publishedAt"] is None
    assert draft["creator"]["id"] == owner_id and draft["creator"]["name"] == "Cleo Creator"
    # A draft: in "my" list, not in anyone's browse, not readable by others.
    mine = await listing(client, "/api/pitches/my", token)
    assert ids(mine) == [pid]
    assert pid not in ids(await browse(client))
    assert pid not in ids(await browse(client, inv))
    await detail(client, pid, inv, 404, "NOT_FOUND")

    # Publish with a partial edit: only the fields sent change; publishedAt is stamped.
    body = await put(client, pid, token, status="published", logline="A train that never stops")
    p = body["data"]
    assert p["status"] == "published" and p["publishedAt"] is not None
    assert p["title"] == "Night Train" and p["genre"] == "Thriller"
    assert p["logline"] == "A train that never stops"
    assert p["creator"] == {
        "id": owner_id,
        "username": None,
        "name": "Cleo Creator",
        "companyName": None,
        "userType": "creator",
    }
    first_published = p["publishedAt"]
    assert pid in ids(await browse(client))
    got = await detail(client, pid, inv)
    assert got["data"]["logline"] == "A train that never stops"
    assert "email" not in got["data"]["creator"]

    # null clears an optional field; archive hides it from browse; re-publishing keeps the date.
    body = await put(client, pid, token, logline=None, budget="300000.50")
    assert body["data"]["logline"] is None and Decimal(body["data"]["budget"]) == Decimal("300000.50")
    await put(client, pid, token, status="archived")
    assert pid not in ids(await browse(client, inv))
    await detail(client, pid, inv, 404)
    body = await put(client, pid, token, status="published")
    assert body["data"]["publishedAt"] == first_published
    row = await db_conn.fetchrow("SELECT status, logline, budget FROM pitches WHERE id = $1", pid)
    assert (row["status"], row["logline"], row["budget"]) == ("published", None, Decimal("300000.50"))

    # Delete: gone everywhere.
    body = await delete(client, pid, token)
    assert body["data"] == {"id": pid, "deleted": True}
    await detail(client, pid, token, 404)
    assert ids(await listing(client, "/api/pitches/my", token)) == []
    assert await db_conn.fetchval("SELECT count(*) FROM pitches WHERE id = $1", pid) == 0


async def test_other_roles_cannot_create_edit_or_delete(make_client, db_conn):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, other_creator = await user(client, "creator")
    _, inv = await user(client, "investor")
    _, prod = await user(client, "production")
    pub = await make_pitch(client, owner, title="Mine")
    draft = await make_pitch(client, owner, title="Secret draft", status="draft")
    private = await make_pitch(client, owner, title="Private", visibility="private")

    for t in (inv, prod):  # wrong portal: 403 before anything else
        resp = await client.post("/api/pitches", json={"title": "x"}, headers=hdr(t))
        await expect_envelope(resp, 403, "FORBIDDEN")
        await put(client, pub["id"], t, 403, "FORBIDDEN", title="Hijack")
        await delete(client, pub["id"], t, 403, "FORBIDDEN")
        await listing(client, "/api/pitches/my", t, 403, "FORBIDDEN")
    # Another creator: 403 on what they may know exists, 404 on what they may not.
    await put(client, pub["id"], other_creator, 403, "FORBIDDEN", title="Hijack")
    await delete(client, pub["id"], other_creator, 403, "FORBIDDEN")
    await put(client, draft["id"], other_creator, 404, "NOT_FOUND", title="Hijack")
    await delete(client, draft["id"], other_creator, 404, "NOT_FOUND")
    await put(client, private["id"], other_creator, 403, "FORBIDDEN", title="Hijack")
    # Unknown and malformed ids, anonymous callers.
    await put(client, 999999, owner, 404, "NOT_FOUND", title="x")
    await delete(client, 999999, owner, 404, "NOT_FOUND")
    resp = await client.put("/api/pitches/abc", json={"title": "x"}, headers=hdr(owner))
    await expect_envelope(resp, 404, "NOT_FOUND")
    await put(client, pub["id"], None, 401, "UNAUTHORIZED", title="x")
    await delete(client, pub["id"], None, 401, "UNAUTHORIZED")
    await listing(client, "/api/pitches/my", None, 401, "UNAUTHORIZED")
    # Nothing was written.
    titles = {r["title"] for r in await db_conn.fetch("SELECT title FROM pitches")}
    assert titles == {"Mine", "Secret draft", "Private"}


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": None},
        {"title": "x" * 256},
        {"status": "live"},
        {"status": None},
        {"visibility": "friends"},
        {"requireNda": None},
        {"requireNda": "perhaps"},
        {"budget": "-1"},
        {"budget": "1.234"},
        {"budget": "1000000000000000"},
        {"budget": "lots"},
        {"synopsis": "s" * 20001},
    ],
)
async def test_bad_edit_fields_are_422_and_write_nothing(make_client, db_conn, fields):
    client = await make_client()
    _, owner = await user(client, "creator")
    pitch = await make_pitch(client, owner, title="Stable", budget="10.00")
    before = await db_conn.fetchrow("SELECT * FROM pitches WHERE id = $1", pitch["id"])
    body = await put(client, pitch["id"], owner, 422, "VALIDATION_ERROR", **fields)
    assert body["error"]["message"]
    after = await db_conn.fetchrow("SELECT * FROM pitches WHERE id = $1", pitch["id"])
    assert dict(before) == dict(after)


async def test_pitch_with_investments_cannot_be_deleted(make_client, db_conn):
    client = await make_client()
    _, owner = await user(client, "creator")
    inv_id, _ = await user(client, "investor")
    pitch = await make_pitch(client, owner, title="Funded")
    await db_conn.execute(
        "INSERT INTO investments (investor_id, pitch_id, amount) VALUES ($1, $2, 5000)", inv_id, pitch["id"]
    )
    body = await delete(client, pitch["id"], owner, 409, "CONFLICT")
    assert "archive" in body["error"]["message"]
    assert await db_conn.fetchval("SELECT count(*) FROM pitches WHERE id = $1", pitch["id"]) == 1
    # The way out: archive it. Still readable by its owner, gone from browse.
    body = await put(client, pitch["id"], owner, status="archived")
    assert body["data"]["status"] == "archived"
    assert pitch["id"] not in ids(await browse(client))
    assert (await detail(client, pitch["id"], owner))["data"]["title"] == "Funded"


async def test_my_pitches_lists_all_statuses_paginated(make_client):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, other = await user(client, "creator")
    made = []
    for i, status in enumerate(["draft", "published", "archived", "published", "draft"]):
        made.append((await make_pitch(client, owner, title=f"P{i}", status=status))["id"])
    await make_pitch(client, other, title="Not mine")
    body = await listing(client, "/api/pitches/my", owner, limit=2)
    assert ids(body) == made[::-1][:2]
    assert page_meta(body) == {"page": 1, "limit": 2, "total": 5, "hasMore": True}
    body = await listing(client, "/api/pitches/my", owner, limit=2, page=3)
    assert ids(body) == [made[0]]
    assert page_meta(body) == {"page": 3, "limit": 2, "total": 5, "hasMore": False}
    body = await listing(client, "/api/pitches/my", owner, limit=2, page=9)
    assert body["data"] == [] and page_meta(body)["total"] == 5
    body = await listing(client, "/api/pitches/my", owner, status="draft")
    assert ids(body) == [made[4], made[0]]
    await listing(client, "/api/pitches/my", owner, 422, "VALIDATION_ERROR", status="lost")
    await listing(client, "/api/pitches/my", owner, 422, "VALIDATION_ERROR", limit=0)
    await listing(client, "/api/pitches/my", owner, 422, "VALIDATION_ERROR", limit=101)
    await listing(client, "/api/pitches/my", owner, 422, "VALIDATION_ERROR", page=0)


# ------------------------------------------------------------------------------------------
# browse: visibility, filters, sorting, search
# ------------------------------------------------------------------------------------------


async def test_browse_visibility_per_role(make_client):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, creator = await user(client, "creator")
    _, inv = await user(client, "investor")
    _, prod = await user(client, "production")
    _, holder = await user(client, "investor")
    p = {}
    for name, fields in {
        "public": {},
        "investors": {"visibility": "investors_only"},
        "private": {},  # made private below, once its NDA is approved
        "draft": {"status": "draft"},
        "archived": {"status": "archived"},
        "private_draft": {"visibility": "private", "status": "draft"},
    }.items():
        p[name] = (await make_pitch(client, owner, title=name, **fields))["id"]
    # Requested while public (a private pitch refuses a request as its detail does).
    nda = (await request_nda(client, p["private"], holder))["data"]
    await decide_nda(client, nda["id"], owner)
    await put(client, p["private"], owner, visibility="private")

    expected = {
        None: {"public"},
        creator: {"public"},
        inv: {"public", "investors"},
        prod: {"public", "investors"},
        holder: {"public", "investors", "private"},
        owner: {"public", "investors", "private"},
    }
    for token, names in expected.items():
        body = await browse(client, token)
        assert set(ids(body)) == {p[n] for n in names}, (token, body["data"])
        assert page_meta(body)["total"] == len(names)
        assert all(item["status"] == "published" for item in body["data"])
    # status=draft lists only the caller's own drafts.
    assert set(ids(await browse(client, owner, status="draft"))) == {p["draft"], p["private_draft"]}
    assert ids(await browse(client, inv, status="draft")) == []
    assert ids(await browse(client, None, status="archived")) == []


async def test_browse_filters_sorting_and_pagination(make_client, db_conn):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, inv = await user(client, "investor")
    specs = [
        ("Alpha", "Drama", "100.00", 5, 1),
        ("bravo", "drama", "5000.00", 50, 7),
        ("Charlie", "Comedy", None, 20, 3),
        ("delta", "DRAMA", "75.50", 1, 9),
    ]
    pid = {}
    for title, genre, budget, views, likes in specs:
        fields: dict[str, Any] = {"genre": genre}
        if budget:
            fields["budget"] = budget
        pid[title] = (await make_pitch(client, owner, title=title, **fields))["id"]
        await db_conn.execute(
            "UPDATE pitches SET view_count = $2, like_count = $3 WHERE id = $1", pid[title], views, likes
        )
    newest_first = [pid[t] for t in ("delta", "Charlie", "bravo", "Alpha")]

    assert ids(await browse(client, inv)) == newest_first
    assert ids(await browse(client, inv, sort="newest", order="asc")) == newest_first[::-1]
    assert ids(await browse(client, inv, sort="views")) == [
        pid[t] for t in ("bravo", "Charlie", "Alpha", "delta")
    ]
    assert ids(await browse(client, inv, sort="likes", order="asc")) == [
        pid[t] for t in ("Alpha", "Charlie", "bravo", "delta")
    ]
    assert ids(await browse(client, inv, sort="title")) == [
        pid[t] for t in ("Alpha", "bravo", "Charlie", "delta")
    ]
    assert ids(await browse(client, inv, sort="title", order="desc")) == [
        pid[t] for t in ("delta", "Charlie", "bravo", "Alpha")
    ]
    # Budget: no budget sorts last in both directions.
    assert ids(await browse(client, inv, sort="budget")) == [
        pid[t] for t in ("bravo", "Alpha", "delta", "Charlie")
    ]
    assert ids(await browse(client, inv, sort="budget", order="asc")) == [
        pid[t] for t in ("delta", "Alpha", "bravo", "Charlie")
    ]
    # Filters: genre case-insensitively, budget range inclusive, combined.
    assert set(ids(await browse(client, inv, genre="drama"))) == {pid["Alpha"], pid["bravo"], pid["delta"]}
    assert set(ids(await browse(client, inv, budgetMin="100"))) == {pid["Alpha"], pid["bravo"]}
    assert set(ids(await browse(client, inv, budgetMax="100.00"))) == {pid["Alpha"], pid["delta"]}
    assert ids(await browse(client, inv, genre="Drama", budgetMin="80", budgetMax="200")) == [pid["Alpha"]]
    # No rule across parameters: an empty range lists nothing, relevance without q is newest first.
    assert ids(await browse(client, inv, budgetMin="200", budgetMax="80")) == []
    assert ids(await browse(client, inv, sort="relevance")) == ids(await browse(client, inv))
    assert ids(await browse(client, inv, genre="western")) == []
    # Pagination over a sorted list.
    body = await browse(client, inv, sort="title", limit=3)
    assert ids(body) == [pid[t] for t in ("Alpha", "bravo", "Charlie")]
    assert page_meta(body) == {"page": 1, "limit": 3, "total": 4, "hasMore": True}
    body = await browse(client, inv, sort="title", limit=3, page=2)
    assert ids(body) == [pid["delta"]]
    assert page_meta(body) == {"page": 2, "limit": 3, "total": 4, "hasMore": False}
    body = await browse(client, inv, limit=3, page=5)
    assert body["data"] == [] and page_meta(body)["total"] == 4
    assert page_meta(await browse(client, inv))["limit"] == 20


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "random"},
        {"order": "sideways"},
        {"status": "deleted"},
        {"limit": "0"},
        {"limit": "101"},
        {"page": "0"},
        {"page": "x"},
        {"budgetMin": "-5"},
        {"budgetMin": "abc"},
        {"q": ""},
        {"q": "x" * 201},
        {"budgetMax": "1.001"},
    ],
)
async def test_browse_rejects_bad_queries(make_client, params):
    client = await make_client()
    body = await browse(client, None, 422, "VALIDATION_ERROR", **params)
    assert body["error"]["details"]


async def test_browse_full_text_search(make_client):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, inv = await user(client, "investor")
    dragon = (
        await make_pitch(
            client,
            owner,
            title="Dragon Season",
            logline="A village learns to fly",
            genre="Fantasy",
            synopsis="zeppelin secrets",
        )
    )["id"]
    space = (await make_pitch(client, owner, title="Orbit", logline="Miners in deep space", genre="Sci-Fi"))[
        "id"
    ]
    dragons2 = (
        await make_pitch(client, owner, title="Dragons of the Deep", logline="Sea monsters", genre="Horror")
    )["id"]
    for token in (None, inv):
        assert set(ids(await browse(client, token, q="dragon"))) == {dragon, dragons2}
        assert ids(await browse(client, token, q="drag monst")) == [dragons2]  # all words
        assert ids(await browse(client, token, q="village fly")) == [dragon]
        assert ids(await browse(client, token, q="miners")) == [space]  # logline
        assert ids(await browse(client, token, q="sci")) == [space]  # genre, prefix
        assert set(ids(await browse(client, token, q="deep"))) == {space, dragons2}
        # websearch syntax: exclusion and quoted phrases.
        assert ids(await browse(client, token, q="dragon -monsters")) == [dragon]
        assert ids(await browse(client, token, q='"deep space"')) == [space]
        # The synopsis (NDA-protectable) is never searched.
        assert ids(await browse(client, token, q="zeppelin")) == []
    # Ranking: the title match outranks the logline one.
    body = await browse(client, inv, q="deep", sort="relevance")
    assert ids(body) == [dragons2, space]
    # Hostile input is just text.
    for q in ("'; DROP TABLE pitches; --", "a:* & !b | (c", "\\", "the", "!!!", "日本"):
        body = await browse(client, inv, q=q)
        assert body["data"] == [] or all(isinstance(i, int) for i in ids(body))
    assert len(ids(await browse(client, inv))) == 3


# ------------------------------------------------------------------------------------------
# protected fields everywhere
# ------------------------------------------------------------------------------------------


async def test_protected_fields_hidden_in_every_list_until_nda(make_client):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    _, inv = await user(client, "investor")
    _, other = await user(client, "production")
    secret = (
        await make_pitch(
            client,
            owner,
            title="Vault Heist",
            requireNda=True,
            synopsis="They rob the vault",
            budget="9000000.00",
            genre="Crime",
        )
    )["id"]
    open_ = (await make_pitch(client, owner, title="Open Book", synopsis="Nothing hidden", budget="10.00"))[
        "id"
    ]
    for token in (inv, other):
        resp = await client.post("/api/follows", json={"userId": owner_id}, headers=hdr(token))
        await expect_envelope(resp, 201)

    async def views_of(token: str | None) -> list[dict[str, Any]]:
        """The secret pitch as every endpoint shows it to this caller."""
        found = []
        for path, params in (
            ("/api/pitches/browse", {}),
            ("/api/pitches/browse", {"q": "vault"}),
            ("/api/pitches/trending", {}),
            ("/api/pitches/following", {}),
        ):
            if token is None and path.endswith("following"):
                continue
            body = await listing(client, path, token, **params)
            found += [p for p in body["data"] if p["id"] == secret]
        found.append((await detail(client, secret, token))["data"])
        return found

    for token in (None, inv, other):
        shown = await views_of(token)
        assert len(shown) == (4 if token is None else 5)
        for p in shown:
            assert (p["synopsis"], p["budget"], p["protected"]) == (None, None, True), p
            assert p["title"] == "Vault Heist" and p["requireNda"] is True
    # The unprotected pitch shows everything to everyone.
    body = await browse(client, None, q="open")
    assert body["data"][0]["synopsis"] == "Nothing hidden" and body["data"][0]["protected"] is False
    assert open_ == body["data"][0]["id"]

    nda = (await request_nda(client, secret, inv))["data"]
    await decide_nda(client, nda["id"], owner)
    for p in await views_of(inv):
        assert p["synopsis"] == "They rob the vault" and p["protected"] is False
        assert Decimal(p["budget"]) == Decimal("9000000.00")
    for p in await views_of(other):  # still without an NDA
        assert (p["synopsis"], p["budget"], p["protected"]) == (None, None, True)
    mine = await listing(client, "/api/pitches/my", owner)
    assert {p["id"]: p["synopsis"] for p in mine["data"]}[secret] == "They rob the vault"


async def test_hidden_budget_neither_filters_nor_sorts(make_client):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, inv = await user(client, "investor")
    _, holder = await user(client, "investor")
    secret = (await make_pitch(client, owner, title="Big", requireNda=True, budget="5000000.00"))["id"]
    small = (await make_pitch(client, owner, title="Small", budget="1000.00"))["id"]
    nda = (await request_nda(client, secret, holder))["data"]
    await decide_nda(client, nda["id"], owner)
    # Without the NDA the budget is as good as absent: no range matches it, it sorts last.
    for token in (None, inv):
        assert ids(await browse(client, token, budgetMin="1000000")) == []
        assert ids(await browse(client, token, budgetMax="10000000")) == [small]
        assert ids(await browse(client, token, sort="budget")) == [small, secret]
        assert ids(await browse(client, token, sort="budget", order="asc")) == [small, secret]
    for token in (holder, owner):
        assert ids(await browse(client, token, budgetMin="1000000")) == [secret]
        assert ids(await browse(client, token, sort="budget")) == [secret, small]


# ------------------------------------------------------------------------------------------
# trending and following
# ------------------------------------------------------------------------------------------


async def test_trending_follows_recent_weighted_activity(make_client, db_conn):
    client = await make_client()
    _, owner = await user(client, "creator")
    viewers = [await user(client, "investor") for _ in range(3)]
    a = (await make_pitch(client, owner, title="A"))["id"]
    b = (await make_pitch(client, owner, title="B"))["id"]
    c = (await make_pitch(client, owner, title="C"))["id"]
    _, inv = viewers[0]
    body = await listing(client, "/api/pitches/trending", inv)
    assert ids(body) == [c, b, a]  # no activity: newest first, all score 0
    assert [p["trendingScore"] for p in body["data"]] == [0, 0, 0]

    # Two fresh views of A beat nothing; then one like of B (weight 3) beats two views.
    for _, t in viewers[:2]:
        await detail(client, a, t)
    body = await listing(client, "/api/pitches/trending", inv)
    assert ids(body)[0] == a
    assert body["data"][0]["trendingScore"] == pytest.approx(2.0, rel=1e-3)
    await like(client, b, viewers[2][1])
    body = await listing(client, "/api/pitches/trending", inv)
    assert ids(body) == [b, a, c]
    assert body["data"][0]["trendingScore"] == pytest.approx(3.0, rel=1e-3)

    # Age decays the weight: a like two half-lives (48 h) old counts a quarter; older than the
    # 7-day window, nothing at all.
    await db_conn.execute(
        "UPDATE pitch_likes SET created_at = now() - interval '48 hours' WHERE pitch_id = $1", b
    )
    body = await listing(client, "/api/pitches/trending", inv)
    assert ids(body) == [a, b, c]
    assert body["data"][1]["trendingScore"] == pytest.approx(0.75, rel=1e-2)
    await db_conn.execute(
        "UPDATE pitch_views SET viewed_at = now() - interval '8 days' WHERE pitch_id = $1", a
    )
    body = await listing(client, "/api/pitches/trending", inv)
    assert ids(body) == [b, c, a]
    # Only visible pitches; paginated.
    hidden = (await make_pitch(client, owner, title="Hidden", visibility="private"))["id"]
    await db_conn.execute(
        "INSERT INTO pitch_likes (pitch_id, user_id) VALUES ($1, $2)", hidden, viewers[1][0]
    )
    body = await listing(client, "/api/pitches/trending", inv, limit=2)
    assert ids(body) == [b, c]
    assert page_meta(body) == {"page": 1, "limit": 2, "total": 3, "hasMore": True}
    await listing(client, "/api/pitches/trending", inv, 422, "VALIDATION_ERROR", limit=500)


async def test_following_feed(make_client):
    client = await make_client()
    a_id, a = await user(client, "creator")
    _, b = await user(client, "creator")
    _, inv = await user(client, "investor")
    _, creator = await user(client, "creator")
    a1 = (await make_pitch(client, a, title="A1"))["id"]
    a2 = (await make_pitch(client, a, title="A2", visibility="investors_only"))["id"]
    await make_pitch(client, a, title="A draft", status="draft")
    await make_pitch(client, a, title="A private", visibility="private")
    await make_pitch(client, b, title="B1")
    assert (await listing(client, "/api/pitches/following", inv))["data"] == []
    for t in (inv, creator):
        resp = await client.post("/api/follows", json={"userId": a_id}, headers=hdr(t))
        await expect_envelope(resp, 201)
    body = await listing(client, "/api/pitches/following", inv)
    assert ids(body) == [a2, a1]
    assert page_meta(body) == {"page": 1, "limit": 20, "total": 2, "hasMore": False}
    assert ids(await listing(client, "/api/pitches/following", creator)) == [a1]
    assert ids(await listing(client, "/api/pitches/following", inv, limit=1, page=2)) == [a1]
    await listing(client, "/api/pitches/following", None, 401, "UNAUTHORIZED")


# ------------------------------------------------------------------------------------------
# follows
# ------------------------------------------------------------------------------------------


async def test_follow_notifies_live_and_lists(make_client, db_conn):
    client = await make_client()
    star_id, star = await user(client, "creator", username="star", name="Sam Star")
    fan_id, fan = await user(client, "investor", username="fan", name="Fay Fan", companyName="Fan Capital")
    prod_id, prod = await user(client, "production", username="studio")
    ws = await connect(client, star)

    resp = await client.post("/api/follows", json={"userId": star_id}, headers=hdr(fan))
    body = await expect_envelope(resp, 201)
    assert body["data"]["user"] == {
        "id": star_id,
        "username": "star",
        "name": "Sam Star",
        "companyName": None,
        "userType": "creator",
    }
    assert body["data"]["following"] is True and body["data"]["created"] is True
    frame = await ws.expect("notification", f"user:{star_id}")
    assert frame["data"]["kind"] == "new_follower"
    assert frame["data"]["data"]["followerId"] == fan_id
    assert "Fay Fan" in frame["data"]["title"]
    rows = await db_conn.fetch("SELECT kind, data FROM notifications WHERE user_id = $1", star_id)
    assert [r["kind"] for r in rows] == ["new_follower"]
    assert json.loads(rows[0]["data"])["followerId"] == fan_id
    assert frame["data"]["id"] == await db_conn.fetchval(
        "SELECT id FROM notifications WHERE user_id = $1", star_id
    )

    # Following again: 200, nothing new stored or announced.
    resp = await client.post("/api/follows", json={"userId": star_id}, headers=hdr(fan))
    body = await expect_envelope(resp, 200)
    assert body["data"]["created"] is False and body["data"]["followedAt"]
    assert await db_conn.fetchval("SELECT count(*) FROM notifications") == 1
    resp = await client.post("/api/follows", json={"userId": star_id}, headers=hdr(prod))
    await expect_envelope(resp, 201)
    resp = await client.post("/api/follows", json={"userId": prod_id}, headers=hdr(fan))
    await expect_envelope(resp, 201)
    await ws.ping()
    notes = [f for f in ws.backlog if f["type"] == "notification"]
    assert len(notes) == 1 and notes[0]["data"]["data"]["followerId"] == prod_id

    body = await listing(client, "/api/follows/followers", star)
    assert [u["user"]["id"] for u in body["data"]] == [prod_id, fan_id]
    assert page_meta(body) == {"page": 1, "limit": 20, "total": 2, "hasMore": False}
    assert all("email" not in u["user"] for u in body["data"])
    assert body["data"][1]["user"]["companyName"] == "Fan Capital"
    body = await listing(client, "/api/follows/followers", star, limit=1, page=2)
    assert [u["user"]["id"] for u in body["data"]] == [fan_id]
    body = await listing(client, "/api/follows/following", fan)
    assert [u["user"]["id"] for u in body["data"]] == [prod_id, star_id]
    assert (await listing(client, "/api/follows/following", star))["data"] == []
    assert "@" not in json.dumps(body)

    # Unfollow (idempotent), and it is gone from both lists.
    for _ in range(2):
        resp = await client.delete(f"/api/follows/{star_id}", headers=hdr(fan))
        body = await expect_envelope(resp, 200)
        assert body["data"]["following"] is False
    body = await listing(client, "/api/follows/followers", star)
    assert [u["user"]["id"] for u in body["data"]] == [prod_id]
    assert await db_conn.fetchval("SELECT count(*) FROM follows") == 2


async def test_follow_refusals(make_client, db_conn):
    client = await make_client()
    me_id, me = await user(client, "investor")
    other_id, _ = await user(client, "creator")
    # Well-formed, but the rule forbids it: 403, not a validation error (the schema cannot say it).
    resp = await client.post("/api/follows", json={"userId": me_id}, headers=hdr(me))
    await expect_envelope(resp, 403, "FORBIDDEN")
    resp = await client.post("/api/follows", json={"userId": 999999}, headers=hdr(me))
    await expect_envelope(resp, 404, "NOT_FOUND")
    for bad in ({}, {"userId": "abc"}, {"userId": 0}, {"userId": -3}, {"userId": 2**70}):
        resp = await client.post("/api/follows", json=bad, headers=hdr(me))
        await expect_envelope(resp, 422, "VALIDATION_ERROR")
    resp = await client.post("/api/follows", json={"userId": other_id})
    await expect_envelope(resp, 401, "UNAUTHORIZED")
    resp = await client.delete("/api/follows/999999", headers=hdr(me))
    await expect_envelope(resp, 404, "NOT_FOUND")
    resp = await client.delete("/api/follows/abc", headers=hdr(me))
    await expect_envelope(resp, 404, "NOT_FOUND")
    for path in ("/api/follows/following", "/api/follows/followers"):
        await listing(client, path, None, 401, "UNAUTHORIZED")
        await listing(client, path, me, 422, "VALIDATION_ERROR", limit=0)
    assert await db_conn.fetchval("SELECT count(*) FROM follows") == 0
    assert await db_conn.fetchval("SELECT count(*) FROM notifications") == 0


# ------------------------------------------------------------------------------------------
# the read cache
# ------------------------------------------------------------------------------------------


async def test_edit_then_read_returns_the_edit(make_client):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, inv = await user(client, "investor")
    pid = (await make_pitch(client, owner, title="Before", genre="Drama"))["id"]
    # Warm every cached read: anonymous detail, browse and trending.
    assert (await detail(client, pid))["data"]["title"] == "Before"
    assert (await browse(client))["data"][0]["title"] == "Before"
    assert (await listing(client, "/api/pitches/trending"))["data"][0]["title"] == "Before"

    await put(client, pid, owner, title="After", genre="Comedy")
    assert (await detail(client, pid))["data"]["title"] == "After"
    assert (await detail(client, pid, inv))["data"]["title"] == "After"
    assert (await browse(client))["data"][0]["title"] == "After"
    assert (await browse(client, genre="comedy"))["data"][0]["title"] == "After"
    assert (await listing(client, "/api/pitches/trending"))["data"][0]["title"] == "After"

    # Visibility edits take effect at once for cached readers too.
    await put(client, pid, owner, visibility="private")
    await detail(client, pid, None, 404)
    assert (await browse(client))["data"] == []
    assert (await listing(client, "/api/pitches/trending"))["data"] == []
    await put(client, pid, owner, visibility="public")
    assert ids(await browse(client)) == [pid]
    # A like shows in the (cached) detail right away; a new pitch in the cached browse page.
    await like(client, pid, inv)
    assert (await detail(client, pid))["data"]["likeCount"] == 1
    new = (await make_pitch(client, owner, title="Newer"))["id"]
    assert ids(await browse(client)) == [new, pid]
    await delete(client, new, owner)
    assert ids(await browse(client)) == [pid]
    await detail(client, new, None, 404)


async def test_ttl_cache_unit():
    now = [100.0]
    cache = TtlCache(max_entries=3, clock=lambda: now[0])
    assert await cache.set("a", 1, ttl=10, tags=("t1",))
    assert await cache.get("a") == 1
    now[0] += 10.01
    assert await cache.get("a") is None  # expired on the monotonic clock
    for k in "abcd":
        await cache.set(k, k, ttl=10, tags=("all", f"k:{k}"))
    assert len(cache) == 3 and await cache.get("a") is None  # bounded: oldest went
    await cache.get("b")  # touch b: c is now the least recently used
    await cache.set("e", "e", ttl=10)
    assert await cache.get("c") is None and await cache.get("b") == "b"
    await cache.invalidate_tags("k:b")
    assert await cache.get("b") is None and await cache.get("d") == "d"
    await cache.invalidate_prefix("d")
    assert await cache.get("d") is None and await cache.get("e") == "e"
    await cache.invalidate("e")
    assert len(cache) == 0
    # A read that raced an invalidation does not park its stale value.
    token = await cache.token(("pitch:1",))
    await cache.invalidate_tags("pitch:1")
    assert not await cache.set("pitch:1", "stale", ttl=10, tags=("pitch:1",), token=token)
    assert await cache.get("pitch:1") is None
    assert await cache.set(
        "pitch:1", "fresh", ttl=10, tags=("pitch:1",), token=await cache.token(("pitch:1",))
    )

    loads = []

    async def load():
        loads.append(1)
        return "v"

    assert await cached(cache, "x", load, ttl=5, tags=("t",)) == "v"
    assert await cached(cache, "x", load, ttl=5, tags=("t",)) == "v"
    assert len(loads) == 1
    with pytest.raises(ValueError):
        TtlCache(max_entries=0)


async def test_cache_generations_stay_bounded():
    cache = TtlCache(max_entries=2)
    token = await cache.token(("pitch:0",))
    for i in range(1, 50):
        await cache.invalidate_tags(f"pitch:{i}")
    assert len(cache._generation) <= 8
    # pitch:0's generation was never bumped, but forgetting others voids old tokens: safe side.
    assert not await cache.set("k", 1, ttl=5, tags=("pitch:0",), token=token)


# ------------------------------------------------------------------------------------------
# rooms follow visibility changes
# ------------------------------------------------------------------------------------------


async def test_visibility_change_unsubscribes_those_who_lost_access(make_client):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    inv_id, inv = await user(client, "investor")
    holder_id, holder = await user(client, "investor")
    creator_id, creator = await user(client, "creator")
    pid = (await make_pitch(client, owner, title="Live"))["id"]
    room = f"pitch:{pid}"
    nda = (await request_nda(client, pid, holder))["data"]
    await decide_nda(client, nda["id"], owner)
    conns = {}
    for name, token in (("owner", owner), ("inv", inv), ("holder", holder), ("creator", creator)):
        conns[name] = await connect(client, token)
        await conns[name].subscribe(room)

    # investors_only: the other creator loses the room; investors stay.
    await put(client, pid, owner, visibility="investors_only")
    err = await conns["creator"].expect("error", room)
    assert err["data"]["code"] == "FORBIDDEN"
    await conns["creator"].expect("unsubscribed", room)
    left = await conns["owner"].expect("user_left", room, where=lambda f: f["data"]["userId"] == creator_id)
    assert left["room"] == room

    # private: only the owner and the NDA holder remain.
    await put(client, pid, owner, visibility="private")
    err = await conns["inv"].expect("error", room)
    assert err["data"]["code"] == "FORBIDDEN"
    await conns["inv"].expect("unsubscribed", room)
    await conns["owner"].expect("user_left", room, where=lambda f: f["data"]["userId"] == inv_id)
    # Later events reach only those still allowed; the dropped ones may subscribe no more.
    await like(client, pid, holder)
    for name in ("owner", "holder"):
        ev = await conns[name].expect("like_update", room)
        assert ev["data"]["userId"] == holder_id
    for name in ("inv", "creator"):
        await conns[name].ping()
        assert not [f for f in conns[name].backlog if f.get("room") == room and f["type"] == "like_update"]
        assert await conns[name].subscribe_error(room) == "FORBIDDEN"
    # Their sessions forgot the room: posting is refused as not subscribed.
    cid = await conns["inv"].send("message", room, data={"text": "hello?"})
    assert (await conns["inv"].error_for(cid))["data"]["code"] == "NOT_SUBSCRIBED"

    # A title edit changes nobody's access: nobody is dropped.
    await put(client, pid, owner, title="Still live")
    await like(client, pid, holder, liked=False)
    await conns["holder"].expect("like_update", room, where=lambda f: f["data"]["liked"] is False)
    assert owner_id != holder_id

    # Deleting the pitch drops everyone, the owner included.
    await delete(client, pid, owner)
    for name in ("owner", "holder"):
        err = await conns[name].expect("error", room)
        assert err["data"]["code"] == "NOT_FOUND"
        await conns[name].expect("unsubscribed", room)

    def room_empty() -> bool:
        r = realtime(client).hub._rooms.get(room)
        return r is None or not r.subscribers

    await wait_until(room_empty, what="the deleted pitch's room to be empty")
