"""Pitch media: posters, decks and videos, uploaded by the pitch owner as a streamed multipart body,
checked by their first bytes (never by the client's filename or Content-Type), stored in the blob
store (server/blobstore.py) and served under the pitch's own visibility and NDA rules.

See docs/api-media.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from pitchey.rooms.access import Decision, decide, decide_owner
from pitchey.storage.media import VARIANTS, Media, MediaLimitReached, MediaStore, derivative_key
from pitchey.storage.pitches import Pitch, PitchStore

from ..api import Api, Call, Reply
from ..blobstore import BlobStore, blobstore_from_settings
from ..cache import PITCH_TTL, cached, pitch_tag
from ..errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NdaRequired,
    NotFound,
    PayloadTooLarge,
    PitchNotFound,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from ..schemas import PageQuery, pagination
from ..schemas.media import (
    THUMBNAIL_VARIANTS,
    MediaDeleted,
    MediaOut,
    MediaUpdate,
    Thumbnail,
    derivative_url,
    media_url,
    poster_srcset,
)
from ..state import APP_STATE, AppState
from ._shared import refuse, viewer

log = logging.getLogger("pitchey.server.media")

api = Api()

KINDS: tuple[str, ...] = ("poster", "deck", "video")
MAX_MEDIA_PER_PITCH = 50
CHUNK = 256 * 1024
SNIFF_BYTES = 64
FIELD_MAX = 64  # bytes of a `kind` or `protected` value
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and headers beside the file
# Keys the server generates: pitches/<pitch id>/<uuid4 hex>.<ext>, and their derivatives
# (server/tasks/media.py) beside them: <that key>.<variant>.webp
KEY_RE = re.compile(r"^pitches/[0-9]{1,18}/[0-9a-f]{32}\.(?:jpg|png|webp|pdf|mp4|mov|webm)$")
DOWNLOAD_KEY_RE = re.compile(
    r"^(?P<original>pitches/[0-9]{1,18}/[0-9a-f]{32}\.(?:jpg|png|webp|pdf|mp4|mov|webm))"
    r"(?:\.(?P<variant>" + "|".join(VARIANTS) + r")\.webp)?$"
)

_KIND_TYPES = {
    "poster": "a JPEG, PNG or WebP image",
    "deck": "a PDF document",
    "video": "an MP4, MOV or WebM video",
}
# ISO-BMFF brands that are stills or audio, not video.
_NOT_VIDEO_BRANDS = frozenset(
    {
        b"heic",
        b"heix",
        b"heim",
        b"heis",
        b"mif1",
        b"msf1",
        b"avif",
        b"avis",
        b"M4A ",
        b"M4B ",
        b"M4P ",
        b"crx ",
        b"jp2 ",
        b"jpx ",
    }
)


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


def media_out(m: Media) -> MediaOut:
    d = m.derivatives
    return MediaOut(
        id=m.id,
        pitch_id=m.pitch_id,
        kind=m.kind,
        url=media_url(m.storage_key),
        content_type=m.content_type,
        size=m.size_bytes,
        sha256=m.sha256,
        filename=m.original_name,
        protected=m.protected,
        created_at=m.created_at,
        thumbnails=[
            Thumbnail(url=derivative_url(m.storage_key, v), width=d[v]["width"], height=d[v]["height"])
            for v in THUMBNAIL_VARIANTS
            if v in d
        ],
        srcset=poster_srcset(m.storage_key, d) if m.kind == "poster" else None,
        width=d["original"]["width"] if "original" in d else None,
        height=d["original"]["height"] if "original" in d else None,
        preview_url=derivative_url(m.storage_key, "preview") if "preview" in d else None,
    )


# ---------------------------------------------------------------------------------------------
# For other modules: pitch detail embeds the media list; deleting a pitch removes its objects.
# ---------------------------------------------------------------------------------------------


async def media_for_pitch(state: AppState, pitch_id: int, show_protected: bool) -> list[dict[str, Any]]:
    """The pitch's media as JSON-ready dicts (camelCase), protected items only if `show_protected`.

    The caller must already have checked that the viewer may see the pitch; `show_protected` is
    true for the owner and approved-NDA holders (the same test as for synopsis and budget).
    """

    async def load() -> list[dict[str, Any]]:
        rows = await MediaStore(state.database).for_pitch(
            pitch_id, include_protected=show_protected, limit=MAX_MEDIA_PER_PITCH
        )
        return [media_out(m).model_dump(mode="json", by_alias=True) for m in rows]

    # Cached with the pitch row (same tag): a cached detail read makes no database round trip.
    return await cached(
        state.cache,
        f"pitch:{pitch_id}:media:{int(show_protected)}",
        load,
        ttl=PITCH_TTL,
        tags=(pitch_tag(pitch_id),),
    )


async def delete_objects(state: AppState, keys: Iterable[str]) -> None:
    """Remove the objects of media rows already deleted (a deleted pitch's, one deleted item's),
    with the derivatives of pitch media (every variant there may be: a missing one is no error).

    The rows go first, so no row ever points at a missing object; an object that cannot be
    removed is logged and left behind (an orphan costs storage, not correctness).
    """
    store = state.blobs
    if store is not None:
        for key in keys:
            await _delete_object(store, key)
            if KEY_RE.match(key):
                for variant in VARIANTS:
                    await _delete_object(store, derivative_key(key, variant))


# ---------------------------------------------------------------------------------------------
# Content checks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: str
    content_type: str
    ext: str


def sniff(head: bytes) -> Sniffed | None:
    """What the first bytes say the file is; None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("poster", "image/jpeg", "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("poster", "image/png", "png")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("poster", "image/webp", "webp")
    if head.startswith(b"%PDF-"):
        return Sniffed("deck", "application/pdf", "pdf")
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        if brand in _NOT_VIDEO_BRANDS:
            return None
        if brand == b"qt  ":
            return Sniffed("video", "video/quicktime", "mov")
        return Sniffed("video", "video/mp4", "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:SNIFF_BYTES]:
        return Sniffed("video", "video/webm", "webm")
    return None


def _wrong_type(kind: str | None) -> UnsupportedMediaType:
    if kind is None:
        return UnsupportedMediaType(
            "Unsupported file: posters are JPEG, PNG or WebP, decks PDF, videos MP4, MOV or WebM"
        )
    return UnsupportedMediaType(f"A {kind} must be {_KIND_TYPES[kind]}")


def clean_filename(raw: str | None) -> str | None:
    """The client's filename reduced to a harmless display name (never used in a storage key)."""
    if not raw:
        return None
    # Browsers escape only these three in a form-data filename (WHATWG multipart encoding).
    for escaped, char in (("%22", '"'), ("%0D", "\r"), ("%0A", "\n"), ("%0d", "\r"), ("%0a", "\n")):
        raw = raw.replace(escaped, char)
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*;')
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:200] or None


def content_disposition(name: str | None, fallback: str) -> str:
    """`inline` with an ASCII filename and the exact UTF-8 one (RFC 6266 / 5987)."""
    name = name or fallback
    ascii_name = re.sub(r"[^A-Za-z0-9._\- ()\[\]]", "_", name) or fallback
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _parse_bool(value: str) -> bool:
    # Only the two words the document's `boolean` stands for: `1`, `yes` or `on` would be a
    # schema-violating value taken as a flag.
    v = value.strip().lower()
    if v == "true":
        return True
    if v == "false":
        return False
    raise ValidationFailed(
        "protected: must be true or false",
        details=[{"field": "protected", "message": "must be true or false", "type": "bool_parsing"}],
    )


# ---------------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------------


def blobs(state: AppState) -> BlobStore:
    store = state.blobs
    if store is None:
        raise Unavailable("Media storage is not available")
    return store


async def _viewable(call: Call[Any, Any], pitch_id: int) -> Decision:
    """The caller's access decision on a pitch they may see, or its refusal (rooms/access.py)."""
    v = viewer(call.principal)
    access = await PitchStore(call.state.database).access(pitch_id, v.user_id)
    if access is None:
        raise PitchNotFound()
    decision = decide(access, v)
    refuse(decision)
    return decision


async def _owned(call: Call[Any, Any], pitch_id: int) -> Pitch:
    """The pitch if the caller owns it; 403 if they may see it, else the decision's refusal."""
    pitches = PitchStore(call.state.database)
    access = await pitches.access(pitch_id, call.user.user_id)
    pitch = await pitches.get(pitch_id) if access is not None else None
    if access is None or pitch is None:
        raise PitchNotFound()
    refuse(decide_owner(access, viewer(call.principal)))
    return pitch


async def _delete_object(store: BlobStore, key: str) -> None:
    try:
        await asyncio.shield(store.delete(key))
    except Exception:
        log.warning("could not delete media object %s; it is orphaned", key, exc_info=True)


# ---------------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Stored:
    key: str
    sniffed: Sniffed
    size: int
    sha256: str
    filename: str | None


async def _read_field(part: BodyPartReader, limit: int) -> str:
    data = bytearray()
    while True:
        chunk = await part.read_chunk(1024)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise ValidationFailed(f"{part.name}: value too long")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{part.name}: not UTF-8 text") from None


async def store_file(
    part: BodyPartReader, store: BlobStore, prefix: str, kind: str | None, limits: dict[str, int]
) -> _Stored:
    """Sniff the first bytes, then stream the rest into the store under `<prefix>/<uuid>.<ext>`,
    counting and hashing (pitch media, and profile avatars as posters: server/routes/profiles.py).

    Nothing is written for a refused type; a stream that grows past the limit raises while the
    store is writing, and the store throws away what it had.
    """
    encoding = part.headers.get("Content-Transfer-Encoding", "binary").lower()
    if encoding not in ("binary", "8bit", "7bit"):
        raise UnsupportedMediaType("Send the file unencoded (no Content-Transfer-Encoding)")
    head = bytearray()
    while len(head) < SNIFF_BYTES:
        chunk = await part.read_chunk(CHUNK)
        if not chunk:
            break
        head += chunk
    if not head:
        raise ValidationFailed("file: the file is empty")
    sniffed = sniff(bytes(head[:SNIFF_BYTES]))
    if sniffed is None or (kind is not None and sniffed.kind != kind):
        raise _wrong_type(kind)
    limit = limits[kind or sniffed.kind]
    key = f"{prefix}/{uuid.uuid4().hex}.{sniffed.ext}"
    hasher = hashlib.sha256()
    size = 0

    def too_large() -> PayloadTooLarge:
        return PayloadTooLarge(
            f"A {kind or sniffed.kind} may be at most {limit} bytes", details={"limit": limit}
        )

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal size
        size = len(head)
        if size > limit:
            raise too_large()
        hasher.update(head)
        yield bytes(head)
        while True:
            chunk = await part.read_chunk(CHUNK)
            if not chunk:
                return
            size += len(chunk)
            if size > limit:
                raise too_large()
            hasher.update(chunk)
            yield chunk

    await store.put_stream(key, chunks(), sniffed.content_type)
    return _Stored(key, sniffed, size, hasher.hexdigest(), clean_filename(part.filename))


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "Fields in any order; the file is streamed, never buffered whole.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "kind"],
                    "additionalProperties": False,  # another field is refused (422 naming it)
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "minLength": 1,  # an empty file is refused (422)
                            "contentMediaType": "application/octet-stream",
                            "description": "poster: JPEG/PNG/WebP; deck: PDF; video: MP4/MOV/WebM "
                            "(checked by content, not by name or type)",
                        },
                        "kind": {"type": "string", "enum": list(KINDS)},
                        "protected": {
                            "type": "boolean",
                            "description": "default: false for a poster, the pitch's requireNda otherwise",
                        },
                    },
                }
            }
        },
    },
}


