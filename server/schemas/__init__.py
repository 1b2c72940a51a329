"""Request and response schemas shared across endpoints. camelCase on the wire, snake_case in code."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    """Base: camelCase aliases, accept either spelling on input, ignore unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", str_strip_whitespace=True
    )


class Empty(Schema):
    pass


# A password is exactly what was typed: never stripped like the other strings.
Password = Annotated[str, StringConstraints(strip_whitespace=False)]


class RegisterBody(Schema):
    email: EmailStr = Field(max_length=254)
    password: Password = Field(min_length=8, max_length=256)
    username: str | None = Field(None, min_length=2, max_length=50, pattern=r"^[\w.\-]+$")
    name: str | None = Field(None, min_length=1, max_length=200)
    company_name: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("email")
    @classmethod
    def _normalise(cls, v: str) -> str:
        return v.strip().lower()


class LoginBody(Schema):
    email: EmailStr = Field(max_length=254)
    password: Password = Field(min_length=1, max_length=256)

    @field_validator("email")
    @classmethod
    def _normalise(cls, v: str) -> str:
        return v.strip().lower()


class UserOut(Schema):
    id: int
    email: str
    username: str | None
    name: str | None
    company_name: str | None
    user_type: Literal["creator", "investor", "production"]
    created_at: datetime


class AuthResult(Schema):
    user: UserOut
    token: str
    expires_at: datetime


class SessionOut(Schema):
    user: UserOut
    expires_at: datetime


class LoggedOut(Schema):
    logged_out: bool


class Health(Schema):
    status: Literal["ok"]


class Readiness(Schema):
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, object]


PitchStatus = Literal["draft", "published", "archived"]
Visibility = Literal["public", "investors_only", "private"]


class PitchCreate(Schema):
    title: str = Field(min_length=1, max_length=255)
    logline: str | None = Field(None, max_length=1000)
    genre: str | None = Field(None, max_length=100)
    format: str | None = Field(None, max_length=100)
    synopsis: str | None = Field(None, max_length=20000)
    budget: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    target_audience: str | None = Field(None, max_length=500)
    status: PitchStatus = "draft"
    visibility: Visibility = "public"
    require_nda: bool = False


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


class LikeOut(Schema):
    liked: bool
    like_count: int


class NdaRequestBody(Schema):
    pitch_id: int = Field(ge=1)
    message: str | None = Field(None, max_length=2000)


class NdaDecisionBody(Schema):
    reason: str | None = Field(None, max_length=2000)


class NdaOut(Schema):
    id: int
    pitch_id: int
    requester_id: int
    owner_id: int
    status: Literal["pending", "approved", "rejected", "revoked"]
    message: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
