"""Pitch media: what a stored item looks like to a client."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from . import Input, Schema
from .fields import Flag

Kind = Literal["poster", "deck", "video"]


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


class MediaDeleted(Schema):
    id: int
    deleted: bool


class MediaUpdate(Input):
    protected: Flag = Field(description="true: only the owner and approved-NDA holders may download it")