@api.route(
    "POST",
    "/api/pitches/{id}/media",
    permission=("create", "media"),
    response=MediaOut,
    status=201,
    tags=("media",),
    openapi_extra=_UPLOAD_BODY,
    errors=(NotFound, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, ValidationFailed),
    summary="Upload a poster, deck or video to your pitch (multipart, streamed)",
)
async def upload_media(call: Call[Any, Any]) -> Reply:
    pitch_id = call.path_id()
    pitch = await _owned(call, pitch_id)
    request = call.request
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("Send the upload as multipart/form-data (fields kind, file)")
    settings = call.state.settings
    limits = {
        "poster": settings.media_max_poster,
        "deck": settings.media_max_deck,
        "video": settings.media_max_video,
    }
    if request.content_length is not None and request.content_length > max(limits.values()) + FORM_OVERHEAD:
        raise PayloadTooLarge("The upload is larger than any media may be")
    store = blobs(call.state)
    media = MediaStore(call.state.database)
    if await media.count(pitch_id, include_protected=True) >= MAX_MEDIA_PER_PITCH:
        raise Conflict(f"A pitch holds at most {MAX_MEDIA_PER_PITCH} media; delete some first")

    kind: str | None = None
    protected_raw: str | None = None
    stored: _Stored | None = None
    try:
        try:
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    raise ValidationFailed("Nested multipart bodies are not accepted")
                if part.name == "file":
                    if stored is not None:
                        raise ValidationFailed("file: send one file per upload")
                    stored = await store_file(part, store, f"pitches/{pitch_id}", kind, limits)
                elif part.name == "kind":
                    kind = (await _read_field(part, FIELD_MAX)).strip()
                    if kind not in KINDS:
                        raise ValidationFailed(
                            f"kind: must be one of {', '.join(KINDS)}",
                            details=[{"field": "kind", "message": "unknown kind", "type": "enum"}],
                        )
                    if stored is not None and stored.sniffed.kind != kind:
                        raise _wrong_type(kind)
                elif part.name == "protected":
                    protected_raw = await _read_field(part, FIELD_MAX)
                else:
                    # Refused, never skipped, as in a JSON body (the document says
                    # additionalProperties: false).
                    raise ValidationFailed(
                        f"{part.name}: unknown field (send file, kind and protected)",
                        details=[
                            {"field": part.name or "", "message": "unknown field", "type": "extra_forbidden"}
                        ],
                    )
        # HttpProcessingError: a part's headers aiohttp's parser refuses (a control byte in a name).
        except (ValueError, ClientPayloadError, ConnectionResetError, HttpProcessingError) as exc:
            raise BadRequest(f"Malformed or interrupted multipart body: {exc}"[:200]) from None
        if stored is None:
            raise ValidationFailed(
                "file: required", details=[{"field": "file", "message": "required", "type": "missing"}]
            )
        if kind is None:
            raise ValidationFailed(
                "kind: required", details=[{"field": "kind", "message": "required", "type": "missing"}]
            )
        protected = (
            _parse_bool(protected_raw)
            if protected_raw is not None
            else kind != "poster" and pitch.require_nda
        )
        try:
            row = await media.create(
                pitch_id=pitch_id,
                uploaded_by=call.user.user_id,
                kind=kind,
                storage_key=stored.key,
                content_type=stored.sniffed.content_type,
                size_bytes=stored.size,
                sha256=stored.sha256,
                original_name=stored.filename,
                protected=protected,
                max_per_pitch=MAX_MEDIA_PER_PITCH,
            )
        except MediaLimitReached:
            raise Conflict(f"A pitch holds at most {MAX_MEDIA_PER_PITCH} media; delete some first") from None
        if row is None:
            raise PitchNotFound()  # deleted while the file was streaming
    except BaseException:
        if stored is not None:
            await _delete_object(store, stored.key)
        raise
    log.info("media stored pitch=%d key=%s size=%d", pitch_id, row.storage_key, row.size_bytes)
    await call.state.cache.invalidate_tags(pitch_tag(pitch_id))
    return Reply(media_out(row), status=201)


