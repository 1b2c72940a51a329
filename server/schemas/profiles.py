"""Profiles (every portal), public profiles, preferences and saved pitches."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

# Notification kinds a person can switch per channel: every kind the server stores (one list, in
# the protocol package, with which rooms and routes type the notifications they send).
from pitchey.protocol.models import NOTIFICATION_KINDS as NOTIFICATION_KINDS
from pitchey.protocol.models import NotificationKind as NotificationKind

from ..payments import Money
from . import Input, Schema, not_null
from .accounts import ProfileCompleteness, Username
from .catalog import CatalogPitchOut
from .fields import Flag, MoneyIn, check_line
from .fields import Line as Line  # re-exported: other areas import the text types from here
from .fields import Para as Para

# Text is the shared `Line`/`Para` (protocol/text.py): no NUL, no control characters.


# The rule is this pattern, which the document carries as it is: http(s)://, optional user info,
# a host with a dot, an optional port, then anything but white space; no control characters.
WEBSITE_PATTERN = (
    r"^(?!.*[\u0000-\u001f\u007f-\u009f])[hH][tT][tT][pP][sS]?://(?:[^\s/?#@]+@)?"
    r"[^\s/?#@:\[\]]+\.[^\s/?#@:\[\]]+(?::[0-9]{1,5})?(?:[/?#]\S*)?$"
)
_WEBSITE = re.compile(WEBSITE_PATTERN)


def _website(v: Any) -> Any:
    # On the raw value, before white space is trimmed: the pattern is exact (no spaces at all).
    if not isinstance(v, str):
        return v
    check_line(v)
    if " " in v:
        raise ValueError("must be a web address without spaces")
    if not _WEBSITE.match(v):
        raise ValueError("must be an http:// or https:// web address, e.g. https://example.com")
    return v


Website = Annotated[
    str,
    BeforeValidator(_website),
    WithJsonSchema({"type": "string", "maxLength": 500, "pattern": WEBSITE_PATTERN}),
]


class ProfileOut(Schema):
    id: int
    email: str
    username: str | None
    name: str | None = Field(description="The display name: first and last name joined")
    first_name: str | None
    last_name: str | None
    company: str | None
    bio: str | None
    location: str | None
    website: str | None
    avatar_url: str | None
    user_type: Literal["creator", "investor", "production"]
    created_at: datetime
    updated_at: datetime
    completeness: ProfileCompleteness


class ProfileUpdate(Input):
    """A partial update: only the fields sent change; `null` clears one. A username another
    account holds (case-insensitively) is 409 USERNAME_EXISTS."""

    first_name: Line | None = Field(None, min_length=1, max_length=100)
    last_name: Line | None = Field(None, min_length=1, max_length=100)
    username: Username | None = None
    bio: Para | None = Field(None, max_length=2000)
    company: Line | None = Field(None, min_length=1, max_length=200)
    location: Line | None = Field(None, min_length=1, max_length=200)
    website: Website | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _check(self) -> ProfileUpdate:
        if not self.model_fields_set:
            raise ValueError("Send at least one field to change")
        return self

    def changes(self) -> dict[str, object]:
        column = {"company": "company_name"}
        return {column.get(n, n): getattr(self, n) for n in self.model_fields_set}


class PublicUserOut(Schema):
    """What anyone may know of a user: never the email."""

    id: int
    username: str | None
    name: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    bio: str | None
    location: str | None
    website: str | None
    avatar_url: str | None
    user_type: Literal["creator", "investor", "production"]
    member_since: datetime
    follower_count: int
    following_count: int
    following: bool | None = Field(description="Whether the caller follows them (null: anonymous or oneself)")
    pitches: list[CatalogPitchOut] = Field(
        description="Their published pitches the caller may see, newest first (page/limit)"
    )
    pitch_count: int


# -- preferences --------------------------------------------------------------------------------


class ChannelsOut(Schema):
    live: bool = Field(description="Pushed to open tabs as it happens")
    email_digest: bool = Field(description="Included in the daily email digest while unread")


class ChannelsIn(Input):
    live: Flag | None = None
    email_digest: Flag | None = None


class InvestmentPrefsOut(Schema):
    genres: list[str]
    formats: list[str]
    budget_min: Money | None
    budget_max: Money | None


Tag = Annotated[Line, Field(min_length=1, max_length=100)]


class InvestmentPrefsIn(Input):
    model_config = ConfigDict(json_schema_extra=not_null("genres", "formats"))

    genres: list[Tag] | None = Field(None, max_length=20)
    formats: list[Tag] | None = Field(None, max_length=20)
    budget_min: MoneyIn | None = None
    budget_max: MoneyIn | None = None

    @model_validator(mode="after")
    def _check(self) -> InvestmentPrefsIn:
        for name in ("genres", "formats"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null (send [] to clear)")
        if self.budget_min is not None and self.budget_max is not None and self.budget_min > self.budget_max:
            raise ValueError("budgetMin must not exceed budgetMax")
        return self

    def changes(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name in ("genres", "formats"):
                seen: dict[str, str] = {}
                for item in value:
                    seen.setdefault(item.strip().lower(), item.strip())
                value = list(seen.values())
            out[name] = value
        return out


class PreferencesOut(Schema):
    notifications: dict[NotificationKind, ChannelsOut] = Field(
        description="Every notification kind with its channels (unset kinds: live on, digest off)"
    )
    investment: InvestmentPrefsOut | None = Field(
        description="What an investor invests in (used by recommendations); null for other portals"
    )
    updated_at: datetime | None


class PreferencesUpdate(Input):
    notifications: dict[NotificationKind, ChannelsIn] | None = None
    investment: InvestmentPrefsIn | None = None

    @model_validator(mode="after")
    def _check(self) -> PreferencesUpdate:
        if not self.model_fields_set:
            raise ValueError("Send notifications or investment")
        return self


# -- saved pitches ------------------------------------------------------------------------------


class SaveOut(Schema):
    pitch_id: int
    saved: bool
    saved_at: datetime | None


class SavedPitchOut(Schema):
    pitch: CatalogPitchOut
    saved_at: datetime
