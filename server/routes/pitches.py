"""Pitches: create, read (which records a view), like. Reads and likes go through the pitch's room
actor, so each write is also a live event to everyone in the room."""

from __future__ import annotations

from typing import Any

from pitchey.rooms.access import can_view_pitch
from pitchey.rooms.messages import RecordView, SetLike
from pitchey.storage.pitches import Access, Pitch

from ..api import Api, Call, Reply
from ..errors import Forbidden, NotFound, PitchNotFound
from ..schemas import Empty, LikeOut, PitchCreate, PitchOut

api = Api()


def realtime_hub(call: Call[Any, Any]) -> Any:
    return call.state.extras["realtime"].hub


def pitch_out(pitch: Pitch, *, show_protected: bool) -> PitchOut:
    """NDA-protected fields (synopsis, budget) only for the owner and approved-NDA holders."""
    hidden = pitch.require_nda and not show_protected
    return PitchOut(
        id=pitch.id, user_id=pitch.user_id, title=pitch.title, logline=pitch.logline,
        genre=pitch.genre, format=pitch.format,
        synopsis=None if hidden else pitch.synopsis, budget=None if hidden else pitch.budget,
        target_audience=pitch.target_audience, status=pitch.status,
        visibility=pitch.visibility,
        require_nda=pitch.require_nda, view_count=pitch.view_count, like_count=pitch.like_count,
        protected=hidden, created_at=pitch.created_at, updated_at=pitch.updated_at,
    )


async def visible_pitch(call: Call[Any, Any], pitch_id: int) -> tuple[Pitch, Access]:
    """The pitch if the caller may see it; otherwise not found (ids cannot be probed)."""
    hub = realtime_hub(call)
    principal = call.principal
    uid = principal.user_id if principal else 0
    access = await hub.pitches.access(pitch_id, uid)
    pitch = await hub.pitches.get(pitch_id) if access else None
    if access is None or pitch is None:
        raise PitchNotFound()
    if principal is None:
        if not (access.status == "published" and access.visibility == "public"):
            raise PitchNotFound()
    elif not can_view_pitch(access, principal.user_id, principal.user_type):
        if access.status != "published":
            raise PitchNotFound()
        if access.visibility == "private":
            raise Forbidden("This pitch is private")
        raise Forbidden("This pitch is for investors and production companies")
    return pitch, access


@api.route("POST", "/api/pitches", body=PitchCreate, response=PitchOut, status=201,
           portals=("creator",), tags=("pitches",), summary="Create a pitch")
async def create_pitch(call: Call[PitchCreate, Any]) -> Reply:
    b = call.body
    pitch = await realtime_hub(call).pitches.create(
        user_id=call.user.user_id, title=b.title, logline=b.logline, genre=b.genre,
        format=b.format, synopsis=b.synopsis, budget=b.budget, target_audience=b.target_audience,
        status=b.status, visibility=b.visibility, require_nda=b.require_nda,
    )
    return Reply(pitch_out(pitch, show_protected=True), status=201)


@api.route("GET", "/api/pitches/{id}", auth="optional", response=PitchOut, tags=("pitches",),
           errors=(NotFound, Forbidden),
           summary="A pitch; a signed-in viewer's first view of the day is counted live")
async def get_pitch(call: Call[Any, Any]) -> PitchOut:
    pitch_id = call.path_id()
    pitch, access = await visible_pitch(call, pitch_id)
    principal = call.principal
    views = pitch.view_count
    if principal is not None and principal.user_id != pitch.user_id:
        counted = await realtime_hub(call).ask(f"pitch:{pitch_id}",
                                               RecordView(principal.user_id))
        if counted is not None:
            views = counted
    show = principal is not None and (principal.user_id == pitch.user_id or access.has_nda)
    out = pitch_out(pitch, show_protected=show)
    out.view_count = views
    return out


async def _like(call: Call[Any, Any], liked: bool) -> LikeOut:
    pitch_id = call.path_id()
    await visible_pitch(call, pitch_id)
    _, total = await realtime_hub(call).ask(f"pitch:{pitch_id}", SetLike(call.user.user_id, liked))
    return LikeOut(liked=liked, like_count=total)


@api.route("POST", "/api/pitches/{id}/like", body=Empty, response=LikeOut, tags=("pitches",),
           errors=(NotFound, Forbidden), summary="Like a pitch (idempotent)")
async def like_pitch(call: Call[Empty, Any]) -> LikeOut:
    return await _like(call, True)


@api.route("DELETE", "/api/pitches/{id}/like", response=LikeOut, tags=("pitches",),
           errors=(NotFound, Forbidden), summary="Take a like back (idempotent)")
async def unlike_pitch(call: Call[Any, Any]) -> LikeOut:
    return await _like(call, False)