# ---------------------------------------------------------------------------------------------
# List, delete, download
# ---------------------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/pitches/{id}/media",
    auth="optional",
    query=PageQuery,
    response=MediaOut,
    response_list=True,
    tags=("media",),
    errors=(NotFound, Forbidden),
    summary="A pitch's media; protected items only for the owner and approved-NDA holders",
)
async def list_media(call: Call[Any, PageQuery]) -> Reply:
    pitch_id = call.path_id()
    show = (await _viewable(call, pitch_id)).shows_protected
    store = MediaStore(call.state.database)
    q = call.query
    total = await store.count(pitch_id, include_protected=show)
    rows = await store.for_pitch(pitch_id, include_protected=show, limit=q.limit, offset=q.offset)
    return Reply([media_out(m) for m in rows], meta=pagination(q, total))


@api.route(
    "DELETE",
    "/api/pitches/{id}/media/{mediaId}",
    permission=("delete", "media"),
    response=MediaDeleted,
    tags=("media",),
    errors=(NotFound, Forbidden),
    summary="Delete one media item of your pitch (the object and its record)",
)
async def delete_media(call: Call[Any, Any]) -> MediaDeleted:
    pitch_id = call.path_id()
    media_id = call.path_id("mediaId")
    await _owned(call, pitch_id)
    row = await MediaStore(call.state.database).delete(media_id, pitch_id)
    if row is None:
        raise NotFound("Media not found")
    blobs(call.state)
    await delete_objects(call.state, [row.storage_key])
    await call.state.cache.invalidate_tags(pitch_tag(pitch_id))
    return MediaDeleted(id=row.id, deleted=True)


