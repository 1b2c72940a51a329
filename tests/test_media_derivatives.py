"""Media derivatives as background jobs: real server, real worker, real PostgreSQL, the local blob
store (and one case on a real S3-compatible server, moto on loopback).

- a poster gets 320 and 800 px WEBP thumbnails (decoded here with Pillow), served under exactly
  the pitch's rules, listed in the media items, the detail and the list pages' posterSrcset;
- a small original is never enlarged; a deck gets its first page as a preview, a video a frame;
- an undecodable poster fails its job once (no retry) and the worker goes on;
- deleting a media item or its pitch removes the derivative objects; the job may run twice;
- the job of an upload that rolled back never exists.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from importlib import resources
from typing import Any

import aiohttp
import asyncpg
import av
import orjson
import pytest
from PIL import Image
from realtime_helpers import bearer, make_pitch, user, wait_until
from s3server import ACCESS_KEY, REGION, SECRET_KEY, moto_s3_server

from pitchey.server.state import APP_STATE
from pitchey.server.tasks.media import derive

FAST_WORKER = {"job_worker": True, "job_poll": 0.2, "job_heartbeat": 0.5, "job_stalled_after": 2.0}


# ---------------------------------------------------------------------------------------------
# Files made here
# ---------------------------------------------------------------------------------------------


def jpeg(width: int, height: int, colour: tuple[int, int, int] = (200, 40, 40), **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (20, 120, 220, 255)).save(out, "PNG")
    return out.getvalue()


def pdf(width: int = 600, height: int = 800) -> bytes:
    """A one-page PDF (Pillow writes the page at 72 dpi: `width` x `height` points)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 250, 250)).save(out, "PDF")
    return out.getvalue()


def mp4(seconds: int = 2, fps: int = 10) -> bytes:
    """An MPEG-4 video whose green channel counts the frames (the frame at 1 s is green 120)."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(seconds * fps):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), (0, i * 12, 0)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


# A PNG's magic bytes and then garbage: accepted at upload (content is sniffed by its first bytes),
# impossible to decode.
BROKEN_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


def webp(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "WEBP", img.format
    img.load()
    return img


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def auth(token: str | None) -> dict[str, str]:
    return bearer(token) if token else {}


async def upload(
    client: Any, token: str, pitch_id: int, data: bytes, kind: str, protected: str | None = None
) -> dict[str, Any]:
    mp = aiohttp.MultipartWriter("form-data")
    mp.append(kind).set_content_disposition("form-data", name="kind")
    if protected is not None:
        mp.append(protected).set_content_disposition("form-data", name="protected")
    mp.append(data, {"Content-Type": "application/octet-stream"}).set_content_disposition(
        "form-data", name="file", filename=f"{kind}.bin"
    )
    resp = await client.post(f"/api/pitches/{pitch_id}/media", data=mp, headers=bearer(token))
    body = await resp.json()
    assert resp.status == 201, body
    return dict(body["data"])


async def fetch(client: Any, url: str, token: str | None = None) -> tuple[int, bytes, str]:
    """GET a media URL as a browser would (following the S3 redirect): status, body, type."""
    resp = await client.get(url, headers=auth(token), allow_redirects=False)
    if resp.status == 302:
        async with aiohttp.ClientSession() as session, session.get(resp.headers["Location"]) as r:
            return r.status, await r.read(), r.headers.get("Content-Type", "")
    return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


async def job_status(db: asyncpg.Connection, media_id: int) -> str | None:
    status = await db.fetchval(
        """SELECT status::text FROM procrastinate_jobs
           WHERE task_name = 'media.derive' AND args->>'mediaId' = $1""",
        str(media_id),
    )
    return None if status is None else str(status)


async def derived(db: asyncpg.Connection, media_id: int, status: str = "succeeded") -> dict[str, Any]:
    """Wait for the item's job to end as `status`; its recorded derivatives."""

    async def done() -> bool:
        now = await job_status(db, media_id)
        assert now not in ({"succeeded", "failed"} - {status}), f"media {media_id}'s job {now}"
        return now == status

    await wait_until(done, timeout=30, interval=0.1, what=f"media {media_id}'s job {status}")
    raw = await db.fetchval("SELECT derivatives FROM pitch_media WHERE id = $1", media_id)
    return dict(orjson.loads(raw))


async def media_item(client: Any, token: str | None, pitch_id: int, media_id: int) -> dict[str, Any]:
    resp = await client.get(f"/api/pitches/{pitch_id}/media?limit=100", headers=auth(token))
    body = await resp.json()
    assert resp.status == 200, body
    return next(m for m in body["data"] if m["id"] == media_id)


