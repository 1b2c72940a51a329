"""Pitch media: streamed multipart uploads checked by content, stored in a local directory or a real
S3-compatible server (moto on loopback), and served under the pitch's visibility and NDA rules."""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from s3server import ACCESS_KEY, REGION, SECRET_KEY, moto_s3_server
from yarl import URL

from pitchey.server.blobstore import InvalidKey, LocalBlobStore, S3BlobStore
from pitchey.server.routes.media import media_for_pitch, sniff
from pitchey.server.settings import SettingsError, load_settings
from pitchey.server.state import APP_STATE
from pitchey.storage.media import MediaLimitReached, MediaStore

MIB = 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Tiny valid files, built here
# ---------------------------------------------------------------------------------------------


def png_1x1() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8L" + struct.pack("<I", 10) + b"\x2f" + b"\x00" * 9
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02"
)


def mp4(payload_size: int = 16, brand: bytes = b"isom") -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + b"isomiso2"
    mdat = struct.pack(">I", 8 + payload_size) + b"mdat" + os.urandom(payload_size)
    return ftyp + mdat


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# Fixtures: the two backends
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Any:
    with moto_s3_server() as url:
        yield url


def s3_overrides(endpoint: str, bucket: str | None = None) -> dict[str, Any]:
    return {
        "s3_endpoint": endpoint,
        "s3_bucket": bucket or f"pitchey-t-{uuid.uuid4().hex[:12]}",
        "s3_access_key_id": ACCESS_KEY,
        "s3_secret_access_key": SECRET_KEY,
        "s3_region": REGION,
    }


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def media_client(make_client: Any, backend: str, request: pytest.FixtureRequest) -> Any:
    """``await media_client(**settings_overrides)``: a started client on the chosen backend."""

    async def make(**overrides: Any) -> Any:
        if backend == "s3":
            endpoint = request.getfixturevalue("s3_endpoint")
            values = {**s3_overrides(endpoint), **overrides}
        else:
            values = {"s3_endpoint": None, **overrides}
        return await make_client(**values)

    return make


def blobs(client: Any) -> Any:
    return client.app[APP_STATE].blobs


async def stored_keys(client: Any) -> list[str]:
    """Every object in the store, including half-written temporary files and open uploads."""
    store = blobs(client)
    keys = await store.keys()
    if isinstance(store, S3BlobStore):
        keys += [f"(pending) {k}" for k in await store.pending_uploads()]
    return keys


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


