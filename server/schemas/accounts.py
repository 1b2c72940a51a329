"""Accounts: register, log in, the session."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, EmailStr, Field, StringConstraints, field_validator

from pitchey.protocol.text import PARA_PATTERN, TextPattern

from . import Input, Schema
from .fields import Line, check_para

# A password is exactly what was typed: never stripped like the other strings. It may hold any
# text a person can type (the text rule of `Para`: no NUL or other control characters).
Password = Annotated[
    str, StringConstraints(strip_whitespace=False), AfterValidator(check_para), TextPattern(PARA_PATTERN)
]


def _special_use_pattern() -> str:
    # email-validator refuses addresses at special-use names (`.test`, `.invalid`, `.localhost`,
    # ...) although `format: email` allows them: the document says so too, case-insensitively
    # (a JSON Schema pattern has no flags).
    names = ("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in n) for n in SPECIAL_USE_DOMAIN_NAMES)
    return rf"^(?!.*[.@]({'|'.join(names)})$)"


Email = Annotated[EmailStr, Field(max_length=254, json_schema_extra={"pattern": _special_use_pattern()})]
"""An address email-validator accepts: its syntax, and no special-use domain."""

Username = Annotated[str, Field(min_length=2, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")]
"""ASCII letters, digits, `_`, `.` and `-` (the same on register and profile edits; the document
states it as written: a word-character class would mean ASCII to a JSON Schema validator and more
to pydantic)."""


class RegisterBody(Input):
    email: Email
    password: Password = Field(min_length=8, max_length=256)
    username: Username | None = None
    name: Line | None = Field(None, min_length=1, max_length=200)
    company_name: Line | None = Field(None, min_length=1, max_length=200)
    user_type: Literal["creator", "investor", "production"] | None = Field(
        None,
        description="Not used: the portal in the path is the account type. Accepted because the "
        "original Pitchey clients send it with every registration.",
    )

    @field_validator("email")
    @classmethod
    def _normalise(cls, v: str) -> str:
        return v.strip().lower()


class LoginBody(Input):
    email: Email
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


class ProfileCompleteness(Schema):
    percent: int = Field(ge=0, le=100)
    missing: list[str] = Field(description="camelCase names of the profile fields still empty")


class SessionOut(Schema):
    user: UserOut
    expires_at: datetime
    profile_completeness: ProfileCompleteness | None = Field(
        None, description="How complete the profile is (GET/PUT /api/user/profile), so a client can prompt"
    )


class LoggedOut(Schema):
    logged_out: bool
