"""Pitches: create, read (which records a view), edit, delete, like, and the catalog lists
(browse/search, trending, following, mine).

Writes that concern a pitch's room go through its actor (views, likes, edits, deletion), so the
room can announce them or drop subscribers who lost sight of the pitch. Protected fields are
decided in one place, `pitch_out`, for every endpoint; lists get the per-row NDA flag from SQL.
Hot reads come from the read cache (server/cache.py). A write through a room is one typed message
to it (`hub.ask(room, SetLike(...)) -> LikeResult`); the room writes, publishes and invalidates the
cache in that one turn, so the handlers here only authorize, ask and map errors.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pitchey.protocol import RoomName
from pitchey.rooms.docs import pitch_deleted
from pitchey.rooms.messages import DeletePitch, RecordView, SetLike, UpdatePitch
from pitchey.storage.pitches import BrowseFilter, CatalogPage, PitchInUse, UnknownNdaTemplate
from pitchey.storage.saved import SavedStore

from ..api import Api, Call, Reply
from ..cache import (
    BROWSE_TTL,
    CATALOG_TAG,
    PITCH_TTL,
    TRENDING_TTL,
    Ready,
    cached,
    pitch_tag,
    ready,
    respond,
    viewer_tag,
)
from ..errors import Conflict, Forbidden, NotFound, PitchNotFound, ValidationFailed
from ..schemas import Empty, PageQuery
from ..schemas.catalog import (
    BrowseQuery,
    CatalogPitchOut,
    LikeOut,
    MyPitchesQuery,
    PitchCreate,
    PitchDeleted,
    PitchUpdate,
)
from ._shared import (
    check_visible,
    owned_pitch,
    page_reply,
    pitch_out,
    pitch_store,
    read_cache,
    realtime_hub,
    viewer,
    visible_pitch,
)
from .media import delete_objects, media_for_pitch
from .nda_templates import check_usable, template_not_usable

api = Api()


# -- lists (declared before /api/pitches/{id}, which would otherwise match their paths) --------


@api.route(
    "GET",
    "/api/pitches/browse",
    auth="optional",
    query=BrowseQuery,
    permission=("read", "public_pitches"),
    response=CatalogPitchOut,
    response_list=True,
    tags=("pitches",),
    errors=(ValidationFailed,),
    summary="Published pitches the caller may see: filters, full-text search, sorting",
)
async def browse_pitches(call: Call[Any, BrowseQuery]) -> Reply | web.Response:
    q = call.query
    f = BrowseFilter(
        genre=q.genre,
        status=q.status,
        budget_min=q.budget_min,
        budget_max=q.budget_max,
        q=q.q,
        sort=q.sort,
        order=q.order,
    )
    principal = call.principal

    async def load() -> CatalogPage:
        return await pitch_store(call).browse(viewer(principal), f, limit=q.limit, offset=q.offset)

    if q.q is not None or (principal is not None and q.status != "published"):
        return await page_reply(call, await load(), q)
    # Without a search, a page is the same for every anonymous caller, and for one signed-in
    # caller until the catalog, a listed pitch or that caller's NDAs change: cached briefly, as
    # the bytes of the whole answer (rows, posters, pagination) with their ETag. (A signed-in
    # caller's other statuses list their own drafts, which change without a catalog event.)
    tags: tuple[str, ...]
    if principal is None:
        key, tags = "browse:anon:ready:", (CATALOG_TAG,)
    else:
        key, tags = f"browse:user:{principal.user_id}:ready:", (CATALOG_TAG, viewer_tag(principal.user_id))
    key += q.model_dump_json(by_alias=True)
    cache = read_cache(call)
    hit = await cache.get(key)
    if isinstance(hit, Ready):
        return respond(call.request, hit)
    token = await cache.token(tags)
    page = await load()
    # Each row's own tag too: a like, a view or a poster change invalidates only its pitch, and
    # the posters are read below (after this second token, so one changed meanwhile voids it).
    # A count that changed between the query and this token may stay for BROWSE_TTL at most,
    # the bound the live counters of cached lists always had; edits, visibility and NDAs are
    # covered by the first token (CATALOG_TAG, the viewer's tag), taken before the query.
    rows = tuple(pitch_tag(r.pitch.id) for r in page.rows)
    more = await cache.token(rows)
    reply = await page_reply(call, page, q)
    answer = ready(reply.data, reply.meta)
    if more[0] == token[0]:
        both = (token[0], token[1] + more[1])
        await cache.set(key, answer, ttl=BROWSE_TTL, tags=(*tags, *rows), token=both)
    return respond(call.request, answer)


@api.route(
    "GET",
    "/api/pitches/trending",
    auth="optional",
    query=PageQuery,
    permission=("read", "public_pitches"),
    response=CatalogPitchOut,
    response_list=True,
    tags=("pitches",),
    summary="Visible pitches by recent views and likes with time decay (docs/api-catalog.md)",
)
async def trending_pitches(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    principal = call.principal

    async def load() -> CatalogPage:
        return await pitch_store(call).trending(viewer(principal), limit=q.limit, offset=q.offset)

    if principal is None:
        page = await cached(
            read_cache(call), f"trending:anon:{q.page}:{q.limit}", load, ttl=TRENDING_TTL, tags=(CATALOG_TAG,)
        )
    else:
        page = await load()
    return await page_reply(call, page, q)


@api.route(
    "GET",
    "/api/pitches/following",
    query=PageQuery,
    permission=("read", "public_pitches"),
    response=CatalogPitchOut,
    response_list=True,
    tags=("pitches", "follows"),
    summary="Published pitches (visible to the caller) by the users the caller follows",
)
async def following_pitches(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    page = await pitch_store(call).following(viewer(call.principal), limit=q.limit, offset=q.offset)
    return await page_reply(call, page, q)


@api.route(
    "GET",
    "/api/pitches/my",
    query=MyPitchesQuery,
    permission=("read", "own_pitches"),
    response=CatalogPitchOut,
    response_list=True,
    tags=("pitches",),
    summary="The creator's own pitches in every status, newest first",
)
async def my_pitches(call: Call[Any, MyPitchesQuery]) -> Reply:
    q = call.query
    page = await pitch_store(call).mine(call.user.user_id, q.status, limit=q.limit, offset=q.offset)
    reply = await page_reply(call, page, q)
    saves = await SavedStore(call.state.database).counts(r.pitch.id for r in page.rows)
    for out in reply.data:
        out.save_count = saves.get(out.id, 0)
    return reply


# -- one pitch ---------------------------------------------------------------------------------


@api.route(
    "POST",
    "/api/pitches",
    body=PitchCreate,
    response=CatalogPitchOut,
    status=201,
    permission=("create", "pitch"),
    tags=("pitches",),
    errors=(NotFound,),  # an ndaTemplateId that is not one of the caller's templates
    summary="Create a pitch",
)
async def create_pitch(call: Call[PitchCreate, Any]) -> Reply:
    b = call.body
    await check_usable(call, b.nda_template_id)
    try:
        pitch = await pitch_store(call).create(
            user_id=call.user.user_id,
            title=b.title,
            logline=b.logline,
            genre=b.genre,
            format=b.format,
            synopsis=b.synopsis,
            budget=b.budget,
            target_audience=b.target_audience,
            status=b.status,
            visibility=b.visibility,
            require_nda=b.require_nda,
            nda_template_id=b.nda_template_id,
        )
    except UnknownNdaTemplate:  # deleted since check_usable looked
        raise template_not_usable() from None
    if pitch.status == "published":
        await read_cache(call).invalidate_tags(CATALOG_TAG)
    found = await pitch_store(call).detail(pitch.id)
    return Reply(pitch_out(pitch, show_protected=True, creator=found[1] if found else None), status=201)


@api.route(
    "GET",
    "/api/pitches/{id}",
    auth="optional",
    response=CatalogPitchOut,
    tags=("pitches",),
    errors=(NotFound, Forbidden),
    summary="A pitch; a signed-in viewer's first view of the day is counted live",
)
async def get_pitch(call: Call[Any, Any]) -> CatalogPitchOut | web.Response:
    pitch_id = call.path_id()
    cache = read_cache(call)
    # An anonymous caller's answer depends on the stored row alone (its access decision too: no
    # NDA, no ownership), and is kept under the pitch's tag like the row: whatever changes the
    # row (an edit, a deletion, a like, a view) drops it, so a hit needs no decision.
    anonymous = call.principal is None
    if anonymous:
        hit = await cache.get(f"pitch:{pitch_id}:ready:anon")
        if isinstance(hit, Ready):
            return respond(call.request, hit)
    tags = (pitch_tag(pitch_id),)
    # Taken before anything is read: an edit that lands while this answer is built voids it.
    token = await cache.token(tags)
    pitch, creator, decision = await visible_pitch(call, pitch_id)
    principal = call.principal
    owner = principal is not None and principal.user_id == pitch.user_id
    views = pitch.view_count
    counted = None
    # A repeat read today skips the ask: the room would answer "already counted" (server/views.py).
    if principal is not None and not owner and not call.state.seen_views.seen(pitch_id, principal.user_id):
        counted = await realtime_hub(call).ask(RoomName.pitch(pitch_id), RecordView(principal.user_id))
        call.state.seen_views.add(pitch_id, principal.user_id)
        if counted is not None:
            views = counted
    show = decision.shows_protected
    # Everyone but the owner (who also gets the save count) sees exactly the answer of the row,
    # its media and `show` (the protected fields and media appear only when the caller's own
    # access decision, made above for this request, shows them): one ready answer per pitch and
    # `show`, served as bytes. A first view of the day (`counted`) changed the count, and the
    # room invalidated the pitch's tag: that answer is built afresh.
    key = f"pitch:{pitch_id}:ready:{int(show)}"
    if not owner and counted is None:
        hit = await cache.get(key)
        if isinstance(hit, Ready):
            if anonymous:
                await cache.set(f"pitch:{pitch_id}:ready:anon", hit, ttl=PITCH_TTL, tags=tags, token=token)
            return respond(call.request, hit)
    out = pitch_out(pitch, creator=creator, show_protected=show)
    out.view_count = views
    out.media = await media_for_pitch(call.state, pitch_id, show)
    if owner:
        out.save_count = (await SavedStore(call.state.database).counts([pitch_id]))[pitch_id]
        return out
    answer = ready(out)
    if counted is None:
        await cache.set(key, answer, ttl=PITCH_TTL, tags=tags, token=token)
        if anonymous:
            await cache.set(f"pitch:{pitch_id}:ready:anon", answer, ttl=PITCH_TTL, tags=tags, token=token)
    return respond(call.request, answer)


@api.route(
    "PUT",
    "/api/pitches/{id}",
    body=PitchUpdate,
    response=CatalogPitchOut,
    permission=("update", "own_pitches"),
    tags=("pitches",),
    errors=(NotFound, Forbidden, ValidationFailed),
    summary="Edit one's own pitch (any subset of fields); subscribers who may no longer "
    "see it are unsubscribed",
)
async def update_pitch(call: Call[PitchUpdate, Any]) -> CatalogPitchOut:
    pitch_id = call.path_id()
    _, creator = await owned_pitch(call, pitch_id)
    await check_usable(call, call.body.nda_template_id)
    try:
        updated = await realtime_hub(call).ask(
            RoomName.pitch(pitch_id), UpdatePitch(call.user.user_id, call.body.changes())
        )
    except UnknownNdaTemplate:  # deleted since check_usable looked
        raise template_not_usable() from None
    if updated is None:  # deleted meanwhile
        raise PitchNotFound()
    return pitch_out(updated, show_protected=True, creator=creator)


@api.route(
    "DELETE",
    "/api/pitches/{id}",
    response=PitchDeleted,
    permission=("delete", "own_pitches"),
    tags=("pitches",),
    errors=(NotFound, Forbidden, Conflict),
    summary="Delete one's own pitch; one with investments cannot be (409: archive it)",
)
async def delete_pitch(call: Call[Any, Any]) -> PitchDeleted:
    pitch_id = call.path_id()
    await owned_pitch(call, pitch_id)
    try:
        deleted = await realtime_hub(call).ask(RoomName.pitch(pitch_id), DeletePitch(call.user.user_id))
    except PitchInUse:
        raise Conflict("This pitch has investments and cannot be deleted; archive it instead") from None
    if deleted is None:
        raise PitchNotFound()
    await pitch_deleted(realtime_hub(call), pitch_id)  # its co-edited documents close now (4004)
    await delete_objects(call.state, deleted.media_keys)
    return PitchDeleted(id=pitch_id, deleted=True)


async def _like(call: Call[Any, Any], liked: bool) -> LikeOut:
    pitch_id = call.path_id()
    await check_visible(call, pitch_id)
    result = await realtime_hub(call).ask(RoomName.pitch(pitch_id), SetLike(call.user.user_id, liked))
    return LikeOut(liked=liked, like_count=result.likes)


@api.route(
    "POST",
    "/api/pitches/{id}/like",
    body=Empty,
    response=LikeOut,
    tags=("pitches",),
    errors=(NotFound, Forbidden),
    summary="Like a pitch (idempotent)",
)
async def like_pitch(call: Call[Empty, Any]) -> LikeOut:
    return await _like(call, True)


@api.route(
    "DELETE",
    "/api/pitches/{id}/like",
    response=LikeOut,
    tags=("pitches",),
    errors=(NotFound, Forbidden),
    summary="Take a like back (idempotent)",
)
async def unlike_pitch(call: Call[Any, Any]) -> LikeOut:
    return await _like(call, False)
