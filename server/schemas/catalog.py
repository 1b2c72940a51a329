"""Request and response models of the catalog: pitch lists and edits, follows, NDA lists."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from pitchey.protocol.models import NdaOut as NdaOut  # shared with the live frames

from . import Input, PageQuery, Schema, not_null
from .fields import AmountIn, Flag, Id, Line, Para

PitchStatus = Literal["draft", "published", "archived"]
Visibility = Literal["public", "investors_only", "private"]


class PitchCreate(Input):
    title: Line = Field(min_length=1, max_length=255)
    logline: Para | None = Field(None, max_length=1000)
    genre: Line | None = Field(None, max_length=100)
    format: Line | None = Field(None, max_length=100)
    synopsis: Para | None = Field(None, max_length=20000)
    budget: AmountIn | None = None
    target_audience: Para | None = Field(None, max_length=500)
    status: PitchStatus = "draft"
    visibility: Visibility = "public"
    require_nda: Flag = False
    nda_template_id: Id | None = Field(
        None, description="One of the caller's NDA templates requesters must accept"
    )


class PitchOut(Schema):
    id: int
    user_id: int
    title: str
    logline: str | None
    genre: str | None
    format: str | None
    synopsis: str | None = None
    budget: Decimal | None = None
    target_audience: str | None
    status: PitchStatus
    visibility: Visibility
    require_nda: bool
    view_count: int
    like_count: int
    protected: bool = Field(description="True when NDA-protected fields were withheld")
    created_at: datetime
    updated_at: datetime
    nda_template_id: int | None = Field(
        None, description="The NDA template a requester accepts (GET /api/pitches/{id}/nda-template)"
    )


class LikeOut(Schema):
    liked: bool
    like_count: int


class NdaRequestBody(Input):
    pitch_id: Id
    message: Para | None = Field(None, max_length=2000)
    accept_template_hash: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="Required when the pitch names an NDA template: the contentHash of the version "
        "the requester read and accepts (GET /api/pitches/{id}/nda-template)",
    )


class NdaDecisionBody(Input):
    reason: Para | None = Field(None, max_length=2000)


class UserSummary(Schema):
    """What anyone may know of another user (never the email)."""

    id: int
    username: str | None
    name: str | None
    company_name: str | None
    user_type: Literal["creator", "investor", "production"]


class CatalogPitchOut(PitchOut):
    """A pitch as every endpoint returns it: `synopsis`/`budget` are null and `protected` true
    when the pitch requires an NDA the caller does not hold."""

    published_at: datetime | None = None
    creator: UserSummary | None = None
    media: list[dict[str, Any]] | None = Field(
        None,
        description="Only in GET /api/pitches/{id}: the pitch's media the caller may see "
        "(protected items only for the owner and approved-NDA holders)",
    )
    trending_score: float | None = Field(
        None, description="Only in /api/pitches/trending: the time-decayed activity score"
    )
    save_count: int | None = Field(
        None,
        description="Only for the pitch's owner (GET /api/pitches/my and the detail): how many "
        "investors saved it (never who)",
    )
    poster_url: str | None = Field(
        None,
        description="In list answers: the newest poster the caller may see (a protected poster only "
        "for the owner and approved-NDA holders), fetched with the caller's credentials",
    )
    poster_srcset: str | None = Field(
        None,
        description="In list answers: `srcset` for that poster (its 320 and 800 px WEBP thumbnails "
        "and the original, by width), null until the thumbnails were rendered (and for a poster "
        "narrower than 320 px, which has none)",
    )


class PitchUpdate(Input):
    """A partial update: only the fields sent change; `null` clears an optional field."""

    model_config = ConfigDict(json_schema_extra=not_null("title", "status", "visibility", "require_nda"))

    title: Line | None = Field(None, min_length=1, max_length=255)
    logline: Para | None = Field(None, max_length=1000)
    genre: Line | None = Field(None, max_length=100)
    format: Line | None = Field(None, max_length=100)
    synopsis: Para | None = Field(None, max_length=20000)
    budget: AmountIn | None = None
    target_audience: Para | None = Field(None, max_length=500)
    status: PitchStatus | None = None
    visibility: Visibility | None = None
    require_nda: Flag | None = None
    nda_template_id: Id | None = Field(None, description="null: no template")

    @model_validator(mode="after")
    def _check(self) -> PitchUpdate:
        if not self.model_fields_set:
            raise ValueError("Send at least one field to change")
        for name in ("title", "status", "visibility", "require_nda"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


Sort = Literal["newest", "views", "likes", "budget", "title", "relevance"]


class BrowseQuery(PageQuery):
    genre: Line | None = Field(None, min_length=1, max_length=100)
    status: PitchStatus = Field("published", description="Other statuses list only the caller's own pitches")
    budget_min: AmountIn | None = None
    budget_max: AmountIn | None = None
    q: Line | None = Field(
        None, min_length=1, max_length=200, description="Words of title, logline or genre (prefixes match)"
    )
    sort: Sort = Field("newest", description="relevance without q orders as newest")
    order: Literal["asc", "desc"] | None = Field(None, description="Default: asc for title, desc otherwise")
    # No rule across parameters (the document could not state it): budgetMin above budgetMax is
    # an empty range and lists nothing; relevance without q is newest first (storage/pitches.py).


class MyPitchesQuery(PageQuery):
    status: PitchStatus | None = None


class PitchDeleted(Schema):
    id: int
    deleted: bool


class FollowBody(Input):
    user_id: Id


class FollowOut(Schema):
    user: UserSummary
    following: bool
    created: bool = Field(description="False when the follow already existed")
    followed_at: datetime | None


class FollowItem(Schema):
    user: UserSummary
    followed_at: datetime


NdaStatusFilter = Literal["pending", "approved", "rejected", "revoked", "expired", "all"]


class IncomingNdaQuery(PageQuery):
    status: NdaStatusFilter = "pending"


class OutgoingNdaQuery(PageQuery):
    status: NdaStatusFilter = "all"


class NdaListItem(NdaOut):
    pitch_title: str
    other_party: UserSummary = Field(
        description="The requester on incoming lists, the pitch owner on outgoing/signed ones"
    )
