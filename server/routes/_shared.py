"""Helpers several route modules share: the realtime hub, the read cache, and a pitch as the
caller may see it (the access decision of rooms/access.py, refused in its words, and `pitch_out`,
which withholds what the decision locks).

Route modules import these from here, never from each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from pitchey.rooms.access import Decision, Verdict, decide, decide_owner
from pitchey.rooms.hub import Hub
from pitchey.storage.media import MediaStore
from pitchey.storage.pitches import Access, CatalogPage, CatalogRow, Creator, Pitch, PitchStore, Viewer

from ..api import Call, Reply
from ..auth import Principal
from ..cache import CATALOG_TAG, PITCH_TTL, Cache, cached, pitch_tag, viewer_tag
from ..errors import Forbidden, PitchNotFound
from ..schemas import PageQuery, pagination
from ..schemas.catalog import CatalogPitchOut, UserSummary
from ..schemas.media import media_url, poster_srcset


def realtime_hub(call: Call[Any, Any]) -> Hub:
    return call.state.realtime.hub


def read_cache(call: Call[Any, Any]) -> Cache:
    return call.state.cache


def pitch_store(call: Call[Any, Any]) -> PitchStore:
    return PitchStore(call.state.database)


def viewer(principal: Principal | None) -> Viewer:
    return Viewer(principal.user_id, principal.user_type) if principal else Viewer()


def refuse(decision: Decision) -> None:
    """Raise the decision's refusal, if it is one (404 or 403, in the decision's words)."""
    if decision.verdict is Verdict.NOT_FOUND:
        raise PitchNotFound(decision.message)
    if decision.verdict is Verdict.FORBIDDEN:
        raise Forbidden(decision.message)


def pitch_out(
    pitch: Pitch, *, show_protected: bool, creator: Creator | None = None, score: float | None = None
) -> CatalogPitchOut:
    """A pitch as a caller sees it: NDA-protected fields (synopsis, budget) only when
    `show_protected` (the access decision's `shows_protected`, or the SQL's per-row form).

    The one function that decides what of a pitch a caller sees: detail, lists, search, edits.
    """
    hidden = pitch.require_nda and not show_protected
    fields = asdict(pitch)
    if hidden:
        fields.update(synopsis=None, budget=None)
    return CatalogPitchOut(
        **fields,
        protected=hidden,
        creator=UserSummary.model_validate(creator) if creator is not None else None,
        trending_score=None if score is None else round(score, 6),
    )


def row_out(row: CatalogRow, principal: Principal | None) -> CatalogPitchOut:
    """One catalog row, decided like a single pitch; the list query computed the viewer's NDA."""
    p = row.pitch
    access = Access(p.user_id, p.status, p.visibility, row.has_nda, p.require_nda)
    shown = decide(access, viewer(principal)).shows_protected
    return pitch_out(p, creator=row.creator, score=row.score, show_protected=shown)


async def rows_out(call: Call[Any, Any], rows: Sequence[CatalogRow]) -> list[CatalogPitchOut]:
    """Catalog rows as `row_out` decides them, each with the poster the caller may see: one
    batched query for the whole page, never one per row."""
    outs = [row_out(r, call.principal) for r in rows]
    # `protected` is false both for the unlocked and for pitches without an NDA; a protected
    # poster needs the decision itself (owner or approved NDA).
    me = viewer(call.principal)
    unlocked = [
        r.pitch.id
        for r in rows
        if decide(
            Access(r.pitch.user_id, r.pitch.status, r.pitch.visibility, r.has_nda, r.pitch.require_nda), me
        ).shows_protected
    ]
    posters = await MediaStore(call.state.database).posters([r.pitch.id for r in rows], unlocked)
    for out in outs:
        poster = posters.get(out.id)
        out.poster_url = media_url(poster.storage_key) if poster else None
        out.poster_srcset = poster_srcset(poster.storage_key, poster.derivatives) if poster else None
    return outs


async def page_reply(call: Call[Any, Any], page: CatalogPage, q: PageQuery) -> Reply:
    return Reply(await rows_out(call, page.rows), meta=pagination(q, page.total, capped=page.capped))


async def _decided(call: Call[Any, Any], pitch_id: int) -> tuple[Pitch, Creator, Access]:
    """The stored pitch (from the read cache) and what deciding the caller's access needs. The
    caller's NDA is looked up only when it can change the decision: a signed-in caller who is not
    the owner."""
    found = await cached(
        read_cache(call),
        f"pitch:{pitch_id}",
        lambda: pitch_store(call).detail(pitch_id),
        ttl=PITCH_TTL,
        tags=(pitch_tag(pitch_id),),
    )
    if found is None:
        raise PitchNotFound()
    pitch, creator = found
    access = Access(pitch.user_id, pitch.status, pitch.visibility, False, pitch.require_nda)
    me = call.principal.user_id if call.principal else 0
    if me not in (0, pitch.user_id):
        has_nda = await _has_nda(call, pitch_id, me)
        access = Access(pitch.user_id, pitch.status, pitch.visibility, has_nda, pitch.require_nda)
    return pitch, creator, access


async def _has_nda(call: Call[Any, Any], pitch_id: int, user_id: int) -> bool:
    """Cached per reader: an NDA decision or expiry invalidates the requester's viewer tag (in
    their user room's turn). Not under the pitch's tag, which every like and view bumps; a deleted
    pitch is refused before its NDAs are asked about (issue 16)."""
    return await cached(
        read_cache(call),
        f"pitch:{pitch_id}:nda:{user_id}",
        lambda: pitch_store(call).has_approved_nda(pitch_id, user_id),
        ttl=PITCH_TTL,
        tags=(viewer_tag(user_id),),
    )


async def check_visible(call: Call[Any, Any], pitch_id: int) -> None:
    """`visible_pitch`'s refusal alone, for a write that needs no row (a like): decided from the
    pitch's owner, status, visibility and NDA requirement, cached under the catalog tag, which
    every edit and deletion invalidates in the pitch room's turn; likes and views, which bump the
    pitch's own tag, leave it alone, so a stream of likes does not re-read the row each time."""
    base = await cached(
        read_cache(call),
        f"pitch:{pitch_id}:access",
        lambda: pitch_store(call).access(pitch_id, 0),
        ttl=PITCH_TTL,
        tags=(CATALOG_TAG,),
    )
    if base is None:
        raise PitchNotFound()
    me = call.principal.user_id if call.principal else 0
    if me not in (0, base.owner_id):
        has_nda = await _has_nda(call, pitch_id, me)
        base = Access(base.owner_id, base.status, base.visibility, has_nda, base.require_nda)
    refuse(decide(base, viewer(call.principal)))


async def visible_pitch(call: Call[Any, Any], pitch_id: int) -> tuple[Pitch, Creator, Decision]:
    """The pitch and the caller's access decision, or its refusal (404 or 403)."""
    pitch, creator, access = await _decided(call, pitch_id)
    decision = decide(access, viewer(call.principal))
    refuse(decision)
    return pitch, creator, decision


async def owned_pitch(call: Call[Any, Any], pitch_id: int) -> tuple[Pitch, Creator]:
    """The caller's own pitch: 404 if they may not know it exists, 403 if it is someone else's."""
    pitch, creator, access = await _decided(call, pitch_id)
    refuse(decide_owner(access, viewer(call.principal)))
    return pitch, creator
