"""Media derivatives: smaller renditions of an upload, rendered in the background.

Every upload enqueues `media.derive` in the transaction that stores its row
(pitchey.storage.media). The job reads the original (the local store's file in place, or a
temporary copy out of S3), renders in a thread and writes each rendition beside it as
`<original key>.<variant>.webp`:

- a poster: `w320` and `w800`, WEBP, only widths smaller than the original (never upscaled), EXIF
  orientation applied (Pillow);
- a deck (PDF): `preview`, its first page 800 px wide (PDFium, through the pypdfium2 wheel);
- a video: `preview`, the frame at about one second (or the first one, for a shorter video),
  800 px wide at most (FFmpeg's libraries, through the PyAV wheel).

Then the row's `derivatives` records them, and the pitch's cached media and detail are dropped so
pages see them. The originals stay as uploaded.

The job may run twice (a retry, a worker killed mid-job): it writes the same keys again and
records the same map. If the row was deleted while it rendered, it removes what it wrote. A file
that cannot be rendered (undecodable, a decompression bomb, a PDF without pages) is a permanent
outcome: logged as a warning, the job finished at once (no retry, no error report: the uploader's
file, not the operator's fault), the item without derivatives, the pages showing the original.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps
from procrastinate import JobContext, RetryStrategy

from pitchey.storage.jobs import QUEUE
from pitchey.storage.media import DERIVE_TASK, VARIANTS, Media, MediaStore, derivative_key

from ..blobstore import BlobStore
from ..cache import pitch_tag
from ..jobs import state, tasks
from ..state import AppState

log = logging.getLogger("pitchey.tasks.media")

POSTER_WIDTHS: dict[str, int] = {"w320": 320, "w800": 800}
PREVIEW_WIDTH = 800
# A preview is at most this tall (a PDF page may be a long strip): the width shrinks to fit.
PREVIEW_MAX_HEIGHT = 3200
WEBP_QUALITY = 80
# Pillow refuses images above twice this many pixels (DecompressionBombError) and we refuse
# anything above it ourselves: 50 megapixels is a 8660x5770 photo, and about 150 MB decoded.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Frames decoded at most while looking for the one at one second (a stream without timestamps).
MAX_FRAMES = 300
POSTER_FRAME_AT = 1.0  # seconds
# PDFium is not thread-safe: one render at a time in this process (jobs run concurrently).
_pdfium_lock = threading.Lock()


class Unrenderable(Exception):
    """The file cannot be rendered, and never will be: the job ends without derivatives."""


# Blob store or database trouble is retried with growing waits (3 s, 9 s, 27 s, ...). A file that
# cannot be rendered never raises out of the job (it is no operator's error: see `derive`).
DERIVE_RETRY = RetryStrategy(max_attempts=6, exponential_wait=3)


@dataclass(frozen=True, slots=True)
class Rendered:
    variant: str
    path: Path
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Renders:
    items: list[Rendered]
    original: tuple[int, int] | None = None
    """A poster's own width and height as displayed (srcsets list it beside its thumbnails)."""


# ---------------------------------------------------------------------------------------------
# Rendering (in a worker thread: everything here blocks)
# ---------------------------------------------------------------------------------------------


def _save_webp(img: Image.Image, path: Path) -> None:
    img.save(path, "WEBP", quality=WEBP_QUALITY, method=4)


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB for WEBP; transparency becomes white (a poster shown on a light card)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def _scaled(img: Image.Image, width: int) -> Image.Image:
    height = max(1, round(img.height * width / img.width))
    return img.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _fit_preview(img: Image.Image) -> Image.Image:
    """At most PREVIEW_WIDTH wide and PREVIEW_MAX_HEIGHT tall; never enlarged."""
    scale = min(1.0, PREVIEW_WIDTH / img.width, PREVIEW_MAX_HEIGHT / img.height)
    if scale >= 1.0:
        return img
    width = max(1, round(img.width * scale))
    return _scaled(img, width)


