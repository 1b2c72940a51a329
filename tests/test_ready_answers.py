"""Cached GET answers served as ready bytes with their ETag (issue 16): the same envelope as an
uncached answer, 304 on a match, no stale page after an edit, a like or a first view of the day,
and no protected field in an answer cached for someone who may not see it (whatever the order in
which callers warmed the cache)."""

from __future__ import annotations

from typing import Any

from conftest import expect_envelope
from realtime_helpers import decide_nda, like, make_pitch, request_nda, user


def hdr(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def get(client: Any, path: str, token: str | None = None, **headers: str) -> Any:
    return await client.get(path, headers={**hdr(token), **headers})


async def body(client: Any, path: str, token: str | None = None) -> dict[str, Any]:
    return await expect_envelope(await get(client, path, token), 200)


async def test_a_cached_detail_is_the_same_envelope_etag_and_304(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    pid = (await make_pitch(client, owner, title="Ready", synopsis="Plain"))["id"]
    path = f"/api/pitches/{pid}"
    first, second = await get(client, path), await get(client, path)
    a, b = await expect_envelope(first, 200), await expect_envelope(second, 200)
    assert a["data"] == b["data"] and a["data"]["title"] == "Ready"
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Content-Type"].startswith("application/json")
    assert second.headers["Cache-Control"] == "private, no-cache"
    assert set(b["meta"]) == {"requestId", "timestamp"}
    assert a["meta"]["requestId"] != b["meta"]["requestId"]
    assert b["meta"]["requestId"] == second.headers["X-Request-Id"]
    # What the owner sees, built for them without the ready cache, is the same pitch.
    mine = (await body(client, path, owner))["data"]
    assert mine.pop("saveCount") == 0
    assert {k: v for k, v in b["data"].items() if k != "saveCount"} == mine
    etag = second.headers["ETag"]
    not_modified = await get(client, path, **{"If-None-Match": etag})
    assert not_modified.status == 304 and not_modified.headers["ETag"] == etag
    assert await not_modified.read() == b""
    # An edit: the next read is the edit, with another ETag; the old one no longer matches.
    resp = await client.put(path, json={"title": "Edited"}, headers=hdr(owner))
    await expect_envelope(resp, 200)
    after = await get(client, path, **{"If-None-Match": etag})
    assert (await expect_envelope(after, 200))["data"]["title"] == "Edited"
    assert after.headers["ETag"] != etag


async def test_no_protected_field_in_a_cached_answer_whoever_warmed_it(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    _, holder = await user(client, "investor")
    _, other = await user(client, "investor")
    pid = (
        await make_pitch(client, owner, title="Vault", requireNda=True, synopsis="The secret", budget="5.00")
    )["id"]
    nda = (await request_nda(client, pid, holder))["data"]
    await decide_nda(client, nda["id"], owner)
    path = f"/api/pitches/{pid}"
    # The NDA holder warms the cache first; then everyone else reads, twice.
    for _ in range(2):
        seen = (await body(client, path, holder))["data"]
        assert seen["synopsis"] == "The secret" and seen["protected"] is False
    for token in (None, other, None, other):
        seen = (await body(client, path, token))["data"]
        assert (seen["synopsis"], seen["budget"], seen["protected"]) == (None, None, True), token
    # And the other way round after an edit empties the cache: the locked answer first.
    resp = await client.put(path, json={"title": "Vault 2"}, headers=hdr(owner))
    await expect_envelope(resp, 200)
    assert (await body(client, path))["data"]["synopsis"] is None
    seen = (await body(client, path, holder))["data"]
    assert (seen["title"], seen["synopsis"]) == ("Vault 2", "The secret")


async def test_counts_are_never_served_stale_from_a_ready_answer(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    _, one = await user(client, "investor")
    _, two = await user(client, "production")
    pid = (await make_pitch(client, owner, title="Counted"))["id"]
    path = f"/api/pitches/{pid}"
    assert (await body(client, path))["data"]["viewCount"] == 0  # cached now
    assert (await body(client, path, one))["data"]["viewCount"] == 1  # first view of the day
    assert (await body(client, path))["data"]["viewCount"] == 1
    assert (await body(client, path, one))["data"]["viewCount"] == 1  # not counted again
    assert (await body(client, path, two))["data"]["viewCount"] == 2
    assert (await body(client, path, one))["data"]["viewCount"] == 2
    await like(client, pid, one)
    assert (await body(client, path))["data"]["likeCount"] == 1


async def test_a_cached_browse_page_is_ready_bytes_and_never_stale(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    _, fan = await user(client, "investor")
    pids = [(await make_pitch(client, owner, title=f"P{i}"))["id"] for i in range(3)]
    path = "/api/pitches/browse?limit=2"
    first, second = await get(client, path), await get(client, path)
    a, b = await expect_envelope(first, 200), await expect_envelope(second, 200)
    assert a["data"] == b["data"] and len(b["data"]) == 2
    assert b["meta"]["pagination"] == a["meta"]["pagination"]
    assert b["meta"]["pagination"]["total"] == 3
    assert first.headers["ETag"] == second.headers["ETag"]
    assert (await get(client, path, **{"If-None-Match": second.headers["ETag"]})).status == 304
    # A like of a listed pitch invalidates its tag, and with it the cached page.
    listed = b["data"][0]["id"]
    await like(client, listed, fan)
    fresh = await body(client, path)
    assert {p["id"]: p["likeCount"] for p in fresh["data"]}[listed] == 1
    # An edit and a new pitch show at once.
    resp = await client.put(f"/api/pitches/{listed}", json={"title": "Renamed"}, headers=hdr(owner))
    await expect_envelope(resp, 200)
    assert "Renamed" in [p["title"] for p in (await body(client, path))["data"]]
    await make_pitch(client, owner, title="Newest")
    assert (await body(client, path))["meta"]["pagination"]["total"] == 4
    assert set(pids) >= {listed}


async def test_a_signed_in_browse_page_is_the_callers_own_and_follows_their_ndas(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    _, holder = await user(client, "investor")
    _, other = await user(client, "investor")
    pid = (
        await make_pitch(client, owner, title="Locked", requireNda=True, synopsis="Inside", budget="7.00")
    )["id"]
    path = "/api/pitches/browse"

    def locked(page: dict[str, Any]) -> tuple[Any, ...]:
        [p] = [p for p in page["data"] if p["id"] == pid]
        return p["synopsis"], p["budget"], p["protected"]

    for token in (holder, other, holder, other):  # both cached now, each their own
        assert locked(await body(client, path, token)) == (None, None, True)
    nda = (await request_nda(client, pid, holder))["data"]
    await decide_nda(client, nda["id"], owner)
    # The approval invalidated the holder's cached pages, and only theirs.
    synopsis, budget, protected = locked(await body(client, path, holder))
    assert (synopsis, protected) == ("Inside", False) and budget is not None
    assert locked(await body(client, path, other)) == (None, None, True)
    assert locked(await body(client, path)) == (None, None, True)
    # The owner's own drafts (another status) are never served from a cache.
    drafts = await body(client, "/api/pitches/browse?status=draft", owner)
    assert drafts["data"] == []
    draft = (await make_pitch(client, owner, title="Draft one", status="draft"))["id"]
    drafts = await body(client, "/api/pitches/browse?status=draft", owner)
    assert [p["id"] for p in drafts["data"]] == [draft]


async def test_a_like_is_refused_at_once_after_the_pitch_is_hidden(make_client: Any) -> None:
    """Likes check access from a cached summary that likes do not invalidate; an edit does."""
    client = await make_client()
    _, owner = await user(client, "creator")
    _, fan = await user(client, "investor")
    pid = (await make_pitch(client, owner, title="Likeable"))["id"]
    for _ in range(2):
        await like(client, pid, fan)
    resp = await client.delete(f"/api/pitches/{pid}/like", headers=hdr(fan))
    assert (await expect_envelope(resp, 200))["data"]["likeCount"] == 0
    resp = await client.put(f"/api/pitches/{pid}", json={"visibility": "private"}, headers=hdr(owner))
    await expect_envelope(resp, 200)
    resp = await client.post(f"/api/pitches/{pid}/like", json={}, headers=hdr(fan))
    assert resp.status in (403, 404), await resp.text()
    resp = await client.put(f"/api/pitches/{pid}", json={"visibility": "public"}, headers=hdr(owner))
    await expect_envelope(resp, 200)
    resp = await client.delete(f"/api/pitches/{pid}", headers=hdr(owner))
    await expect_envelope(resp, 200)
    resp = await client.post(f"/api/pitches/{pid}/like", json={}, headers=hdr(fan))
    assert resp.status == 404, await resp.text()
