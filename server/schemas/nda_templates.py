"""NDA templates (a creator's NDA texts, in versions) and the agreements signed under them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from . import Input, Schema, not_null
from .catalog import UserSummary
from .profiles import Line, Para

Title = Annotated[Line, Field(min_length=1, max_length=200)]
Body = Annotated[Para, Field(min_length=1, max_length=50_000)]
Term = Annotated[int, Field(ge=1, le=120, strict=True)]
Jurisdiction = Annotated[Line, Field(min_length=1, max_length=200)]


class NdaTemplateCreate(Input):
    title: Title
    body: Body = Field(description="The NDA's text, in Markdown (shown escaped: no raw HTML)")
    term_months: Term = Field(description="How long an NDA signed under it lasts, from countersignature")
    jurisdiction: Jurisdiction


class NdaTemplateUpdate(Input):
    """Any subset of the terms; a change writes the next version (the old ones stay)."""

    model_config = ConfigDict(json_schema_extra=not_null("title", "body", "term_months", "jurisdiction"))

    title: Title | None = None
    body: Body | None = None
    term_months: Term | None = None
    jurisdiction: Jurisdiction | None = None

    @model_validator(mode="after")
    def _check(self) -> NdaTemplateUpdate:
        if not self.model_fields_set:
            raise ValueError("Send at least one field to change")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class NdaTemplateVersionOut(Schema):
    """One version: exactly the text a requester reads, and the hash of it they accept."""

    id: int
    template_id: int
    version: int
    title: str
    body: str
    term_months: int
    jurisdiction: str
    content_hash: str = Field(
        description="SHA-256 (hex) of the canonical JSON of {body, jurisdiction, termMonths, title}"
    )
    created_at: datetime


class NdaTemplateOut(Schema):
    id: int
    owner_id: int
    version: int = Field(description="The current version's number")
    title: str
    body: str
    term_months: int
    jurisdiction: str
    content_hash: str
    created_at: datetime
    updated_at: datetime
    pitch_count: int = Field(description="Pitches requiring it")
    agreement_count: int = Field(description="NDAs requested under one of its versions")
    versions: list[NdaTemplateVersionOut] | None = Field(
        None, description="Only in GET /api/nda-templates/{id}: every version, newest first"
    )


class NdaTemplateDeleted(Schema):
    id: int
    outcome: Literal["deleted", "archived"] = Field(
        description="archived: NDAs were requested under it; they keep their version, the "
        "template leaves the list and can no longer be chosen"
    )


class PitchNdaTemplateOut(Schema):
    """The NDA a pitch requires, for someone who may request one: accept it by its hash."""

    pitch_id: int
    template: NdaTemplateVersionOut | None = Field(
        description="null: the pitch names no template (a request needs no acceptance)"
    )


class AgreementOut(Schema):
    """A countersigned NDA as one of its parties lists it."""

    nda_id: int
    status: Literal["pending", "approved", "rejected", "revoked", "expired"]
    role: Literal["requester", "owner"] = Field(description="The caller's side of it")
    pitch_id: int
    pitch_title: str
    other_party: UserSummary
    template_id: int
    template_title: str
    template_version: int
    template_hash: str
    term_months: int
    jurisdiction: str
    accepted_at: datetime
    countersigned_at: datetime | None
    expires_at: datetime | None
    expired_at: datetime | None
    document_url: str
