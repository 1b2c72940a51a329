"""Request and response schemas shared across endpoints. camelCase on the wire, snake_case in code."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    """Base: camelCase aliases, accept either spelling on input, ignore unknown fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore",
                              str_strip_whitespace=True)


class Empty(Schema):
    pass


class RegisterBody(Schema):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=8, max_length=256)
    username: str | None = Field(None, min_length=2, max_length=50, pattern=r"^[\w.\-]+$")
    name: str | None = Field(None, min_length=1, max_length=200)
    company_name: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("email")
    @classmethod
    def _normalise(cls, v: str) -> str:
        return v.strip().lower()


class LoginBody(Schema):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=1, max_length=256)

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