async def approve_nda(client: Any, pitch_id: int, owner: str, requester: str) -> None:
    resp = await client.post("/api/ndas/request", json={"pitchId": pitch_id}, headers=bearer(requester))
    nda = (await resp.json())["data"]
    assert resp.status == 201, nda
    resp = await client.post(f"/api/ndas/{nda['id']}/approve", json={}, headers=bearer(owner))
    assert resp.status == 200, await resp.text()


async def keys(client: Any) -> list[str]:
    return list(await client.app[APP_STATE].blobs.keys())


# ---------------------------------------------------------------------------------------------
# Posters
# ---------------------------------------------------------------------------------------------


async def test_a_poster_gets_thumbnails_served_under_its_pitchs_rules(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client(**FAST_WORKER)
    _, owner = await user(client, "creator")
    _, investor = await user(client, "investor")
    _, holder = await user(client, "investor")
    tag = uuid.uuid4().hex[:8]
    pitch = await make_pitch(client, owner, title=f"Thumbs {tag}", requireNda=True)
    # Stored sideways (EXIF orientation 6): shown 1200 wide and 1800 tall.
    exif = Image.Exif()
    exif[0x0112] = 6
    item = await upload(client, owner, pitch["id"], jpeg(1800, 1200, exif=exif), "poster", protected="true")
    # The detail is read (and cached) before the job ran: the job must drop that cache.
    resp = await client.get(f"/api/pitches/{pitch['id']}", headers=bearer(owner))
    assert resp.status == 200

    recorded = await derived(db_conn, item["id"])
    assert recorded["original"] == {"width": 1200, "height": 1800}
    assert {v: (d["width"], d["height"]) for v, d in recorded.items() if v != "original"} == {
        "w320": (320, 480),
        "w800": (800, 1200),
    }
    listed = await media_item(client, owner, pitch["id"], item["id"])
    base = f"/api/media/{item['url'].removeprefix('/api/media/')}"
    assert listed["thumbnails"] == [
        {"url": f"{base}.w320.webp", "width": 320, "height": 480},
        {"url": f"{base}.w800.webp", "width": 800, "height": 1200},
    ]
    assert listed["previewUrl"] is None
    assert listed["srcset"] == f"{base}.w320.webp 320w, {base}.w800.webp 800w, {base} 1200w"
    assert (listed["width"], listed["height"]) == (1200, 1800)
    detail = (await (await client.get(f"/api/pitches/{pitch['id']}", headers=bearer(owner))).json())["data"]
    assert [m["thumbnails"] for m in detail["media"]] == [listed["thumbnails"]]

    for thumb in listed["thumbnails"]:
        status, body, ctype = await fetch(client, thumb["url"], owner)
        assert status == 200 and ctype == "image/webp"
        img = webp(body)
        assert img.size == (thumb["width"], thumb["height"])
        assert recorded[thumb["url"].rsplit(".", 2)[-2]]["bytes"] == len(body)
        r, g, b = img.convert("RGB").getpixel((img.width // 2, img.height // 2))
        assert r > 150 and g < 90 and b < 90, (r, g, b)  # the poster's red, not a blank

    # A protected poster's thumbnail is refused exactly like the original.
    for url in (item["url"], *(t["url"] for t in listed["thumbnails"])):
        for token in (None, investor):
            status, body, _ = await fetch(client, url, token)
            assert status == 403 and b"NDA_REQUIRED" in body, (url, token, body)
    await approve_nda(client, pitch["id"], owner, holder)
    for url in (item["url"], *(t["url"] for t in listed["thumbnails"])):
        assert (await fetch(client, url, holder))[0] == 200
    # An invisible pitch (a draft) hides them from everyone but its owner, with a 404.
    draft = await make_pitch(client, owner, title=f"Draft {tag}", status="draft")
    hidden = await upload(client, owner, draft["id"], jpeg(900, 600), "poster")
    await derived(db_conn, hidden["id"])
    thumb = (await media_item(client, owner, draft["id"], hidden["id"]))["thumbnails"][0]["url"]
    assert (await fetch(client, thumb, owner))[0] == 200
    for token in (None, investor, holder):
        status, body, _ = await fetch(client, thumb, token)
        assert status == 404 and b"NOT_FOUND" in body
    # Variants that do not exist: never rendered, or not a variant at all.
    for url in (
        f"{base}.preview.webp",
        f"{base}.w999.webp",
        f"{base}.w320.png",
        f"{base}.w320.webp.w320.webp",
    ):
        assert (await fetch(client, url, owner))[0] == 404, url

    # The list pages: the srcset the caller may see, the original as its widest candidate.
    srcset = f"{base}.w320.webp 320w, {base}.w800.webp 800w, {base} 1200w"

    async def card(token: str | None) -> tuple[str | None, str | None]:
        resp = await client.get(f"/api/pitches/browse?q={tag}&limit=50", headers=auth(token))
        body = await resp.json()
        found = next(p for p in body["data"] if p["id"] == pitch["id"])
        return found["posterUrl"], found["posterSrcset"]

    assert await card(owner) == (item["url"], srcset)
    assert await card(holder) == (item["url"], srcset)
    assert await card(investor) == (None, None)
    assert await card(None) == (None, None)


async def test_a_small_poster_is_never_enlarged(make_client: Any, db_conn: asyncpg.Connection) -> None:
    client = await make_client(**FAST_WORKER)
    _, owner = await user(client, "creator")
    tag = uuid.uuid4().hex[:8]
    pitch = await make_pitch(client, owner, title=f"Small {tag}")
    tiny = await upload(client, owner, pitch["id"], png(300, 200), "poster")
    assert await derived(db_conn, tiny["id"]) == {"original": {"width": 300, "height": 200}}
    assert (await media_item(client, None, pitch["id"], tiny["id"]))["thumbnails"] == []
    assert [k for k in await keys(client) if k.endswith(".webp")] == []
    # Narrower than 800: only the 320 px thumbnail; the original (transparent PNG) on white.
    mid = await upload(client, owner, pitch["id"], png(500, 250), "poster")
    recorded = await derived(db_conn, mid["id"])
    assert set(recorded) == {"w320", "original"} and recorded["w320"]["width"] == 320
    thumb = (await media_item(client, None, pitch["id"], mid["id"]))["thumbnails"]
    assert [(t["width"], t["height"]) for t in thumb] == [(320, 160)]
    status, body, _ = await fetch(client, thumb[0]["url"])
    assert status == 200 and webp(body).size == (320, 160)
    resp = await client.get(f"/api/pitches/browse?q={tag}")
    found = next(p for p in (await resp.json())["data"] if p["id"] == pitch["id"])
    assert found["posterSrcset"] == f"{thumb[0]['url']} 320w, {mid['url']} 500w"
    item = await media_item(client, None, pitch["id"], mid["id"])
    assert (item["width"], item["height"], item["srcset"]) == (500, 250, found["posterSrcset"])
    # Nothing to choose between for the tiny one: no srcset, but its size is known.
    item = await media_item(client, None, pitch["id"], tiny["id"])
    assert (item["width"], item["height"], item["srcset"]) == (300, 200, None)


async def test_an_undecodable_poster_is_given_up_at_once_and_the_worker_goes_on(
    make_client: Any, db_conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(**FAST_WORKER)
    _, owner = await user(client, "creator")
    pitch = await make_pitch(client, owner)
    broken = await upload(client, owner, pitch["id"], BROKEN_PNG, "poster")
    # Finished, not failed: the uploader's file is no operator's error (no retry, no error report).
    assert await derived(db_conn, broken["id"]) == {}
    attempts = await db_conn.fetchval(
        "SELECT attempts FROM procrastinate_jobs WHERE task_name = 'media.derive' AND args->>'mediaId' = $1",
        str(broken["id"]),
    )
    assert attempts == 1  # tried once: a file that does not decode never will
    said = [r for r in caplog.records if "cannot be rendered" in r.getMessage()]
    assert [(r.name, r.levelname) for r in said] == [("pitchey.tasks.media", "WARNING")], said
    item = await media_item(client, None, pitch["id"], broken["id"])
    assert item["thumbnails"] == [] and item["previewUrl"] is None
    assert (await fetch(client, item["url"]))[0] == 200  # the original is still served
    # A decompression bomb (a tiny PNG claiming 20000 x 20000 pixels) is refused the same way.
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 100_000
    bombed = await upload(client, owner, pitch["id"], bomb.getvalue(), "poster")
    assert await derived(db_conn, bombed["id"]) == {}
    said = [r.getMessage() for r in caplog.records if "cannot be rendered" in r.getMessage()]
    assert len(said) == 2 and "pixels" in said[1], said
    # The same worker still renders the next upload.
    good = await upload(client, owner, pitch["id"], jpeg(640, 480), "poster")
    assert set(await derived(db_conn, good["id"])) == {"w320", "original"}


# ---------------------------------------------------------------------------------------------
# Decks and videos
# ---------------------------------------------------------------------------------------------


async def test_a_deck_and_a_video_get_a_preview(make_client: Any, db_conn: asyncpg.Connection) -> None:
    client = await make_client(**FAST_WORKER)
    _, owner = await user(client, "creator")
    _, investor = await user(client, "investor")
    pitch = await make_pitch(client, owner, requireNda=True)
    deck = await upload(client, owner, pitch["id"], pdf(600, 800), "deck")
    video = await upload(client, owner, pitch["id"], mp4(), "video")
    assert deck["protected"] is True and video["protected"] is True

    recorded = await derived(db_conn, deck["id"])
    assert {k: (v["width"], v["height"]) for k, v in recorded.items()} == {"preview": (800, 1067)}
    item = await media_item(client, owner, pitch["id"], deck["id"])
    assert item["thumbnails"] == [] and item["srcset"] is None
    assert item["previewUrl"] == f"{deck['url']}.preview.webp"
    status, body, ctype = await fetch(client, item["previewUrl"], owner)
    assert status == 200 and ctype == "image/webp" and webp(body).size == (800, 1067)
    # The deck is protected, and so is its preview.
    status, body, _ = await fetch(client, item["previewUrl"], investor)
    assert status == 403 and b"NDA_REQUIRED" in body

    recorded = await derived(db_conn, video["id"])
    assert {k: (v["width"], v["height"]) for k, v in recorded.items()} == {"preview": (320, 240)}
    item = await media_item(client, owner, pitch["id"], video["id"])
    status, body, _ = await fetch(client, item["previewUrl"], owner)
    assert status == 200
    r, g, b = webp(body).convert("RGB").getpixel((160, 120))
    assert 100 <= g <= 140 and r < 30 and b < 30, (r, g, b)  # the frame at one second (green 120)


# ---------------------------------------------------------------------------------------------
# Deleting, running twice, rolling back
# ---------------------------------------------------------------------------------------------


async def test_deleting_removes_the_derivatives_and_a_second_run_changes_nothing(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client(**FAST_WORKER)
    _, owner = await user(client, "creator")
    pitch = await make_pitch(client, owner)
    poster = await upload(client, owner, pitch["id"], jpeg(1000, 1500), "poster")
    deck = await upload(client, owner, pitch["id"], pdf(), "deck")
    first = await derived(db_conn, poster["id"])
    await derived(db_conn, deck["id"])
    stored = sorted(await keys(client))
    key = poster["url"].removeprefix("/api/media/")
    deck_key = deck["url"].removeprefix("/api/media/")
    assert stored == sorted(
        [key, f"{key}.w320.webp", f"{key}.w800.webp", deck_key, f"{deck_key}.preview.webp"]
    )

    # Run again (as a retry or a worker killed mid-job would): the same objects, the same record.
    assert await derive(client.app[APP_STATE], poster["id"]) == "w320, w800"
    assert sorted(await keys(client)) == stored
    assert await derived(db_conn, poster["id"]) == first

    resp = await client.delete(f"/api/pitches/{pitch['id']}/media/{poster['id']}", headers=bearer(owner))
    assert resp.status == 200, await resp.text()
    assert sorted(await keys(client)) == sorted([deck_key, f"{deck_key}.preview.webp"])
    assert (await fetch(client, f"/api/media/{key}.w320.webp", owner))[0] == 404
    # A job for an item that is gone does nothing.
    assert await derive(client.app[APP_STATE], poster["id"]) == "gone"
    assert sorted(await keys(client)) == sorted([deck_key, f"{deck_key}.preview.webp"])

    # Deleting the pitch removes its media's derivatives too.
    resp = await client.delete(f"/api/pitches/{pitch['id']}", headers=bearer(owner))
    assert resp.status == 200, await resp.text()
    assert await keys(client) == []


async def test_an_item_deleted_while_its_job_rendered_leaves_no_derivative(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client()  # the job is run here, by hand
    _, owner = await user(client, "creator")
    pitch = await make_pitch(client, owner)
    item = await upload(client, owner, pitch["id"], jpeg(1000, 700), "poster")
    key = item["url"].removeprefix("/api/media/")
    # The row disappears between the render and the record: the record finds no row to update
    # (a trigger drops the update, as if a delete had come first).
    await db_conn.execute(
        """CREATE FUNCTION test_skip_update() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RETURN NULL; END $$;
           CREATE TRIGGER test_skip_update BEFORE UPDATE ON pitch_media
           FOR EACH ROW EXECUTE FUNCTION test_skip_update();"""
    )
    try:
        assert await derive(client.app[APP_STATE], item["id"]) == "gone"
    finally:
        await db_conn.execute(
            "DROP TRIGGER test_skip_update ON pitch_media; DROP FUNCTION test_skip_update()"
        )
    assert await keys(client) == [key]  # what it wrote is gone again; the original untouched


async def test_the_job_of_an_upload_that_rolled_back_never_runs(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client(**FAST_WORKER)
    _, owner = await user(client, "creator")
    pitch = await make_pitch(client, owner)
    # The upload's transaction fails at its COMMIT, after its row and its job were written.
    await db_conn.execute(
        """CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
           CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON pitch_media
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_commit();"""
    )
    try:
        mp = aiohttp.MultipartWriter("form-data")
        mp.append("poster").set_content_disposition("form-data", name="kind")
        mp.append(jpeg(900, 600)).set_content_disposition("form-data", name="file", filename="p.jpg")
        resp = await client.post(f"/api/pitches/{pitch['id']}/media", data=mp, headers=bearer(owner))
        assert resp.status == 500, await resp.text()
    finally:
        await db_conn.execute(
            "DROP TRIGGER test_refuse_commit ON pitch_media; DROP FUNCTION test_refuse_commit()"
        )
    # Nothing of it is left: no row, no job (so nothing for the running worker), no object.
    await asyncio.sleep(1.0)  # five of the worker's polls
    assert await db_conn.fetchval("SELECT count(*) FROM pitch_media") == 0
    assert (
        await db_conn.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'media.derive'")
        == 0
    )
    assert await keys(client) == []
    # The same upload without the trigger: its row and its job commit together, and the job runs.
    item = await upload(client, owner, pitch["id"], jpeg(900, 600), "poster")
    assert set(await derived(db_conn, item["id"])) == {"w320", "w800", "original"}


async def test_the_migration_queues_media_uploaded_before_it(
    make_client: Any, db_conn: asyncpg.Connection
) -> None:
    client = await make_client()  # no worker: the queued jobs stay to be looked at
    _, owner = await user(client, "creator")
    pitch = await make_pitch(client, owner)
    item = await upload(client, owner, pitch["id"], jpeg(400, 300), "poster")
    await db_conn.execute("DELETE FROM procrastinate_jobs")  # as before migration 0018
    sql = (resources.files("pitchey.storage") / "migrations" / "0018_media_derivatives.sql").read_text()
    backfill = sql[sql.index("SELECT procrastinate_defer_jobs_v1") :]
    await db_conn.execute(backfill)
    jobs = await db_conn.fetch(
        "SELECT task_name, args, lock, priority, status::text AS status FROM procrastinate_jobs"
    )
    assert [dict(j) for j in jobs] == [
        {
            "task_name": "media.derive",
            "args": f'{{"mediaId": {item["id"]}}}',
            "lock": f"media:{item['id']}",
            "priority": 0,
            "status": "todo",
        }
    ]
    await db_conn.execute("DELETE FROM pitch_media")
    await db_conn.execute("DELETE FROM procrastinate_jobs")
    await db_conn.execute(backfill)  # no media: no job, no error
    assert await db_conn.fetchval("SELECT count(*) FROM procrastinate_jobs") == 0


# ---------------------------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Any:
    with moto_s3_server() as url:
        yield url


async def test_derivatives_on_s3(make_client: Any, db_conn: asyncpg.Connection, s3_endpoint: str) -> None:
    client = await make_client(
        **FAST_WORKER,
        s3_endpoint=s3_endpoint,
        s3_bucket=f"pitchey-d-{uuid.uuid4().hex[:12]}",
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SECRET_KEY,
        s3_region=REGION,
    )
    _, owner = await user(client, "creator")
    _, investor = await user(client, "investor")
    pitch = await make_pitch(client, owner, requireNda=True)
    item = await upload(client, owner, pitch["id"], jpeg(1000, 700), "poster", protected="true")
    await derived(db_conn, item["id"])
    thumbs = (await media_item(client, owner, pitch["id"], item["id"]))["thumbnails"]
    assert [(t["width"], t["height"]) for t in thumbs] == [(320, 224), (800, 560)]
    for t in thumbs:
        status, body, ctype = await fetch(client, t["url"], owner)  # through the presigned URL
        assert status == 200 and ctype == "image/webp" and webp(body).size == (t["width"], t["height"])
        status, body, _ = await fetch(client, t["url"], investor)
        assert status == 403 and b"NDA_REQUIRED" in body
    key = item["url"].removeprefix("/api/media/")
    assert sorted(await keys(client)) == [key, f"{key}.w320.webp", f"{key}.w800.webp"]
    resp = await client.delete(f"/api/pitches/{pitch['id']}/media/{item['id']}", headers=bearer(owner))
    assert resp.status == 200
    assert await keys(client) == []