async def make_pitch(client: Any, token: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Night Train", "status": "published", "visibility": "public", **fields}
    resp = await client.post("/api/pitches", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 201, await resp.text()
    return (await resp.json())["data"]


def form(
    data: Any,
    kind: str | None,
    *,
    filename: str = "upload.bin",
    content_type: str = "application/octet-stream",
    protected: str | None = None,
    file_first: bool = False,
) -> aiohttp.MultipartWriter:
    mp = aiohttp.MultipartWriter("form-data")

    def add_fields() -> None:
        if kind is not None:
            mp.append(kind).set_content_disposition("form-data", name="kind")
        if protected is not None:
            mp.append(protected).set_content_disposition("form-data", name="protected")

    if not file_first:
        add_fields()
    if data is not None:
        part = mp.append(data, {"Content-Type": content_type})
        # As browsers send it: the filename raw (UTF-8), not percent-encoded.
        part.set_content_disposition("form-data", quote_fields=False, name="file", filename=filename)
    if file_first:
        add_fields()
    return mp


async def upload(
    client: Any, token: str | None, pitch_id: int, data: Any, kind: str | None, **kw: Any
) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post(f"/api/pitches/{pitch_id}/media", data=form(data, kind, **kw), headers=headers)


async def chunked(total: int, chunk: int = 256 * 1024, head: bytes = b"") -> AsyncIterator[bytes]:
    """A body of `total` bytes sent in chunks (no Content-Length: the server must stream it)."""
    yield head
    sent = len(head)
    while sent < total:
        n = min(chunk, total - sent)
        yield b"\x00" * n
        sent += n


async def fetch_media(
    client: Any, url: str, token: str | None = None, **headers: str
) -> tuple[int, bytes, aiohttp.ClientResponse]:
    """GET a media URL as a browser would: follow the S3 redirect to the presigned URL."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    resp = await client.get(url, headers=headers, allow_redirects=False)
    if resp.status == 302:
        location = resp.headers["Location"]
        assert resp.headers["Cache-Control"] == "private, no-store"
        async with aiohttp.ClientSession() as session, session.get(location) as r:
            return r.status, await r.read(), resp
    return resp.status, await resp.read(), resp


async def row_count(db_conn: Any) -> int:
    return int(await db_conn.fetchval("SELECT count(*) FROM pitch_media"))


# ---------------------------------------------------------------------------------------------
# Uploads
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "data", "ctype", "ext"),
    [
        ("poster", png_1x1(), "image/png", "png"),
        ("poster", JPEG, "image/jpeg", "jpg"),
        ("poster", WEBP, "image/webp", "webp"),
        ("deck", PDF, "application/pdf", "pdf"),
        ("video", mp4(), "video/mp4", "mp4"),
        ("video", mp4(brand=b"qt  "), "video/quicktime", "mov"),
        ("video", WEBM, "video/webm", "webm"),
    ],
)
async def test_upload_each_kind_and_download_it(
    media_client, register, expect, db_conn, backend, kind, data, ctype, ext
):
    client = await media_client()
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    # The client's filename and type are ignored for the check and the key.
    resp = await upload(
        client,
        token,
        pitch["id"],
        data,
        kind,
        filename='../../évil "name".bin',
        content_type="text/plain",
        protected="false",
    )
    out = (await expect(resp, 201))["data"]
    assert out["kind"] == kind and out["contentType"] == ctype and out["pitchId"] == pitch["id"]
    assert out["size"] == len(data) and out["sha256"] == sha(data)
    assert out["protected"] is False
    assert out["filename"] == "évil name.bin"
    key = out["url"].removeprefix("/api/media/")
    assert key.startswith(f"pitches/{pitch['id']}/") and key.endswith(f".{ext}")
    assert "evil" not in key and "vil" not in key
    assert await stored_keys(client) == [key]
    row = await db_conn.fetchrow("SELECT * FROM pitch_media WHERE id = $1", out["id"])
    assert row["storage_key"] == key and row["size_bytes"] == len(data)

    status, body, resp = await fetch_media(client, out["url"])  # anonymous: public pitch
    assert status == 200 and sha(body) == sha(data)
    if backend == "local":
        assert resp.headers["Content-Type"] == ctype
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        disp = resp.headers["Content-Disposition"]
        assert disp.startswith('inline; filename="') and "filename*=UTF-8''" in disp
        assert "/" not in disp.split("filename*=")[0] and '\\"' not in disp
    else:
        location = URL(resp.headers["Location"])
        assert location.query["X-Amz-Expires"] == "60"
        assert location.path.startswith(f"/{blobs(client).bucket}/{key}")


async def test_file_may_come_before_kind(media_client, register, expect):
    client = await media_client()
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    resp = await upload(client, token, pitch["id"], PDF, "deck", file_first=True)
    assert (await expect(resp, 201))["data"]["kind"] == "deck"


async def test_streamed_upload_larger_than_body_limit(media_client, register, expect, backend):
    """3 MiB through a chunked body (app client_max_size is 1 MiB): streamed, not buffered."""
    client = await media_client()
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    head = mp4()
    total = 3 * MIB
    expected = hashlib.sha256(head + b"\x00" * (total - len(head))).hexdigest()
    resp = await upload(client, token, pitch["id"], chunked(total, head=head), "video", filename="big.mp4")
    assert resp.request_info.headers.get("Content-Length") is None  # really chunked
    out = (await expect(resp, 201))["data"]
    assert out["size"] == total and out["sha256"] == expected
    status, body, _ = await fetch_media(client, out["url"])
    assert status == 200 and len(body) == total and sha(body) == expected
    if backend == "local":  # FileResponse answers ranges
        r = await client.get(out["url"], headers={"Range": "bytes=4-11"})
        assert r.status == 206 and await r.read() == b"ftypisom"


async def test_default_protection(media_client, register, expect):
    client = await media_client()
    _, token = await register(client, "creator")
    nda_pitch = await make_pitch(client, token, requireNda=True)
    open_pitch = await make_pitch(client, token)
    cases = [
        (nda_pitch, "poster", png_1x1(), None, False),
        (nda_pitch, "deck", PDF, None, True),
        (nda_pitch, "video", mp4(), None, True),
        (open_pitch, "deck", PDF, None, False),
        (open_pitch, "poster", png_1x1(), "true", True),
        (nda_pitch, "deck", PDF, "false", False),
    ]
    for pitch, kind, data, protected, want in cases:
        resp = await upload(client, token, pitch["id"], data, kind, protected=protected)
        assert (await expect(resp, 201))["data"]["protected"] is want, (kind, protected)


async def test_who_may_upload(media_client, register, expect, db_conn):
    client = await media_client()
    _, owner = await register(client, "creator")
    _, other = await register(client, "creator")
    _, investor = await register(client, "investor")
    _, production = await register(client, "production")
    public = await make_pitch(client, owner)
    draft = await make_pitch(client, owner, status="draft")
    png = png_1x1()
    await expect(await upload(client, None, public["id"], png, "poster"), 401, "UNAUTHORIZED")
    await expect(await upload(client, investor, public["id"], png, "poster"), 403, "FORBIDDEN")
    await expect(await upload(client, production, public["id"], png, "poster"), 403, "FORBIDDEN")
    # Another creator: may see the published pitch (403), may not know the draft exists (404).
    await expect(await upload(client, other, public["id"], png, "poster"), 403, "FORBIDDEN")
    await expect(await upload(client, other, draft["id"], png, "poster"), 404, "NOT_FOUND")
    await expect(await upload(client, owner, 999999, png, "poster"), 404, "NOT_FOUND")
    resp = await client.post(
        "/api/pitches/abc/media", data=form(png, "poster"), headers={"Authorization": f"Bearer {owner}"}
    )
    await expect(resp, 404, "NOT_FOUND")
    assert await stored_keys(client) == [] and await row_count(db_conn) == 0
    # The owner may, on the draft too.
    await expect(await upload(client, owner, draft["id"], png, "poster"), 201)


@pytest.mark.parametrize(
    ("label", "data", "kind", "filename", "ctype"),
    [
        ("PE executable", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120, "poster", "poster.png", "image/png"),
        ("ELF executable", b"\x7fELF\x02\x01\x01" + b"\x00" * 57, "poster", "poster.png", "image/png"),
        ("HTML", b"<!DOCTYPE html><script>alert(1)</script>", "poster", "poster.png", "image/png"),
        (
            "SVG",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "poster",
            "a.svg",
            "image/svg+xml",
        ),
        ("PNG as deck", png_1x1(), "deck", "deck.pdf", "application/pdf"),
        ("PDF as poster", PDF, "poster", "poster.jpg", "image/jpeg"),
        ("PDF as video", PDF, "video", "v.mp4", "video/mp4"),
        ("HEIC still as video", mp4(brand=b"heic"), "video", "v.mp4", "video/mp4"),
        ("zip", b"PK\x03\x04" + b"\x00" * 60, "deck", "deck.pdf", "application/pdf"),
    ],
)
async def test_disguised_file_is_415(
    media_client, register, expect, db_conn, label, data, kind, filename, ctype
):
    client = await media_client()
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    resp = await upload(client, token, pitch["id"], data, kind, filename=filename, content_type=ctype)
    await expect(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await stored_keys(client) == [] and await row_count(db_conn) == 0


async def test_kind_after_file_that_contradicts_it_leaves_nothing(media_client, register, expect, db_conn):
    client = await media_client()
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    resp = await upload(client, token, pitch["id"], PDF, "poster", file_first=True)
    await expect(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await stored_keys(client) == [] and await row_count(db_conn) == 0


async def test_oversized_upload_is_413_and_leaves_nothing(media_client, register, expect, db_conn):
    client = await media_client(media_max_poster=1024, media_max_video=512 * 1024)
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    big_png = png_1x1() + b"\x00" * 4096
    resp = await upload(client, token, pitch["id"], big_png, "poster")
    body = await expect(resp, 413, "PAYLOAD_TOO_LARGE")
    assert body["error"]["details"] == {"limit": 1024}
    # A chunked video: the server only learns the size by reading, and stops at the limit.
    resp = await upload(client, token, pitch["id"], chunked(3 * MIB, head=mp4()), "video")
    await expect(resp, 413, "PAYLOAD_TOO_LARGE")
    # Same when the file comes first (the limit of the sniffed kind applies).
    resp = await upload(client, token, pitch["id"], chunked(3 * MIB, head=mp4()), "video", file_first=True)
    await expect(resp, 413, "PAYLOAD_TOO_LARGE")
    assert await stored_keys(client) == [] and await row_count(db_conn) == 0
    # Exactly at the limit is fine.
    exact = png_1x1() + b"\x00" * (1024 - len(png_1x1()))
    await expect(await upload(client, token, pitch["id"], exact, "poster"), 201)


async def test_bad_forms(media_client, register, expect, db_conn):
    client = await media_client()
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/pitches/{pitch['id']}/media"
    resp = await client.post(url, data=png_1x1(), headers={**auth, "Content-Type": "image/png"})
    await expect(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    resp = await client.post(url, json={"kind": "poster"}, headers=auth)
    await expect(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    await expect(await upload(client, token, pitch["id"], png_1x1(), None), 422, "VALIDATION_ERROR")
    await expect(await upload(client, token, pitch["id"], None, "poster"), 422, "VALIDATION_ERROR")
    await expect(await upload(client, token, pitch["id"], png_1x1(), "trailer"), 422, "VALIDATION_ERROR")
    await expect(
        await upload(client, token, pitch["id"], png_1x1(), "poster", protected="maybe"),
        422,
        "VALIDATION_ERROR",
    )
    await expect(await upload(client, token, pitch["id"], b"", "poster"), 422, "VALIDATION_ERROR")
    # Two files in one form.
    mp = form(png_1x1(), "poster")
    mp.append(png_1x1()).set_content_disposition("form-data", name="file", filename="b.png")
    await expect(await client.post(url, data=mp, headers=auth), 422, "VALIDATION_ERROR")
    # A broken multipart body.
    resp = await client.post(
        url, data=b"--xyz\r\nnonsense", headers={**auth, "Content-Type": "multipart/form-data; boundary=abc"}
    )
    assert resp.status in (400, 422)
    assert await stored_keys(client) == [] and await row_count(db_conn) == 0


# ---------------------------------------------------------------------------------------------
# Listing and downloading: the pitch's rules
# ---------------------------------------------------------------------------------------------


async def approve_nda(client: Any, expect: Any, pitch_id: int, owner: str, requester: str) -> None:
    resp = await client.post(
        "/api/ndas/request", json={"pitchId": pitch_id}, headers={"Authorization": f"Bearer {requester}"}
    )
    nda = (await expect(resp, 201))["data"]
    resp = await client.post(
        f"/api/ndas/{nda['id']}/approve", json={}, headers={"Authorization": f"Bearer {owner}"}
    )
    await expect(resp, 200)


async def test_download_rules_and_nda(media_client, register, expect):
    client = await media_client()
    _, owner = await register(client, "creator")
    _, investor = await register(client, "investor")
    _, stranger = await register(client, "creator")
    pitch = await make_pitch(client, owner, requireNda=True)
    poster = (await expect(await upload(client, owner, pitch["id"], png_1x1(), "poster"), 201))["data"]
    deck = (await expect(await upload(client, owner, pitch["id"], PDF, "deck"), 201))["data"]
    assert poster["protected"] is False and deck["protected"] is True

    # The poster is public with its pitch; the deck needs an approved NDA.
    assert (await fetch_media(client, poster["url"]))[0] == 200
    for token in (None, investor, stranger):
        status, body, _ = await fetch_media(client, deck["url"], token)
        assert status == 403 and b"NDA_REQUIRED" in body, (token, body)
    status, body, _ = await fetch_media(client, deck["url"], owner)
    assert status == 200 and body == PDF

    # The list shows protected items only to those who may download them.
    async def listed(token: str | None) -> list[str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = await expect(await client.get(f"/api/pitches/{pitch['id']}/media", headers=headers), 200)
        assert body["meta"]["pagination"]["total"] == len(body["data"])
        return [m["kind"] for m in body["data"]]

    assert await listed(None) == ["poster"]
    assert await listed(investor) == ["poster"]
    assert await listed(owner) == ["poster", "deck"]

    await approve_nda(client, expect, pitch["id"], owner, investor)
    status, body, _ = await fetch_media(client, deck["url"], investor)
    assert status == 200 and sha(body) == sha(PDF)
    assert await listed(investor) == ["poster", "deck"]
    status, _, _ = await fetch_media(client, deck["url"], stranger)
    assert status == 403


async def test_invisible_pitch_hides_its_media(media_client, register, expect):
    client = await media_client()
    _, owner = await register(client, "creator")
    _, investor = await register(client, "investor")
    _, other = await register(client, "creator")
    draft = await make_pitch(client, owner, status="draft")
    closed = await make_pitch(client, owner, visibility="investors_only")
    d = (await expect(await upload(client, owner, draft["id"], png_1x1(), "poster"), 201))["data"]
    c = (await expect(await upload(client, owner, closed["id"], png_1x1(), "poster"), 201))["data"]
    for token in (None, investor, other):
        status, body, _ = await fetch_media(client, d["url"], token)
        assert status == 404 and b"NOT_FOUND" in body
        resp = await client.get(
            f"/api/pitches/{draft['id']}/media", headers={"Authorization": f"Bearer {token}"} if token else {}
        )
        await expect(resp, 404, "NOT_FOUND")
    assert (await fetch_media(client, d["url"], owner))[0] == 200
    # investors_only: anonymous 404, another creator 403, an investor may.
    assert (await fetch_media(client, c["url"]))[0] == 404
    assert (await fetch_media(client, c["url"], other))[0] == 403
    assert (await fetch_media(client, c["url"], investor))[0] == 200


async def test_list_pagination(media_client, register, expect):
    client = await media_client()
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    for _ in range(3):
        await expect(await upload(client, owner, pitch["id"], png_1x1(), "poster"), 201)
    body = await expect(await client.get(f"/api/pitches/{pitch['id']}/media?page=2&limit=2"), 200)
    assert len(body["data"]) == 1
    assert body["meta"]["pagination"] == {"page": 2, "limit": 2, "total": 3, "hasMore": False}
    await expect(await client.get(f"/api/pitches/{pitch['id']}/media?limit=0"), 422, "VALIDATION_ERROR")
    await expect(await client.get("/api/pitches/424242/media"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path",
    [
        "/api/media/pitches/1/00000000000000000000000000000000.png",  # well-formed, unknown
        "/api/media/pitches/1/../../../../etc/passwd",
        "/api/media/pitches/1/%2e%2e/%2e%2e/etc/passwd",
        "/api/media/pitches/1/..%2F..%2Fjwt_secret",
        "/api/media/..%2Fjwt_secret",
        "/api/media/.incoming/x.part",
        "/api/media/pitches/1/0123456789abcdef0123456789abcdef.exe",
        "/api/media/%2Fetc%2Fpasswd",
    ],
)
async def test_bad_or_unknown_key_is_404(media_client, register, expect, path):
    client = await media_client()
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    await expect(await upload(client, owner, pitch["id"], png_1x1(), "poster"), 201)
    resp = await client.get(
        URL(path, encoded=True), allow_redirects=False, headers={"Authorization": f"Bearer {owner}"}
    )
    await expect(resp, 404, "NOT_FOUND")


async def test_delete_media(media_client, register, expect, db_conn):
    client = await media_client()
    _, owner = await register(client, "creator")
    _, other = await register(client, "creator")
    _, investor = await register(client, "investor")
    pitch = await make_pitch(client, owner)
    second = await make_pitch(client, owner)
    media = (await expect(await upload(client, owner, pitch["id"], PDF, "deck"), 201))["data"]
    url = f"/api/pitches/{pitch['id']}/media/{media['id']}"

    def auth(t: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {t}"}

    await expect(await client.delete(url), 401, "UNAUTHORIZED")
    await expect(await client.delete(url, headers=auth(investor)), 403, "FORBIDDEN")
    await expect(await client.delete(url, headers=auth(other)), 403, "FORBIDDEN")
    # The id under another pitch (even the owner's own) is not found.
    await expect(
        await client.delete(f"/api/pitches/{second['id']}/media/{media['id']}", headers=auth(owner)),
        404,
        "NOT_FOUND",
    )
    assert len(await stored_keys(client)) == 1 and await row_count(db_conn) == 1

    body = await expect(await client.delete(url, headers=auth(owner)), 200)
    assert body["data"] == {"id": media["id"], "deleted": True}
    assert await stored_keys(client) == [] and await row_count(db_conn) == 0
    assert (await fetch_media(client, media["url"], owner))[0] == 404
    await expect(await client.delete(url, headers=auth(owner)), 404, "NOT_FOUND")


async def test_media_for_pitch(media_client, register, expect):
    client = await media_client()
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner, requireNda=True)
    await expect(await upload(client, owner, pitch["id"], png_1x1(), "poster"), 201)
    await expect(await upload(client, owner, pitch["id"], PDF, "deck"), 201)
    state = client.app[APP_STATE]
    public = await media_for_pitch(state, pitch["id"], show_protected=False)
    assert [m["kind"] for m in public] == ["poster"]
    assert set(public[0]) >= {"id", "kind", "url", "contentType", "size", "protected"}
    assert public[0]["url"].startswith("/api/media/pitches/")
    full = await media_for_pitch(state, pitch["id"], show_protected=True)
    assert [m["kind"] for m in full] == ["poster", "deck"]
    assert len(await stored_keys(client)) == 2
    # Deleting the pitch is the one way its media go (the rows cascade, the objects are removed).
    await expect(await client.delete(f"/api/pitches/{pitch['id']}", headers=_auth(owner)), 200)
    assert await stored_keys(client) == []
    assert await media_for_pitch(state, pitch["id"], show_protected=True) == []


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_delete_pitch_with_media_of_each_kind(media_client, register, expect, db_conn, backend):
    """Regression: DELETE /api/pitches/{id} on a pitch with media answered 500 and kept the pitch."""
    client = await media_client()
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner, requireNda=True)
    other = await make_pitch(client, owner)  # its media must survive
    keys = []
    for kind, data in (("poster", png_1x1()), ("deck", PDF), ("video", mp4())):
        out = (await expect(await upload(client, owner, pitch["id"], data, kind), 201))["data"]
        keys.append(out["url"].removeprefix("/api/media/"))
    kept = (await expect(await upload(client, owner, other["id"], JPEG, "poster"), 201))["data"]
    kept_key = kept["url"].removeprefix("/api/media/")
    assert sorted(await stored_keys(client)) == sorted([*keys, kept_key])
    # Read once so that the pitch detail and its media list sit in the read cache.
    await expect(await client.get(f"/api/pitches/{pitch['id']}", headers=_auth(owner)), 200)

    body = await expect(await client.delete(f"/api/pitches/{pitch['id']}", headers=_auth(owner)), 200)
    assert body["data"] == {"id": pitch["id"], "deleted": True}

    await expect(await client.get(f"/api/pitches/{pitch['id']}", headers=_auth(owner)), 404)
    await expect(await client.get(f"/api/pitches/{pitch['id']}/media", headers=_auth(owner)), 404)
    assert await stored_keys(client) == [kept_key]
    assert await db_conn.fetchval("SELECT count(*) FROM pitch_media WHERE pitch_id = $1", pitch["id"]) == 0
    store = blobs(client)
    for key in keys:
        assert not await store.exists(key)
        if backend == "local":
            assert not store.path(key).exists()
        assert (await fetch_media(client, f"/api/media/{key}", owner))[0] == 404
    status, data, _ = await fetch_media(client, kept["url"], owner)
    assert status == 200 and data == JPEG
    await expect(await client.delete(f"/api/pitches/{pitch['id']}", headers=_auth(owner)), 404)


async def test_delete_pitch_in_use_keeps_its_media(media_client, register, expect, db_conn):
    """A pitch that cannot be deleted (investments refer to it) keeps its media rows and objects."""
    client = await media_client()
    _, owner = await register(client, "creator")
    investor, _ = await register(client, "investor")
    pitch = await make_pitch(client, owner)
    out = (await expect(await upload(client, owner, pitch["id"], PDF, "deck"), 201))["data"]
    key = out["url"].removeprefix("/api/media/")
    await db_conn.execute(
        "INSERT INTO investments (investor_id, pitch_id, amount) VALUES ($1, $2, 5000)",
        investor["id"],
        pitch["id"],
    )
    await expect(await client.delete(f"/api/pitches/{pitch['id']}", headers=_auth(owner)), 409, "CONFLICT")
    assert await stored_keys(client) == [key]
    assert await row_count(db_conn) == 1
    status, data, _ = await fetch_media(client, out["url"], owner)
    assert status == 200 and data == PDF


async def test_upload_finishing_after_its_pitch_was_deleted_leaves_nothing(media_client, register, expect):
    """An upload still streaming when its pitch is deleted: 404 once done, and no object stays."""
    client = await media_client()
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    head_sent, go_on = asyncio.Event(), asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield PDF
        head_sent.set()
        await go_on.wait()
        yield b"\n" * 1024

    uploading = asyncio.create_task(upload(client, owner, pitch["id"], body(), "deck"))
    await asyncio.wait_for(head_sent.wait(), 10)
    await expect(await client.delete(f"/api/pitches/{pitch['id']}", headers=_auth(owner)), 200)
    go_on.set()
    await expect(await asyncio.wait_for(uploading, 10), 404, "NOT_FOUND")
    assert await stored_keys(client) == []


async def test_media_row_cap_and_missing_pitch(media_client, register, expect):
    """The store's own answers under the route's pre-check: full is an error, gone is None."""
    client = await media_client()
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    first = (await expect(await upload(client, owner, pitch["id"], PDF, "deck"), 201))["data"]
    store = MediaStore(client.app[APP_STATE].database)
    row = {
        "uploaded_by": (await store.get(first["id"])).uploaded_by,
        "kind": "deck",
        "content_type": "application/pdf",
        "size_bytes": len(PDF),
        "sha256": sha(PDF),
        "original_name": None,
        "protected": False,
    }
    with pytest.raises(MediaLimitReached):
        await store.create(
            pitch_id=pitch["id"], storage_key=f"pitches/{pitch['id']}/{'a' * 32}.pdf", max_per_pitch=1, **row
        )
    gone = await store.create(
        pitch_id=10**12, storage_key=f"pitches/{10**12}/{'b' * 32}.pdf", max_per_pitch=9, **row
    )
    assert gone is None
    assert [m.id for m in await store.for_pitch(pitch["id"], include_protected=True)] == [first["id"]]


async def test_openapi_documents_multipart_and_download(media_client):
    client = await media_client()
    doc = await (await client.get("/api/openapi.json")).json()
    up = doc["paths"]["/api/pitches/{id}/media"]["post"]
    schema = up["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(schema["required"]) == {"file", "kind"}
    assert schema["properties"]["kind"]["enum"] == ["poster", "deck", "video"]
    assert {"201", "403", "404", "413", "415"} <= set(up["responses"])
    down = doc["paths"]["/api/media/{key}"]["get"]
    assert {"200", "302", "403", "404"} <= set(down["responses"])
    assert "application/json" not in down["responses"]["200"]["content"]


# ---------------------------------------------------------------------------------------------
# The stores themselves
# ---------------------------------------------------------------------------------------------


async def _failing_stream(total: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"\x01" * MIB
        sent += MIB
    raise RuntimeError("client went away")


async def test_s3_store_multipart_upload_and_abort(s3_endpoint):
    store = S3BlobStore(
        endpoint=s3_endpoint,
        bucket=f"pitchey-t-{uuid.uuid4().hex[:12]}",
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        region=REGION,
        part_size=5 * MIB,
    )
    await store.start()  # creates the bucket
    try:
        data = os.urandom(11 * MIB + 123)  # three parts: 5 + 5 + 1 MiB

        async def stream() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 300_000):
                yield data[i : i + 300_000]

        await store.put_stream("pitches/1/big.mp4", stream(), "video/mp4")
        assert await store.exists("pitches/1/big.mp4")
        got = await store.client.get_object(Bucket=store.bucket, Key="pitches/1/big.mp4")
        async with got["Body"] as body:
            assert sha(await body.read()) == sha(data)
        assert got["ContentType"] == "video/mp4"

        with pytest.raises(RuntimeError):
            await store.put_stream("pitches/1/broken.mp4", _failing_stream(7 * MIB), "video/mp4")
        assert await store.keys() == ["pitches/1/big.mp4"]
        assert await store.pending_uploads() == []
        assert not await store.exists("pitches/1/broken.mp4")
        assert await store.check() == "ok"

        await store.delete("pitches/1/big.mp4")
        await store.delete("pitches/1/big.mp4")  # idempotent
        assert await store.keys() == []
        with pytest.raises(InvalidKey):
            await store.delete("../outside")
    finally:
        await store.close()


async def test_local_store_keys_cannot_escape(tmp_path):
    store = LocalBlobStore(tmp_path / "media")
    await store.start()
    for bad in (
        "../x",
        "pitches/1/../../../x",
        "/etc/passwd",
        "pitches//x",
        "pitches/./x",
        "",
        ".incoming/a.part",
        "a\\..\\b",
        "pitches/1/x\x00.png",
    ):
        with pytest.raises(InvalidKey):
            store.path(bad)
        assert not await store.exists(bad)

    async def stream() -> AsyncIterator[bytes]:
        yield b"abc"
        raise RuntimeError("dropped")

    with pytest.raises(RuntimeError):
        await store.put_stream("pitches/1/a.png", stream(), "image/png")
    assert await store.keys() == []
    assert (tmp_path / "media" / ".incoming").is_dir()


async def test_s3_bucket_is_created_on_start(make_client, s3_endpoint):
    bucket = f"pitchey-t-{uuid.uuid4().hex[:12]}"
    client = await make_client(**s3_overrides(s3_endpoint, bucket))
    store = blobs(client)
    assert isinstance(store, S3BlobStore)
    await store.client.head_bucket(Bucket=bucket)
    body = await (await client.get("/ready")).json()
    assert body["data"]["checks"]["media"] == "ok"


def test_s3_settings_must_be_complete():
    with pytest.raises(SettingsError, match=r"S3_ENDPOINT.*S3_BUCKET"):
        load_settings(s3_endpoint="http://127.0.0.1:9000")
    with pytest.raises(SettingsError, match="S3_ENDPOINT"):
        load_settings(s3_endpoint="ftp://x", s3_bucket="abc", s3_access_key_id="a", s3_secret_access_key="b")
    s = load_settings(
        s3_endpoint="http://127.0.0.1:9000/", s3_bucket="abc", s3_access_key_id="a", s3_secret_access_key="b"
    )
    assert s.s3_endpoint == "http://127.0.0.1:9000" and "b" not in repr(s.s3_secret_access_key)


def test_sniff_table():
    assert sniff(png_1x1()[:64]).content_type == "image/png"  # type: ignore[union-attr]
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska") is None
    assert sniff(b"RIFF\x00\x00\x00\x00AVI LIST") is None
    assert sniff(b"") is None


async def test_dropped_connection_leaves_nothing(
    media_client, register, expect, db_conn, backend, log_capture
):
    """A client that vanishes mid-upload: the partial object is thrown away, no row is written."""
    logs = log_capture("text", "INFO")
    client = await media_client()
    _, token = await register(client, "creator")
    pitch = await make_pitch(client, token)
    boundary = "droppedboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nvideo\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="v.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode() + mp4()
    _, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(
        (
            f"POST /api/pitches/{pitch['id']}/media HTTP/1.1\r\n"
            f"Host: {client.server.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {10 * MIB}\r\n\r\n"
        ).encode()
        + head
    )
    for _ in range(8):  # 2 MiB of the promised 10, then hang up
        writer.write(b"\x00" * (256 * 1024))
        await writer.drain()
    await asyncio.sleep(0.2)
    if backend == "local":  # mid-stream: the partial file exists ...
        assert any(k.startswith(".incoming/") for k in await stored_keys(client))
    writer.close()
    for _ in range(100):
        await asyncio.sleep(0.05)
        if await stored_keys(client) == []:
            break
    # ... and is gone once the server notices; an interrupted upload is no server error.
    assert await stored_keys(client) == [] and await row_count(db_conn) == 0
    assert "unhandled error" not in logs.getvalue()


async def test_pitch_detail_lists_media_and_hides_protected_items(make_client, register, auth_headers):
    """The media list in GET /api/pitches/{id} follows the same NDA rule as synopsis and budget."""
    client = await make_client()
    _, owner = await register(client, "creator")
    resp = await client.post(
        "/api/pitches",
        json={"title": "With media", "status": "published", "requireNda": True},
        headers=auth_headers(owner),
    )
    pitch_id = (await resp.json())["data"]["id"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    pdf = b"%PDF-1.4\n" + b"x" * 64
    for kind, data, name in (("poster", png, "p.png"), ("deck", pdf, "d.pdf")):
        form = aiohttp.FormData()
        form.add_field("kind", kind)
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
        up = await client.post(f"/api/pitches/{pitch_id}/media", data=form, headers=auth_headers(owner))
        assert up.status == 201, await up.text()
    mine = (await (await client.get(f"/api/pitches/{pitch_id}", headers=auth_headers(owner))).json())["data"]
    assert sorted(m["kind"] for m in mine["media"]) == ["deck", "poster"]
    _, investor = await register(client, "investor")
    theirs = (await (await client.get(f"/api/pitches/{pitch_id}", headers=auth_headers(investor))).json())[
        "data"
    ]
    assert [m["kind"] for m in theirs["media"]] == ["poster"]  # the deck follows requireNda


# ---------------------------------------------------------------------------------------------
# Protection per item, range requests, framing, posters on list pages
# ---------------------------------------------------------------------------------------------


async def test_owner_marks_an_item_protected_or_public(media_client, register, expect):
    client = await media_client()
    _, owner = await register(client, "creator")
    _, investor = await register(client, "investor")
    _, other = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    second = await make_pitch(client, owner)
    deck = (await expect(await upload(client, owner, pitch["id"], PDF, "deck"), 201))["data"]
    assert deck["protected"] is False
    url = f"/api/pitches/{pitch['id']}/media/{deck['id']}"

    def auth(t: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {t}"}

    # Refusals: anonymous, the wrong portal, another creator, another pitch's id, bad bodies.
    await expect(await client.patch(url, json={"protected": True}), 401, "UNAUTHORIZED")
    await expect(await client.patch(url, json={"protected": True}, headers=auth(investor)), 403, "FORBIDDEN")
    body = await expect(
        await client.patch(url, json={"protected": True}, headers=auth(other)), 403, "FORBIDDEN"
    )
    assert "owner" in body["error"]["message"]
    await expect(
        await client.patch(
            f"/api/pitches/{second['id']}/media/{deck['id']}", json={"protected": True}, headers=auth(owner)
        ),
        404,
        "NOT_FOUND",
    )
    await expect(
        await client.patch(
            f"/api/pitches/{pitch['id']}/media/999999", json={"protected": True}, headers=auth(owner)
        ),
        404,
        "NOT_FOUND",
    )
    for bad in ({}, {"protected": "maybe"}, {"protected": None}, {"protected": True, "kind": "poster"}):
        await expect(await client.patch(url, json=bad, headers=auth(owner)), 422, "VALIDATION_ERROR")
    assert (await fetch_media(client, deck["url"], investor))[0] == 200  # nothing changed yet

    # NDA-only: a stranger loses the file and its list entry, at once (the detail's cache too).
    detail = await expect(await client.get(f"/api/pitches/{pitch['id']}", headers=auth(investor)), 200)
    assert [m["kind"] for m in detail["data"]["media"]] == ["deck"]
    out = (await expect(await client.patch(url, json={"protected": True}, headers=auth(owner)), 200))["data"]
    assert out["id"] == deck["id"] and out["protected"] is True and out["url"] == deck["url"]
    status, body_bytes, _ = await fetch_media(client, deck["url"], investor)
    assert status == 403 and b"NDA_REQUIRED" in body_bytes
    detail = await expect(await client.get(f"/api/pitches/{pitch['id']}", headers=auth(investor)), 200)
    assert detail["data"]["media"] == []
    assert (await fetch_media(client, deck["url"], owner))[0] == 200

    # And public again.
    out = (await expect(await client.patch(url, json={"protected": False}, headers=auth(owner)), 200))["data"]
    assert out["protected"] is False
    assert (await fetch_media(client, deck["url"]))[0] == 200


async def test_local_download_answers_ranges(make_client, register, expect):
    """Seeking in a <video>: Range → 206 with Content-Range, Accept-Ranges: bytes, 416 beyond the end."""
    client = await make_client(s3_endpoint=None)
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    data = mp4(payload_size=4000)
    video = (await expect(await upload(client, owner, pitch["id"], data, "video"), 201))["data"]
    whole = await client.get(video["url"])
    assert whole.status == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert await whole.read() == data

    part = await client.get(video["url"], headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["Content-Type"] == "video/mp4"
    assert await part.read() == data[100:200]

    tail = await client.get(video["url"], headers={"Range": "bytes=-50"})
    assert tail.status == 206 and await tail.read() == data[-50:]
    opened = await client.get(video["url"], headers={"Range": f"bytes={len(data) - 10}-"})
    assert opened.status == 206 and await opened.read() == data[-10:]

    beyond = await client.get(video["url"], headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"

    # The access check runs on ranged requests too.
    await expect(
        await client.patch(
            f"/api/pitches/{pitch['id']}/media/{video['id']}",
            json={"protected": True},
            headers={"Authorization": f"Bearer {owner}"},
        ),
        200,
    )
    refused = await client.get(video["url"], headers={"Range": "bytes=0-9"})
    assert refused.status == 403


async def test_s3_download_redirect_answers_ranges(make_client, register, expect, s3_endpoint):
    """On S3 the presigned URL is the store's own GET, which honours Range itself."""
    client = await make_client(**s3_overrides(s3_endpoint))
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    data = mp4(payload_size=4000)
    video = (await expect(await upload(client, owner, pitch["id"], data, "video"), 201))["data"]
    resp = await client.get(video["url"], allow_redirects=False)
    assert resp.status == 302
    location = resp.headers["Location"]
    async with (
        aiohttp.ClientSession() as session,
        session.get(location, headers={"Range": "bytes=100-199"}) as r,
    ):
        assert r.status == 206
        assert r.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
        assert await r.read() == data[100:200]


async def test_media_may_be_framed_by_our_pages_only(make_client, register, expect):
    """The pitch page shows the deck in an <iframe>: the file allows our origin to frame it, and
    the app's HTML still refuses every frame."""
    client = await make_client(s3_endpoint=None)
    _, owner = await register(client, "creator")
    pitch = await make_pitch(client, owner)
    deck = (await expect(await upload(client, owner, pitch["id"], PDF, "deck"), 201))["data"]
    resp = await client.get(deck["url"])
    assert resp.status == 200
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert resp.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert resp.headers["Content-Disposition"].startswith("inline;")


async def _set_protected(client: Any, token: str, media: dict[str, Any], protected: bool) -> None:
    resp = await client.patch(
        f"/api/pitches/{media['pitchId']}/media/{media['id']}",
        json={"protected": protected},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 200, await resp.text()


async def test_list_pages_carry_the_poster_the_caller_may_see(make_client, register, expect, db_conn):
    client = await make_client(s3_endpoint=None)
    _, owner = await register(client, "creator")
    _, investor = await register(client, "investor")
    _, holder = await register(client, "investor")

    def auth(t: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {t}"} if t else {}

    tag = uuid.uuid4().hex[:8]
    public = await make_pitch(client, owner, title=f"Poster public {tag}")
    locked = await make_pitch(client, owner, title=f"Poster locked {tag}", requireNda=True)
    bare = await make_pitch(client, owner, title=f"Poster none {tag}")
    old = (await expect(await upload(client, owner, public["id"], JPEG, "poster"), 201))["data"]
    new = (await expect(await upload(client, owner, public["id"], png_1x1(), "poster"), 201))["data"]
    hidden = (
        await expect(await upload(client, owner, locked["id"], png_1x1(), "poster", protected="true"), 201)
    )["data"]
    assert hidden["protected"] is True and old["url"] != new["url"]
    await approve_nda(client, expect, locked["id"], owner, holder)
    await expect(await client.post(f"/api/pitches/{public['id']}/save", headers=auth(investor)), 201)

    async def posters(path: str, token: str | None) -> dict[int, str | None]:
        body = await expect(await client.get(path, headers=auth(token)), 200)
        items = [d.get("pitch", d) for d in body["data"]]
        return {p["id"]: p["posterUrl"] for p in items if p["id"] in (public["id"], locked["id"], bare["id"])}

    browse = f"/api/pitches/browse?q={tag}&limit=50"
    want_stranger = {public["id"]: new["url"], locked["id"]: None, bare["id"]: None}
    assert await posters(browse, None) == want_stranger  # the newest poster; the protected one withheld
    assert await posters(browse, investor) == want_stranger
    assert await posters(browse, holder) == {**want_stranger, locked["id"]: hidden["url"]}
    assert await posters("/api/pitches/my?limit=100", owner) == {**want_stranger, locked["id"]: hidden["url"]}
    trending = await posters("/api/pitches/trending?limit=100", None)
    assert trending.get(locked["id"]) is None and trending.get(public["id"], new["url"]) == new["url"]
    assert await posters("/api/saved-pitches", investor) == {public["id"]: new["url"]}
    profile = await expect(await client.get(f"/api/users/{public['userId']}", headers=auth(investor)), 200)
    assert {p["id"]: p["posterUrl"] for p in profile["data"]["pitches"]} == want_stranger

    # A poster marked protected later disappears from a stranger's cards; deleting the newest
    # brings back the older one.
    await _set_protected(client, owner, new, True)
    assert (await posters(browse, None))[public["id"]] == old["url"]
    await expect(
        await client.delete(f"/api/pitches/{public['id']}/media/{old['id']}", headers=auth(owner)), 200
    )
    assert (await posters(browse, None))[public["id"]] is None
    assert (await posters(browse, owner))[public["id"]] == new["url"]


async def test_poster_lookup_is_one_query_per_page(make_client, register, expect, db_conn):
    """The posters of a page come from one batched query, however many rows the page has."""
    client = await make_client(s3_endpoint=None)
    _, owner = await register(client, "creator")
    store = MediaStore(client.app[APP_STATE].database)
    ids = [(await make_pitch(client, owner, title=f"Batch {i}"))["id"] for i in range(5)]
    for pid in ids[:3]:
        await expect(await upload(client, owner, pid, png_1x1(), "poster"), 201)
    # A spy around the real Database.fetch (it still runs every query), counting media lookups.
    calls: list[int] = []
    real_fetch = store.db.fetch

    async def counting_fetch(sql: str, *args: Any) -> Any:
        if "pitch_media" in sql:
            calls.append(1)
        return await real_fetch(sql, *args)

    store.db.fetch = counting_fetch  # type: ignore[method-assign]
    try:
        body = await expect(
            await client.get("/api/pitches/my?limit=20", headers={"Authorization": f"Bearer {owner}"}), 200
        )
    finally:
        del store.db.fetch
    assert sum(1 for p in body["data"] if p["posterUrl"]) == 3
    assert len(calls) == 1