def render_poster(source: Path, out: Path) -> Renders:
    try:
        with Image.open(source) as im:
            if im.width * im.height > MAX_PIXELS:
                raise Unrenderable(f"{im.width}x{im.height} is more than {MAX_PIXELS} pixels")
            orientation = im.getexif().get(0x0112, 1)
            # Orientations 5 to 8 turn the image a quarter: its width is the stored height.
            turned = orientation in (5, 6, 7, 8)
            size = (im.height, im.width) if turned else (im.width, im.height)
            wanted = {v: w for v, w in POSTER_WIDTHS.items() if w < size[0]}
            if not wanted:
                im.load()  # still proves the file decodes
                return Renders([], size)
            # A JPEG can decode at 1/2, 1/4, 1/8 scale: no larger than the biggest rendition needs.
            biggest = max(wanted.values())
            im.draft("RGB", (biggest, biggest))
            img = _to_rgb(ImageOps.exif_transpose(im))
    except Unrenderable:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise Unrenderable(f"not a decodable image: {exc}") from exc
    done: list[Rendered] = []
    for variant, w in wanted.items():
        scaled = _scaled(img, w)
        path = out / f"{variant}.webp"
        _save_webp(scaled, path)
        done.append(Rendered(variant, path, scaled.width, scaled.height))
    return Renders(done, size)


def render_deck(source: Path, out: Path) -> Renders:
    import pypdfium2 as pdfium

    with _pdfium_lock:
        try:
            pdf = pdfium.PdfDocument(source)
        except pdfium.PdfiumError as exc:
            raise Unrenderable(f"not a readable PDF: {exc}") from exc
        try:
            if len(pdf) == 0:
                raise Unrenderable("the PDF has no pages")
            page = pdf[0]
            try:
                w_pt, h_pt = page.get_size()
                if w_pt <= 0 or h_pt <= 0:
                    raise Unrenderable("the first page has no size")
                # A vector page: rendered at the preview's width (no raster is enlarged).
                scale = min(PREVIEW_WIDTH / w_pt, PREVIEW_MAX_HEIGHT / h_pt)
                bitmap = page.render(scale=scale, may_draw_forms=True)
                try:
                    img = _to_rgb(bitmap.to_pil())
                finally:
                    bitmap.close()
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise Unrenderable(f"the first page cannot be rendered: {exc}") from exc
        finally:
            pdf.close()
    path = out / "preview.webp"
    _save_webp(img, path)
    return Renders([Rendered("preview", path, img.width, img.height)])


def render_video(source: Path, out: Path) -> Renders:
    import av

    try:
        with av.open(str(source), mode="r") as container:
            if not container.streams.video:
                raise Unrenderable("the file has no video stream")
            stream = container.streams.video[0]
            chosen: av.VideoFrame | None = None
            for count, frame in enumerate(container.decode(stream)):
                if frame.width * frame.height > MAX_PIXELS:
                    raise Unrenderable(f"{frame.width}x{frame.height} frames are too large")
                chosen = frame
                # The frame at about one second (past a black first frame or a fade-in), or the
                # last one of a shorter video, or the first of a stream without timestamps.
                if frame.time is None or frame.time >= POSTER_FRAME_AT or count + 1 >= MAX_FRAMES:
                    break
            if chosen is None:
                raise Unrenderable("the video has no frame")
            img: Image.Image = chosen.to_image()  # type: ignore[no-untyped-call]  # (PyAV's stub)
            if chosen.rotation:
                # The display matrix turns the frame counterclockwise; so does Pillow's rotate.
                img = img.rotate(chosen.rotation, expand=True)
    except Unrenderable:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise Unrenderable(f"not a decodable video: {exc}") from exc
    img = _fit_preview(_to_rgb(img))
    path = out / "preview.webp"
    _save_webp(img, path)
    return Renders([Rendered("preview", path, img.width, img.height)])


