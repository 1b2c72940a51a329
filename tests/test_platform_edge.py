"""The seed's edge features on one machine: conditional requests, compression, write rate limits,
and the human-readable API reference."""

from __future__ import annotations

import gzip


async def _published_pitch(client, register, auth_headers, **fields):
    _, token = await register(client, "creator")
    body = {"title": "Edge", "status": "published", "synopsis": "x" * 1500, **fields}
    resp = await client.post("/api/pitches", json=body, headers=auth_headers(token))
    assert resp.status == 201
    return (await resp.json())["data"], token


async def test_etag_and_304_on_unchanged_get(client, register, auth_headers):
    pitch, token = await _published_pitch(client, register, auth_headers)
    first = await client.get(f"/api/pitches/{pitch['id']}", headers=auth_headers(token))
    assert first.status == 200
    etag = first.headers["ETag"]
    again = await client.get(
        f"/api/pitches/{pitch['id']}", headers={**auth_headers(token), "If-None-Match": etag}
    )
    assert again.status == 304
    assert again.headers["ETag"] == etag
    assert await again.read() == b""
    # A change to the data changes the tag: the client gets the new body.
    like = await client.post(f"/api/pitches/{pitch['id']}/like", json={}, headers=auth_headers(token))
    assert like.status == 200
    changed = await client.get(
        f"/api/pitches/{pitch['id']}", headers={**auth_headers(token), "If-None-Match": etag}
    )
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert (await changed.json())["data"]["likeCount"] == 1


async def test_no_etag_on_errors_or_writes(client, register, auth_headers):
    _, token = await register(client, "creator")
    missing = await client.get("/api/pitches/999999", headers=auth_headers(token))
    assert missing.status == 404
    assert "ETag" not in missing.headers
    created = await client.post("/api/pitches", json={"title": "t"}, headers=auth_headers(token))
    assert created.status == 201
    assert "ETag" not in created.headers


async def test_large_json_is_compressed_when_asked(client, register, auth_headers):
    pitch, token = await _published_pitch(client, register, auth_headers)
    resp = await client.get(
        f"/api/pitches/{pitch['id']}",
        headers={**auth_headers(token), "Accept-Encoding": "gzip"},
        auto_decompress=False,
    )
    assert resp.status == 200
    assert resp.headers.get("Content-Encoding") == "gzip"
    raw = await resp.read()
    assert b"Edge" in gzip.decompress(raw)
    plain = await client.get(
        f"/api/pitches/{pitch['id']}",
        headers={**auth_headers(token), "Accept-Encoding": "identity"},
        auto_decompress=False,
    )
    assert "Content-Encoding" not in plain.headers
    assert (await plain.json())["data"]["title"] == "Edge"


async def test_small_json_is_not_compressed(client):
    resp = await client.get("/health", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert "Content-Encoding" not in resp.headers


async def test_writes_are_rate_limited_per_user(make_client, register, auth_headers, expect):
    client = await make_client(write_user_limit="3/minute")
    pitch, token = await _published_pitch(client, register, auth_headers)  # write 1
    for _ in range(2):
        r = await client.post(f"/api/pitches/{pitch['id']}/like", json={}, headers=auth_headers(token))
        assert r.status == 200
    resp = await client.post(f"/api/pitches/{pitch['id']}/like", json={}, headers=auth_headers(token))
    body = await expect(resp, 429, "RATE_LIMITED")
    assert int(resp.headers["Retry-After"]) >= 1
    assert body["error"]["details"]["retryAfter"] >= 1
    # Reads are not write-limited, and another user has their own budget.
    assert (await client.get(f"/api/pitches/{pitch['id']}", headers=auth_headers(token))).status == 200
    _, other = await register(client, "investor")
    r = await client.post(f"/api/pitches/{pitch['id']}/like", json={}, headers=auth_headers(other))
    assert r.status == 200


async def test_writes_are_rate_limited_per_ip(make_client, register, auth_headers, expect):
    client = await make_client(write_ip_limit="2/minute")
    pitch, token = await _published_pitch(client, register, auth_headers)  # write 1 (auth is exempt)
    _, other = await register(client, "investor")
    r = await client.post(f"/api/pitches/{pitch['id']}/like", json={}, headers=auth_headers(other))
    assert r.status == 200
    resp = await client.post(f"/api/pitches/{pitch['id']}/like", json={}, headers=auth_headers(token))
    await expect(resp, 429, "RATE_LIMITED")


async def test_docs_page_lists_every_route(client):
    resp = await client.get("/api/docs")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    html = await resp.text()
    doc = await (await client.get("/api/openapi.json")).json()
    for path in doc["paths"]:
        assert f"<code>{path}</code>" in html
    assert "<script" not in html
