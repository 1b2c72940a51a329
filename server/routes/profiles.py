"""Profiles (every portal), public profiles, avatars and preferences.

The avatar goes through the media store exactly like a pitch poster (server/routes/media.py:
`store_file` sniffs the first bytes, streams and counts against the poster limit); avatars are
public, served at `/api/users/{id}/avatar`. A public profile never shows the email.

See docs/api-accounts.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import BodyPartReader, ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from pitchey.storage.profiles import (
    InvalidBudgetRange,
    Preferences,
    Profile,
    ProfileStore,
    UsernameTaken,
    completeness,
    published_by,
)

from ..api import Api, Call, Reply
from ..errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    UsernameExists,
    ValidationFailed,
)
from ..payments import money_str
from ..schemas import PageQuery, pagination
from ..schemas.accounts import ProfileCompleteness
from ..schemas.profiles import (
    NOTIFICATION_KINDS,
    ChannelsOut,
    InvestmentPrefsOut,
    PreferencesOut,
    PreferencesUpdate,
    ProfileOut,
    ProfileUpdate,
    PublicUserOut,
)
from ._shared import rows_out, viewer
from .media import CHUNK, FORM_OVERHEAD, blobs, delete_objects, store_file

log = logging.getLogger("pitchey.server.profiles")

api = Api()

_AVATAR_TYPES = "An avatar must be a JPEG, PNG or WebP image"


def profiles(call: Call[Any, Any]) -> ProfileStore:
    return ProfileStore(call.state.database)


def avatar_url(p: Profile) -> str | None:
    if p.avatar_key is None:
        return None
    # The key's random part changes with every upload, so browsers may cache each URL for long.
    version = p.avatar_key.rsplit("/", 1)[-1].split(".", 1)[0][:12]
    return f"/api/users/{p.id}/avatar?v={version}"


def profile_out(p: Profile) -> ProfileOut:
    return ProfileOut(
        id=p.id,
        email=p.email,
        username=p.username,
        name=p.name,
        first_name=p.first_name,
        last_name=p.last_name,
        company=p.company_name,
        bio=p.bio,
        location=p.location,
        website=p.website,
        avatar_url=avatar_url(p),
        user_type=p.user_type,
        created_at=p.created_at,
        updated_at=p.updated_at,
        completeness=ProfileCompleteness.model_validate(completeness(p)),
    )


async def my_profile(call: Call[Any, Any]) -> Profile:
    found = await profiles(call).get(call.user.user_id)
    if found is None:  # the account was deleted after the token was issued
        raise NotFound("Account not found")
    return found


# -- my profile ----------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/user/profile",
    response=ProfileOut,
    tags=("profiles",),
    summary="The caller's own profile, with how complete it is",
)
async def get_profile(call: Call[Any, Any]) -> ProfileOut:
    return profile_out(await my_profile(call))


@api.route(
    "PUT",
    "/api/user/profile",
    body=ProfileUpdate,
    response=ProfileOut,
    permission=("update", "profile"),
    tags=("profiles",),
    errors=(UsernameExists, ValidationFailed),
    summary="Change the caller's profile (only the fields sent); a taken username is 409",
)
async def update_profile(call: Call[ProfileUpdate, Any]) -> ProfileOut:
    try:
        updated = await profiles(call).update(call.user.user_id, call.body.changes())
    except UsernameTaken:
        raise UsernameExists() from None
    if updated is None:
        raise NotFound("Account not found")
    return profile_out(updated)


_AVATAR_BODY = {
    "requestBody": {
        "required": True,
        "description": "One field, `file`: a JPEG, PNG or WebP image (checked by its content), "
        "at most the poster size limit.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,  # another field is refused (422 naming it)
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "minLength": 1,  # an empty file is refused (422)
                            "contentMediaType": "application/octet-stream",
                        }
                    },
                }
            }
        },
    },
}


@api.route(
    "PUT",
    "/api/user/avatar",
    permission=("update", "profile"),
    response=ProfileOut,
    tags=("profiles",),
    openapi_extra=_AVATAR_BODY,
    errors=(PayloadTooLarge, UnsupportedMediaType, ValidationFailed),
    summary="Upload the caller's avatar (multipart `file`; an image, checked like a poster)",
)
async def upload_avatar(call: Call[Any, Any]) -> ProfileOut:
    request = call.request
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("Send the avatar as multipart/form-data (field file)")
    limit = call.state.settings.media_max_poster
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        raise PayloadTooLarge(f"An avatar may be at most {limit} bytes", details={"limit": limit})
    store = blobs(call.state)
    me = call.user.user_id
    key: str | None = None
    try:
        try:
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader) or part.name != "file":
                    raise ValidationFailed(
                        "Send one field, file",
                        details=[
                            {"field": part.name or "", "message": "unknown field", "type": "extra_forbidden"}
                        ]
                        if isinstance(part, BodyPartReader)
                        else None,
                    )
                if key is not None:
                    raise ValidationFailed("file: send one file")
                try:
                    stored = await store_file(part, store, f"avatars/{me}", "poster", {"poster": limit})
                except UnsupportedMediaType:
                    raise UnsupportedMediaType(_AVATAR_TYPES) from None
                except PayloadTooLarge:
                    raise PayloadTooLarge(
                        f"An avatar may be at most {limit} bytes", details={"limit": limit}
                    ) from None
                key = stored.key
        # HttpProcessingError: a part's headers aiohttp's parser refuses (a control byte in a name).
        except (ValueError, ClientPayloadError, ConnectionResetError, HttpProcessingError) as exc:
            raise BadRequest(f"Malformed or interrupted multipart body: {exc}"[:200]) from None
        if key is None:
            raise ValidationFailed(
                "file: required", details=[{"field": "file", "message": "required", "type": "missing"}]
            )
        changed = await profiles(call).set_avatar(me, key)
        if changed is None:
            raise NotFound("Account not found")
    except BaseException:
        if key is not None:
            await delete_objects(call.state, [key])
        raise
    profile, old = changed
    if old is not None:
        await delete_objects(call.state, [old])
    return profile_out(profile)


@api.route(
    "DELETE",
    "/api/user/avatar",
    permission=("update", "profile"),
    response=ProfileOut,
    tags=("profiles",),
    summary="Remove the caller's avatar (idempotent)",
)
async def delete_avatar(call: Call[Any, Any]) -> ProfileOut:
    changed = await profiles(call).set_avatar(call.user.user_id, None)
    if changed is None:
        raise NotFound("Account not found")
    profile, old = changed
    if old is not None:
        await delete_objects(call.state, [old])
    return profile_out(profile)


# -- public profiles -------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/users/{id}",
    auth="optional",
    query=PageQuery,
    response=PublicUserOut,
    tags=("profiles",),
    errors=(NotFound,),
    summary="A user's public profile: never the email; their visible published pitches (paginated)",
)
async def public_profile(call: Call[Any, PageQuery]) -> Reply:
    user_id = call.path_id()
    store = profiles(call)
    p = await store.get(user_id)
    if p is None:
        raise NotFound("User not found")
    q = call.query
    v = viewer(call.principal)
    counts = await store.counts(user_id, v.user_id)
    page = await published_by(call.state.database, user_id, v, limit=q.limit, offset=q.offset)
    out = PublicUserOut(
        id=p.id,
        username=p.username,
        name=p.name,
        first_name=p.first_name,
        last_name=p.last_name,
        company=p.company_name,
        bio=p.bio,
        location=p.location,
        website=p.website,
        avatar_url=avatar_url(p),
        user_type=p.user_type,
        member_since=p.created_at,
        follower_count=counts.followers,
        following_count=counts.following,
        following=None if v.user_id in (0, user_id) else counts.followed_by_viewer,
        pitches=await rows_out(call, page.rows),
        pitch_count=page.total,
    )
    return Reply(out, meta=pagination(q, page.total))


_AVATAR_RESPONSES = {
    "responses": {
        "200": {
            "description": "The image (local storage)",
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "302": {
            "description": "Redirect to a short-lived presigned URL (S3-compatible storage)",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        },
    },
}


@api.route(
    "GET",
    "/api/users/{id}/avatar",
    auth="none",
    tags=("profiles",),
    openapi_extra=_AVATAR_RESPONSES,
    errors=(NotFound,),
    summary="A user's avatar image (public)",
)
async def get_avatar(call: Call[Any, Any]) -> web.StreamResponse:
    user_id = call.path_id()
    key = await profiles(call).avatar_key(user_id)
    if key is None:
        raise NotFound("No avatar")
    ext = key.rsplit(".", 1)[-1]
    content_type = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[ext]
    store = blobs(call.state)
    where = await store.delivery(
        key,
        filename=f"avatar.{ext}",
        content_type=content_type,
        disposition=f'inline; filename="avatar.{ext}"',
        expires=call.state.settings.media_url_ttl,
    )
    # The URL carries the key's version (avatar_url), so a new upload is a new URL.
    cache = "public, max-age=86400" if call.request.query.get("v") else "public, no-cache"
    if where.url is not None:
        return web.Response(status=302, headers={"Location": where.url, "Cache-Control": "no-store"})
    assert where.path is not None
    if not await asyncio.to_thread(where.path.is_file):
        log.warning("user %d's avatar has no object at %s", user_id, key)
        raise NotFound("No avatar")
    return web.FileResponse(
        where.path,
        chunk_size=CHUNK,
        headers={
            "Content-Type": content_type,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": cache,
        },
    )


# -- preferences ---------------------------------------------------------------------------------


def preferences_out(prefs: Preferences, user_type: str) -> PreferencesOut:
    notifications = {
        kind: ChannelsOut(
            live=prefs.notifications.get(kind, {}).get("live", True),
            email_digest=prefs.notifications.get(kind, {}).get("emailDigest", False),
        )
        for kind in NOTIFICATION_KINDS
    }
    investment = (
        InvestmentPrefsOut(
            genres=list(prefs.genres),
            formats=list(prefs.formats),
            budget_min=money_str(prefs.budget_min) if prefs.budget_min is not None else None,
            budget_max=money_str(prefs.budget_max) if prefs.budget_max is not None else None,
        )
        if user_type == "investor"
        else None
    )
    return PreferencesOut.model_validate(
        {"notifications": notifications, "investment": investment, "updated_at": prefs.updated_at}
    )


@api.route(
    "GET",
    "/api/user/preferences",
    response=PreferencesOut,
    tags=("profiles",),
    summary="The caller's notification settings (and an investor's investment preferences)",
)
async def get_preferences(call: Call[Any, Any]) -> PreferencesOut:
    me = call.user
    return preferences_out(await profiles(call).preferences(me.user_id), me.user_type)


@api.route(
    "PUT",
    "/api/user/preferences",
    body=PreferencesUpdate,
    response=PreferencesOut,
    permission=("update", "preferences"),
    tags=("profiles",),
    errors=(ValidationFailed, Forbidden),
    summary="Change notification settings per kind and channel; investors also what they invest in",
)
async def update_preferences(call: Call[PreferencesUpdate, Any]) -> PreferencesOut:
    me = call.user
    body = call.body
    changes: dict[str, Any] = {}
    if body.investment is not None:
        if me.user_type != "investor":
            # A rule about the caller's portal (403), not a malformed body.
            raise Forbidden(
                "investment: only investor accounts have investment preferences",
                details=[{"field": "investment", "message": "investors only", "type": "value_error"}],
            )
        changes.update(body.investment.changes())
    if body.notifications is not None:
        changes["notifications"] = {
            kind: {
                name: on
                for name, on in (("live", channels.live), ("emailDigest", channels.email_digest))
                if on is not None
            }
            for kind, channels in body.notifications.items()
        }
    try:
        saved = await profiles(call).save_preferences(me.user_id, changes)
    except InvalidBudgetRange:
        raise ValidationFailed(
            "investment.budgetMin: must not exceed budgetMax",
            details=[
                {
                    "field": "investment.budgetMin",
                    "message": "must not exceed budgetMax",
                    "type": "value_error",
                }
            ],
        ) from None
    return preferences_out(saved, me.user_type)
