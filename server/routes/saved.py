"""Saved pitches: an investor keeps pitches to come back to.

Saving needs the pitch to be visible to the caller (the one access decision, rooms/access.py,
through `visible_pitch`); the list shows only saved pitches the caller may still see, with
NDA-protected fields withheld unless they hold an approved NDA (`row_out`). Saving is
idempotent both ways. A pitch's owner sees how many saved it (`saveCount` in their views),
never who.
"""

from __future__ import annotations

from typing import Any

from pitchey.storage.saved import SavedStore

from ..api import Api, Call, Reply
from ..errors import Forbidden, NotFound
from ..schemas import Empty, PageQuery, pagination
from ..schemas.profiles import SavedPitchOut, SaveOut
from ._shared import rows_out, viewer, visible_pitch

api = Api()


def saved(call: Call[Any, Any]) -> SavedStore:
    return SavedStore(call.state.database)


@api.route(
    "POST",
    "/api/pitches/{id}/save",
    body=Empty,
    response=SaveOut,
    status=201,
    also=(200,),
    permission=("create", "saved_pitches"),
    tags=("saved",),
    errors=(NotFound, Forbidden),
    summary="Save a pitch you may see (201; 200 if it was already saved)",
)
async def save_pitch(call: Call[Empty, Any]) -> Reply:
    pitch_id = call.path_id()
    await visible_pitch(call, pitch_id)
    done = await saved(call).save(call.user.user_id, pitch_id)
    if done is None:  # deleted meanwhile
        raise NotFound("Pitch not found")
    created, at = done
    return Reply(SaveOut(pitch_id=pitch_id, saved=True, saved_at=at), status=201 if created else 200)


@api.route(
    "DELETE",
    "/api/pitches/{id}/save",
    response=SaveOut,
    permission=("delete", "saved_pitches"),
    tags=("saved",),
    errors=(NotFound, Forbidden),
    summary="Unsave a pitch (idempotent; works even if the pitch was hidden since)",
)
async def unsave_pitch(call: Call[Any, Any]) -> SaveOut:
    pitch_id = call.path_id()
    if not await saved(call).unsave(call.user.user_id, pitch_id):
        # Nothing was saved: answer as for any pitch, so an id cannot be probed here.
        await visible_pitch(call, pitch_id)
    return SaveOut(pitch_id=pitch_id, saved=False, saved_at=None)


@api.route(
    "GET",
    "/api/pitches/{id}/save",
    response=SaveOut,
    permission=("read", "saved_pitches"),
    tags=("saved",),
    errors=(NotFound, Forbidden),
    summary="Whether the caller saved this pitch",
)
async def pitch_saved(call: Call[Any, Any]) -> SaveOut:
    pitch_id = call.path_id()
    await visible_pitch(call, pitch_id)
    at = await saved(call).saved_at(call.user.user_id, pitch_id)
    return SaveOut(pitch_id=pitch_id, saved=at is not None, saved_at=at)


@api.route(
    "GET",
    "/api/saved-pitches",
    query=PageQuery,
    response=SavedPitchOut,
    response_list=True,
    permission=("read", "saved_pitches"),
    tags=("saved",),
    summary="The caller's saved pitches they may still see, most recently saved first",
)
async def list_saved(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    page = await saved(call).page(viewer(call.principal), limit=q.limit, offset=q.offset)
    pitches = await rows_out(call, [r.row for r in page.rows])
    return Reply(
        [SavedPitchOut(pitch=p, saved_at=r.saved_at) for p, r in zip(pitches, page.rows, strict=True)],
        meta=pagination(q, page.total),
    )