RENDERERS = {"poster": render_poster, "deck": render_deck, "video": render_video}


def render(kind: str, source: Path, out: Path) -> Renders:
    """The derivatives of one original of `kind`; Unrenderable for a file that cannot be."""
    renderer = RENDERERS.get(kind)
    if renderer is None:
        raise Unrenderable(f"no derivatives for {kind!r}")
    return renderer(source, out)


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------


async def _copy_out(store: BlobStore, key: str, dest: Path) -> None:
    f = await asyncio.to_thread(open, dest, "wb")
    try:
        async for chunk in store.read_chunks(key):
            await asyncio.to_thread(f.write, chunk)
    finally:
        await asyncio.to_thread(f.close)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def remove_derivatives(store: BlobStore, storage_key: str, variants: Iterable[str] = VARIANTS) -> None:
    """Remove the derivative objects of one original (all the variants there may be, unless
    `variants` names them); a missing object is not an error, one that cannot be removed is
    logged and left behind."""
    for variant in variants:
        key = derivative_key(storage_key, variant)
        try:
            await asyncio.shield(store.delete(key))
        except Exception:
            log.warning("could not delete derivative %s; it is orphaned", key, exc_info=True)


async def derive(st: AppState, media_id: int) -> str:
    """Render and record one item's derivatives; what happened, in a word (the job's result)."""
    media = MediaStore(st.database)
    row = await media.get(media_id)
    if row is None:
        return "gone"
    store = st.blobs
    if store is None:
        raise RuntimeError("media storage is not available")
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="pitchey-derive-"))
    try:
        source = await _source(store, row, work)
        if source is None:
            return "gone"
        try:
            rendered = await asyncio.to_thread(render, row.kind, source, work)
        except Unrenderable as exc:
            # A permanent outcome, and the uploader's rather than the operator's: a warning and a
            # finished job (no retry, no error report), the item without derivatives for good.
            log.warning("media %d (%s, %s) cannot be rendered: %s", row.id, row.kind, row.storage_key, exc)
            return f"unrenderable: {exc}"[:200]
        recorded: dict[str, dict[str, int]] = {}
        for r in rendered.items:
            data = await asyncio.to_thread(r.path.read_bytes)
            await store.put_stream(derivative_key(row.storage_key, r.variant), _once(data), "image/webp")
            recorded[r.variant] = {"width": r.width, "height": r.height, "bytes": len(data)}
        variants = list(recorded)
        if rendered.original is not None:
            recorded["original"] = {"width": rendered.original[0], "height": rendered.original[1]}
        if not await media.set_derivatives(row.id, recorded):
            # Deleted while we rendered: its delete may have run before our writes.
            await remove_derivatives(store, row.storage_key, variants)
            return "gone"
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    await st.cache.invalidate_tags(pitch_tag(row.pitch_id))
    log.info("media %d derivatives: %s", row.id, ", ".join(variants) or "none (a small original)")
    return ", ".join(variants) or "none"


async def _source(store: BlobStore, row: Media, work: Path) -> Path | None:
    """A local file holding the original: the local store's own file, or a copy out of S3; None
    when the object is gone (the item was deleted meanwhile)."""
    where = await store.delivery(
        row.storage_key, filename="", content_type=row.content_type, disposition="inline", expires=60
    )
    if where.path is not None:
        if await asyncio.to_thread(where.path.is_file):
            return where.path
        return None
    dest = work / "original"
    try:
        await _copy_out(store, row.storage_key, dest)
    except Exception:
        if not await store.exists(row.storage_key):
            return None
        raise
    return dest


@tasks.task(name=DERIVE_TASK, queue=QUEUE, pass_context=True, retry=DERIVE_RETRY)
async def derive_media(context: JobContext, mediaId: int) -> str:
    return await derive(state(context), mediaId)
