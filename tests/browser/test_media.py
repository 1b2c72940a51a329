"""Media in the browser: the creator's media manager (upload with progress, cancel, NDA-only or
public per item, delete), the deck shown in the pitch page (a same-origin frame) with a download
link, a video with controls answered by range requests, and posters on the cards of the lists
(never a protected one for a stranger), and the thumbnails the background job renders: a card's
poster drawn from its srcset, the detail poster too, a deck's preview in the media manager.

axe-core runs on each page; screenshots (desktop and phone) go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import io
import os
import re
import struct
import time
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .test_journey_creator import make_pdf, make_png


def make_mp4(payload: int) -> bytes:
    """An ISO-BMFF header (ftyp isom) and an mdat box: what the server sniffs as video/mp4."""
    ftyp = struct.pack(">I", 24) + b"ftyp" + b"isom" + b"\x00\x00\x02\x00" + b"isomiso2"
    return ftyp + struct.pack(">I", 8 + payload) + b"mdat" + os.urandom(payload)


def _data(resp: Any) -> Any:
    assert resp.ok, f"{resp.status}: {resp.text()[:300]}"
    return resp.json()["data"]


def _media_dir(live_server: Any) -> Path:
    return Path(live_server.node.env["PITCHEY_DATA_DIR"]) / "media"


_DERIVATIVE = re.compile(r"\.(?:w320|w800|preview)\.webp$")


def _files_of(live_server: Any, pitch_id: int) -> list[str]:
    """What the local store holds for the pitch (originals: the server's worker adds their
    derivatives beside them in its own time), and any half-written upload."""
    root = _media_dir(live_server)
    found = sorted(
        p.name for p in (root / "pitches" / str(pitch_id)).glob("*") if not _DERIVATIVE.search(p.name)
    )
    return found + sorted(f".incoming/{p.name}" for p in (root / ".incoming").glob("*"))


def test_media_manager_upload_cancel_protect_delete(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    ctx = new_context()
    api_register(ctx, "creator", name="Mira Media")
    title = f"Harbour Lights {uuid.uuid4().hex[:6]}"
    pitch = api_create_published_pitch(ctx, title=title, requireNda=True)
    pid = pitch["id"]
    page = ctx.new_page()
    page.goto(f"/creator/pitches/{pid}/edit")
    expect(page.get_by_role("heading", level=2, name="Poster, deck and video")).to_be_visible()
    expect(page.get_by_text("No files yet.")).to_be_visible()

    # Poster, deck and a video: each listed with who may see it.
    page.get_by_label("Upload poster").set_input_files(
        files=[{"name": "harbour.png", "mimeType": "image/png", "buffer": make_png(120, 80)}]
    )
    expect(page.get_by_text("Uploaded harbour.png")).to_be_visible()
    page.get_by_label("Upload pitch deck").set_input_files(
        files=[{"name": "harbour-deck.pdf", "mimeType": "application/pdf", "buffer": make_pdf(title)}]
    )
    expect(page.get_by_text("Uploaded harbour-deck.pdf")).to_be_visible()
    page.get_by_label("Upload video").set_input_files(
        files=[{"name": "teaser.mp4", "mimeType": "video/mp4", "buffer": make_mp4(64 * 1024)}]
    )
    expect(page.get_by_text("Uploaded teaser.mp4")).to_be_visible()
    files = page.get_by_role("list", name="Uploaded files")
    expect(files.get_by_role("listitem")).to_have_count(3)
    poster_box = files.get_by_role("checkbox", name="NDA only: harbour.png")
    deck_box = files.get_by_role("checkbox", name="NDA only: harbour-deck.pdf")
    video_box = files.get_by_role("checkbox", name="NDA only: teaser.mp4")
    # The defaults: the poster public, the deck and video of an NDA pitch protected.
    expect(poster_box).not_to_be_checked()
    expect(deck_box).to_be_checked()
    expect(video_box).to_be_checked()

    # Cancel an upload half-way over a throttled link: nothing is listed, nothing stays on disk.
    before = _files_of(live_server, pid)
    assert len(before) == 3, before
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 256 * 1024},
    )
    page.get_by_label("Upload video").set_input_files(
        files=[{"name": "long-cut.mp4", "mimeType": "video/mp4", "buffer": make_mp4(6 * 1024 * 1024)}]
    )
    page.wait_for_function(
        """() => { const p = document.querySelector('progress[data-kind="video"]');
                   return p !== null && p.value > 0 && p.value < 100; }""",
        timeout=15_000,
    )
    shot(page, "media-manager-uploading")
    page.get_by_role("button", name="Cancel the video upload").click()
    expect(page.get_by_text("Upload of long-cut.mp4 cancelled; nothing was kept.")).to_be_visible()
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    deadline = time.monotonic() + 10
    while _files_of(live_server, pid) != before:
        assert time.monotonic() < deadline, f"a cancelled upload left {_files_of(live_server, pid)}"
        page.wait_for_timeout(100)
    expect(files.get_by_role("listitem")).to_have_count(3)
    assert len(_data(ctx.request.get(f"{live_server.url}/api/pitches/{pid}/media"))) == 3

    # The deck becomes public, the poster NDA-only; the server says so too.
    deck_box.uncheck()
    expect(deck_box).not_to_be_checked()
    # One change at a time, as a person would see it: the deck's is saved (its box usable again and
    # the list reread) before the poster's, so the reread cannot land in the middle of the click.
    expect(deck_box).to_be_enabled()
    page.wait_for_load_state("networkidle")
    poster_box.check()
    expect(poster_box).to_be_checked()
    page.wait_for_load_state("networkidle")
    stored = {
        m["filename"]: m["protected"]
        for m in _data(ctx.request.get(f"{live_server.url}/api/pitches/{pid}/media"))
    }
    assert stored == {"harbour.png": True, "harbour-deck.pdf": False, "teaser.mp4": True}
    axe_check(page, "media manager")
    shot(page, "media-manager")
    shot_phone(page, "media-manager")

    # A stranger: the deck in the page, no video, no poster on the card or the page.
    other = new_context()
    api_register(other, "investor", name="Ola Stranger")
    view = other.new_page()
    view.goto(f"/pitches/{pid}")
    expect(view.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(view.locator("iframe[title^='Pitch deck']")).to_have_count(1)
    expect(view.locator("video")).to_have_count(0)
    expect(view.get_by_role("img", name=re.compile("Poster for"))).to_have_count(0)
    view.goto(f"/browse?q={title.split()[-1]}")
    card = view.get_by_test_id("pitch-card").filter(has_text=title)
    expect(card).to_have_count(1)
    expect(card.locator("img")).to_have_count(0)

    # A refusal in words: the deck was deleted elsewhere (another tab); deleting it here is
    # refused with the API's words.
    deck_row = files.get_by_role("listitem").filter(has_text="harbour-deck.pdf")
    deck_id = next(
        m["id"]
        for m in _data(ctx.request.get(f"{live_server.url}/api/pitches/{pid}/media"))
        if m["kind"] == "deck"
    )
    _data(
        ctx.request.delete(f"{live_server.url}/api/pitches/{pid}/media/{deck_id}")
    )  # gone behind the page's back
    deck_row.get_by_role("button", name="Delete harbour-deck.pdf").click()
    expect(deck_row.get_by_role("alert")).to_contain_text(
        "Could not delete harbour-deck.pdf: Media not found"
    )


def test_deck_video_and_posters_for_viewers(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator", name="Vera Viewer")
    tag = uuid.uuid4().hex[:6]
    title = f"Glass Tide {tag}"
    pitch = api_create_published_pitch(creator, title=title)
    pid = pitch["id"]

    def upload(kind: str, name: str, ctype: str, body: bytes, protected: str | None = None) -> Any:
        multipart: dict[str, Any] = {"kind": kind, "file": {"name": name, "mimeType": ctype, "buffer": body}}
        if protected is not None:
            multipart["protected"] = protected
        return _data(creator.request.post(f"{live_server.url}/api/pitches/{pid}/media", multipart=multipart))

    poster = upload("poster", "glass.png", "image/png", make_png(160, 90))
    deck = upload("deck", "glass-deck.pdf", "application/pdf", make_pdf(title, pad_lines=40))
    video = upload("video", "glass.mp4", "video/mp4", make_mp4(256 * 1024))
    # A second pitch whose only poster is NDA-only: strangers see its initial instead.
    hidden = api_create_published_pitch(creator, title=f"Salt Glass {tag}", requireNda=True)
    _data(
        creator.request.post(
            f"{live_server.url}/api/pitches/{hidden['id']}/media",
            multipart={
                "kind": "poster",
                "protected": "true",
                "file": {"name": "secret.png", "mimeType": "image/png", "buffer": make_png(40, 40)},
            },
        )
    )

    viewer = new_context()
    api_register(viewer, "investor", name="Ivo Investor")
    page = viewer.new_page()
    media_answers: list[Any] = []
    page.on("response", lambda r: media_answers.append(r) if "/api/media/" in r.url else None)

    # Cards: the poster's image, named by the title, loaded lazily; none for the protected one.
    page.goto(f"/browse?q={tag}")
    cards = page.get_by_test_id("pitch-card")
    expect(cards).to_have_count(2)
    img = cards.filter(has_text=title).get_by_role("img", name=title)
    expect(img).to_have_attribute("src", poster["url"])
    expect(img).to_have_attribute("loading", "lazy")
    page.wait_for_function(
        "(src) => { const i = document.querySelector(`img[src='${src}']`);"
        " return i && i.complete && i.naturalWidth === 160; }",
        arg=poster["url"],
    )
    expect(cards.filter(has_text=f"Salt Glass {tag}").locator("img")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    axe_check(page, "browse with posters")
    shot(page, "media-browse-posters")
    shot_phone(page, "media-browse-posters")

    # The pitch page: the deck in a frame (served inline, framable by us), a download link, and a
    # video whose bytes come as 206 answers to range requests.
    page.goto(f"/pitches/{pid}")
    frame = page.locator("iframe[title='Pitch deck: glass-deck.pdf']")
    expect(frame).to_have_attribute("src", deck["url"])
    frame.scroll_into_view_if_needed()
    download = page.get_by_role("link", name="Download the deck (glass-deck.pdf)")
    expect(download).to_have_attribute("href", deck["url"])
    player = page.locator("video[aria-label='Video: glass.mp4']")
    expect(player).to_have_attribute("src", video["url"])
    expect(player).to_have_attribute("controls", "")
    expect(page.get_by_role("link", name="Download the video (glass.mp4)")).to_be_visible()
    deadline = time.monotonic() + 10
    while not any(r.url.endswith(deck["url"]) for r in media_answers) or not any(
        r.url.endswith(video["url"]) for r in media_answers
    ):
        assert time.monotonic() < deadline, [r.url for r in media_answers]
        page.wait_for_timeout(100)
    deck_answer = next(r for r in media_answers if r.url.endswith(deck["url"]))
    assert deck_answer.status == 200
    assert deck_answer.header_value("x-frame-options") == "SAMEORIGIN"
    assert deck_answer.header_value("content-type") == "application/pdf"
    video_answer = next(r for r in media_answers if r.url.endswith(video["url"]))
    assert video_answer.request.header_value("range") is not None, "the video element sent no Range"
    assert video_answer.status == 206, video_answer.status
    assert video_answer.header_value("content-range") is not None
    # A range beyond the end is refused as unsatisfiable.
    beyond = viewer.request.get(f"{live_server.url}{video['url']}", headers={"Range": "bytes=99999999-"})
    assert beyond.status == 416
    page.wait_for_load_state("networkidle")
    axe_check(page, "pitch page with deck and video")
    shot(page, "media-pitch-deck-video")
    shot_phone(page, "media-pitch-deck-video")


def _jpeg(width: int, height: int) -> bytes:
    """A poster with something to see: a diagonal gradient and a band, as a JPEG."""
    from PIL import Image, ImageDraw

    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    img = Image.merge("RGB", (img.getchannel(0), Image.new("L", (width, height), 60), img.getchannel(0)))
    ImageDraw.Draw(img).rectangle((0, height * 2 // 5, width, height * 3 // 5), fill=(250, 200, 40))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_poster_thumbnails_in_srcset_and_a_deck_preview(
    new_context, live_server, api_register, api_create_published_pitch, axe_check, shot, shot_phone
):
    creator = new_context()
    api_register(creator, "creator", name="Tomas Thumb")
    tag = uuid.uuid4().hex[:6]
    title = f"Copper Dunes {tag}"
    pid = api_create_published_pitch(creator, title=title)["id"]

    def upload(kind: str, name: str, ctype: str, body: bytes) -> Any:
        multipart = {"kind": kind, "file": {"name": name, "mimeType": ctype, "buffer": body}}
        return _data(creator.request.post(f"{live_server.url}/api/pitches/{pid}/media", multipart=multipart))

    poster = upload("poster", "dunes.jpg", "image/jpeg", _jpeg(1600, 1000))
    upload("deck", "dunes-deck.pdf", "application/pdf", make_pdf(title, pad_lines=30))
    # The server's own worker renders them (nobody calls anything).
    deadline = time.monotonic() + 20
    while True:
        listed = _data(creator.request.get(f"{live_server.url}/api/pitches/{pid}/media"))
        items = {m["kind"]: m for m in listed}
        if items["poster"]["srcset"] and items["deck"]["previewUrl"]:
            break
        assert time.monotonic() < deadline, f"no derivatives yet: {items}"
        time.sleep(0.2)
    base = poster["url"]
    srcset = f"{base}.w320.webp 320w, {base}.w800.webp 800w, {base} 1600w"
    assert items["poster"]["srcset"] == srcset
    assert [(t["width"], t["height"]) for t in items["poster"]["thumbnails"]] == [(320, 200), (800, 500)]

    def loaded(page: Any, selector: str) -> dict[str, Any]:
        """Wait for the image to be decoded; what the browser chose. (With a srcset of width
        descriptors, naturalWidth is the chosen file's width scaled to the `sizes` slot, so the
        file's own width is checked through its URL, whose size the API test decodes.)"""
        page.wait_for_function(
            "(sel) => { const i = document.querySelector(sel);"
            " return i && i.complete && i.naturalWidth > 0; }",
            arg=selector,
        )
        return dict(
            page.eval_on_selector(
                selector, "(i) => ({src: i.currentSrc, width: i.naturalWidth, height: i.naturalHeight})"
            )
        )

    # A stranger's browse page: the card's poster comes from the srcset (a 300 px wide card at
    # one device pixel per CSS pixel takes the 320 px thumbnail), the original stays the src.
    viewer = new_context()
    page = viewer.new_page()
    webp_answers: list[Any] = []
    page.on("response", lambda r: webp_answers.append(r) if r.url.endswith(".webp") else None)
    page.goto(f"/browse?q={tag}")
    card = page.get_by_test_id("pitch-card").filter(has_text=title)
    img = card.get_by_role("img", name=title)
    expect(img).to_have_attribute("src", base)
    expect(img).to_have_attribute("srcset", srcset)
    expect(img).to_have_attribute("sizes", re.compile(r"\(max-width: 560px\) 120px"))
    chosen = loaded(page, f"img[src='{base}']")
    assert chosen["src"] == f"{live_server.url}{base}.w320.webp", chosen
    thumb = next(r for r in webp_answers if r.url.endswith(".w320.webp"))
    assert thumb.status == 200 and thumb.header_value("content-type") == "image/webp"
    page.wait_for_load_state("networkidle")
    axe_check(page, "browse with poster thumbnails")
    shot(page, "media-thumbnails-browse")
    shot_phone(page, "media-thumbnails-browse")
    # On a phone the card's poster is a small box: still a thumbnail, never the 1600 px original.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert loaded(page, f"img[src='{base}']")["src"].endswith(".w320.webp")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The pitch page: its poster from the same set (a thumbnail or the original, by its width).
    page.goto(f"/pitches/{pid}")
    hero = page.get_by_role("img", name=f"Poster for {title}")
    expect(hero).to_have_attribute("srcset", srcset)
    chosen = loaded(page, "img[alt^='Poster for']")
    assert chosen["src"].removeprefix(live_server.url) in (f"{base}.w800.webp", base), chosen
    shot(page, "media-thumbnails-detail")
    shot_phone(page, "media-thumbnails-detail")

    # The creator's media manager: the poster as its small thumbnail, the deck as its first page.
    manage = creator.new_page()
    manage.goto(f"/creator/pitches/{pid}/edit")
    files = manage.get_by_role("list", name="Uploaded files")
    expect(files.get_by_role("listitem")).to_have_count(2)
    preview = files.get_by_test_id("preview-deck")
    expect(preview).to_have_attribute("src", items["deck"]["previewUrl"])
    chosen = loaded(manage, "[data-testid='preview-deck']")
    assert chosen["width"] == 800 and chosen["height"] > 800, chosen  # a portrait page, 800 px wide
    assert loaded(manage, f"img[src='{base}.w320.webp']")["width"] == 320
    manage.wait_for_load_state("networkidle")
    axe_check(manage, "media manager with previews")
    shot(manage, "media-thumbnails-manager")
    shot_phone(manage, "media-thumbnails-manager")