@api.route(
    "PATCH",
    "/api/pitches/{id}/media/{mediaId}",
    body=MediaUpdate,
    permission=("update", "own_pitches"),
    response=MediaOut,
    tags=("media",),
    errors=(NotFound, Forbidden, ValidationFailed),
    summary="Mark one media item of your pitch protected (NDA holders only) or public",
)
async def update_media(call: Call[MediaUpdate, Any]) -> MediaOut:
    pitch_id = call.path_id()
    media_id = call.path_id("mediaId")
    await _owned(call, pitch_id)
    row = await MediaStore(call.state.database).set_protected(media_id, pitch_id, call.body.protected)
    if row is None:
        raise NotFound("Media not found")
    # The detail's media list and the list pages' posters follow at once.
    await call.state.cache.invalidate_tags(pitch_tag(pitch_id))
    return media_out(row)


_DOWNLOAD_RESPONSES = {
    "responses": {
        "200": {
            "description": "The file (local storage); supports Range requests",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "206": {"description": "Part of the file (Range)"},
        "302": {
            "description": "Redirect to a short-lived presigned URL (S3-compatible storage)",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        },
    },
}


@api.route(
    "GET",
    "/api/media/{key:.+}",
    auth="optional",
    tags=("media",),
    openapi_extra=_DOWNLOAD_RESPONSES,
    errors=(NotFound, Forbidden, NdaRequired),
    summary="Download a media file (or a derivative: <key>.w320.webp, .w800.webp, .preview.webp) "
    "under its pitch's visibility and NDA rules",
)
async def download_media(call: Call[Any, Any]) -> web.StreamResponse:
    key = call.request.match_info.get("key", "")
    matched = DOWNLOAD_KEY_RE.match(key)
    if matched is None:
        raise NotFound("Media not found")
    # A derivative is decided by its original's row: the same pitch, the same `protected`.
    row = await MediaStore(call.state.database).by_key(matched["original"])
    if row is None:
        raise NotFound("Media not found")
    decision = await _viewable(call, row.pitch_id)
    if row.protected and not decision.shows_protected:
        raise NdaRequired("This file needs an approved NDA for its pitch")
    variant = matched["variant"]
    if variant is not None and variant not in row.derivatives:
        raise NotFound("Media not found")  # not rendered (yet, or ever)
    store = blobs(call.state)
    if variant is None:
        content_type = row.content_type
        filename = row.original_name
        disposition = content_disposition(filename, f"{row.kind}.{key.rsplit('.', 1)[-1]}")
    else:
        content_type = "image/webp"
        stem = (row.original_name or row.kind).rsplit(".", 1)[0] or row.kind
        filename = f"{stem}-{variant}.webp"
        disposition = content_disposition(filename, f"{row.kind}-{variant}.webp")
    where = await store.delivery(
        key,
        filename=filename or "",
        content_type=content_type,
        disposition=disposition,
        expires=call.state.settings.media_url_ttl,
    )
    if where.url is not None:
        return web.Response(
            status=302,
            headers={
                "Location": where.url,
                "Cache-Control": "private, no-store",
                "Referrer-Policy": "no-referrer",
            },
        )
    assert where.path is not None
    if not await asyncio.to_thread(where.path.is_file):
        log.warning("media row %d has no object at %s", row.id, key)
        raise NotFound("Media not found")
    return web.FileResponse(
        where.path,
        chunk_size=CHUNK,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
            # The pitch page shows the deck in an <iframe>: our own pages may frame a file, no
            # other site may (the app's HTML itself stays unframeable: server/webapp.py).
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "frame-ancestors 'self'",
        },
    )


# ---------------------------------------------------------------------------------------------
# Wiring
# ---------------------------------------------------------------------------------------------


def setup_media(app: web.Application) -> None:
    """Open the blob store with the app (`state.blobs`) and close it on cleanup.

    An unreachable S3 endpoint does not stop the API from starting: media calls fail and /ready
    reports `media: degraded` until it answers.
    """
    state = app[APP_STATE]

    async def context(app: web.Application) -> AsyncIterator[None]:
        store = blobstore_from_settings(state.settings)
        try:
            await store.start()
        except Exception:
            log.error(
                "media storage (%s) could not be prepared; uploads will fail until it is reachable",
                store.backend,
                exc_info=True,
            )
        state.blobs = store
        state.readiness["media"] = store.check
        try:
            yield
        finally:
            state.blobs = None
            state.readiness.pop("media", None)
            with contextlib.suppress(Exception):
                await store.close()

    app.cleanup_ctx.append(context)
