"""Request and response models of pitch collaborators and co-edited documents (docs/api.md,
"Collaborators and documents")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from . import Input, Schema, exactly_one
from .accounts import Email

# A user id as a strict BIGINT: a huge number is a 422 naming the field, never a 500.
UserId = Annotated[int, Field(ge=1, le=2**63 - 1, strict=True)]
Role = Literal["editor", "viewer"]
DocumentName = Literal["synopsis", "treatment", "notes"]


class CollaboratorInvite(Input):
    model_config = ConfigDict(json_schema_extra=exactly_one("user_id", "email"))

    user_id: UserId | None = None
    email: Email | None = None
    role: Role

    @model_validator(mode="after")
    def _one_of(self) -> CollaboratorInvite:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("send exactly one of userId and email")
        return self


class CollaboratorOut(Schema):
    pitch_id: int
    user_id: int
    name: str
    user_type: str
    role: Role
    status: Literal["pending", "accepted", "declined"]
    invited_by: int | None
    invited_at: datetime
    responded_at: datetime | None


class CollaboratorList(Schema):
    collaborators: list[CollaboratorOut]


class CollaborationOut(CollaboratorOut):
    pitch_title: str


class CollaborationList(Schema):
    collaborations: list[CollaborationOut]


class CollaboratorRemoved(Schema):
    removed: bool


class DocumentInfoOut(Schema):
    name: DocumentName
    size: int = Field(description="Bytes of the stored state (snapshot plus its tail)")
    updated_at: datetime | None


class DocumentsOut(Schema):
    pitch_id: int
    role: Literal["owner", "editor", "viewer", "nda"]
    can_write: bool
    documents: list[DocumentInfoOut]


class VersionOut(Schema):
    id: int
    author_id: int | None = Field(description="Who wrote last before this snapshot (null: the server)")
    author_name: str | None
    size: int
    created_at: datetime


class VersionList(Schema):
    versions: list[VersionOut]


class VersionRestored(Schema):
    restored: bool
    version_id: int
