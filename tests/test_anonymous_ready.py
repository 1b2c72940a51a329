"""An anonymous detail read is served from a ready answer before any access decision (issue 16):
it is the answer an anonymous caller's own decision produced, kept under the pitch's tag, so
whatever changes the row (an edit that hides the pitch, a deletion, an NDA requirement) drops it.
Whoever warmed the cache, an anonymous caller never gets a protected field, a pitch it may not
see, or a stale page; and the answer is byte-for-byte the envelope of any other."""

from __future__ import annotations

import json
from typing import Any

from conftest import expect_envelope
from realtime_helpers import bearer, decide_nda, make_pitch, request_nda, user


async def anon(client: Any, path: str, status: int = 200, **headers: str) -> Any:
    resp = await client.get(path, headers=headers)
    return resp, await expect_envelope(resp, status)


async def test_hiding_or_deleting_a_pitch_ends_its_anonymous_answer_at_once(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    _, reader = await user(client, "investor")
    pid = (await make_pitch(client, owner, title="Open"))["id"]
    path = f"/api/pitches/{pid}"
    for _ in range(3):  # built, then served ready
        _, seen = await anon(client, path)
        assert seen["data"]["title"] == "Open"
    await expect_envelope(await client.put(path, json={"visibility": "private"}, headers=bearer(owner)), 200)
    await anon(client, path, 404)
    await anon(client, path, 404)
    await expect_envelope(await client.put(path, json={"visibility": "public"}, headers=bearer(owner)), 200)
    _, seen = await anon(client, path)
    assert seen["data"]["visibility"] == "public"
    # A signed-in reader warms the shared answer; the anonymous one follows the draft status too.
    await expect_envelope(await client.get(path, headers=bearer(reader)), 200)
    await anon(client, path)
    await expect_envelope(await client.put(path, json={"status": "draft"}, headers=bearer(owner)), 200)
    await anon(client, path, 404)
    await expect_envelope(await client.put(path, json={"status": "published"}, headers=bearer(owner)), 200)
    await anon(client, path)
    await expect_envelope(await client.delete(path, headers=bearer(owner)), 200)
    await anon(client, path, 404)


async def test_an_nda_holder_warming_the_cache_never_unlocks_the_anonymous_answer(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    _, holder = await user(client, "investor")
    pid = (await make_pitch(client, owner, title="Vault", requireNda=True, synopsis="Secret", budget="9.00"))[
        "id"
    ]
    nda = (await request_nda(client, pid, holder))["data"]
    await decide_nda(client, nda["id"], owner)
    path = f"/api/pitches/{pid}"
    unlocked = await expect_envelope(await client.get(path, headers=bearer(holder)), 200)
    assert unlocked["data"]["synopsis"] == "Secret"
    for _ in range(3):
        resp, seen = await anon(client, path)
        assert (seen["data"]["synopsis"], seen["data"]["budget"], seen["data"]["protected"]) == (
            None,
            None,
            True,
        )
        assert b"Secret" not in await resp.read()
    # Requiring an NDA afterwards locks a pitch whose open answer was cached.
    open_id = (await make_pitch(client, owner, title="Was open", synopsis="Plain"))["id"]
    _, seen = await anon(client, f"/api/pitches/{open_id}")
    assert seen["data"]["synopsis"] == "Plain"
    resp = await client.put(f"/api/pitches/{open_id}", json={"requireNda": True}, headers=bearer(owner))
    await expect_envelope(resp, 200)
    _, seen = await anon(client, f"/api/pitches/{open_id}")
    assert (seen["data"]["synopsis"], seen["data"]["protected"]) == (None, True)


async def test_the_ready_envelope_is_valid_json_with_the_callers_request_id(make_client: Any) -> None:
    client = await make_client()
    _, owner = await user(client, "creator")
    pid = (await make_pitch(client, owner, title="Ids"))["id"]
    path = f"/api/pitches/{pid}"
    await anon(client, path)
    resp, seen = await anon(client, path, **{"X-Request-Id": "trace-0123456789.abc_DEF"})
    assert seen["meta"]["requestId"] == "trace-0123456789.abc_DEF" == resp.headers["X-Request-Id"]
    raw = json.loads(await resp.read())
    assert list(raw) == ["success", "data", "meta"] and raw["meta"]["timestamp"].endswith("Z")
    etag = resp.headers["ETag"]
    not_modified = await client.get(path, headers={"If-None-Match": etag})
    assert not_modified.status == 304 and not_modified.headers["ETag"] == etag
    assert not_modified.headers["X-Request-Id"]
