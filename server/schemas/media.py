"""Pitch media: what a stored item looks like to a client."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import Field

from . import Input, Schema
from .fields import Flag

Kind = Literal["poster", "deck", "video"]
THUMBNAIL_VARIANTS = ("w320", "w800")


def media_url(storage_key: str) -> str:
    return f"/api/media/{storage_key}"


def derivative_url(storage_key: str, variant: str) -> str:
    # pitchey.storage.media.derivative_key: `<original key>.<variant>.webp`
    return f"/api/media/{storage_key}.{variant}.webp"


def poster_srcset(storage_key: str, derivatives: Mapping[str, Mapping[str, int]]) -> str | None:
    """`srcset` for a poster: its thumbnails and the original, by width; None until the job
    rendered them, and for a poster too small for any (there is nothing to choose between). The
    original must be a candidate: with width descriptors a browser picks only from the set, never
    the `src`, so without it a 500 px poster's 320 px thumbnail would be all a large screen got."""
    original = derivatives.get("original")
    parts = [
        f"{derivative_url(storage_key, v)} {derivatives[v]['width']}w"
        for v in THUMBNAIL_VARIANTS
        if v in derivatives
    ]
    if original is None or not parts:
        return None
    parts.append(f"{media_url(storage_key)} {original['width']}w")
    return ", ".join(parts)


class Thumbnail(Schema):
    url: str
    width: int
    height: int


class MediaOut(Schema):
    id: int
    pitch_id: int
    kind: Kind
    url: str = Field(description="GET it with the caller's credentials (cookie or bearer)")
    content_type: str
    size: int
    sha256: str
    filename: str | None
    protected: bool = Field(description="only the owner and approved-NDA holders may download")
    created_at: datetime
    thumbnails: list[Thumbnail] = Field(
        default_factory=list,
        description="A poster's smaller WEBP renditions (320 and 800 px wide, only those narrower "
        "than the original), narrowest first; empty until the background job rendered them. Same "
        "access rules as `url`",
    )
    srcset: str | None = Field(
        None,
        description="A poster's `srcset` (its thumbnails and the original, by width), as "
        "`posterSrcset` in list answers; null until rendered, for a poster narrower than 320 px, "
        "and for decks and videos",
    )
    width: int | None = Field(
        None,
        description="A poster's width in pixels as shown (EXIF orientation applied); null until the "
        "background job read it, and for decks and videos",
    )
    height: int | None = Field(None, description="A poster's height, as `width`")
    preview_url: str | None = Field(
        None,
        description="A deck's first page or a video's frame as a WEBP image (800 px wide at most); "
        "null until the background job rendered it, or for a file it cannot render",
    )


class MediaDeleted(Schema):
    id: int
    deleted: bool


class MediaUpdate(Input):
    protected: Flag = Field(description="true: only the owner and approved-NDA holders may download it")
