"""NDA requests, decisions and lists. Each write runs in the room of the person it concerns — the
request in the owner's `user:` room, the decision in the requester's — so it is announced live right
after it commits; then that person also gets a stored notification ("nda_request" for the owner,
"nda_approved"/"nda_rejected" for the requester)."""

from __future__ import annotations

import logging
from typing import Any

from pitchey.rooms.messages import DecideNda, RequestNda
from pitchey.rooms.room import RoomRefusal
from pitchey.storage.database import StorageError
from pitchey.storage.ndas import NdaListRow, NdaLists, NdaPage

from ..api import Api, Call, Reply
from ..errors import Conflict, Forbidden, NotFound, PitchNotFound
from ..schemas import PageQuery, pagination
from ..schemas.catalog import (
    IncomingNdaQuery,
    NdaDecisionBody,
    NdaListItem,
    NdaOut,
    NdaRequestBody,
    OutgoingNdaQuery,
    UserSummary,
)
from ._shared import realtime_hub

log = logging.getLogger("pitchey.server")

api = Api()


async def _notify(call: Call[Any, Any], user_id: int, kind: str, title: str, data: dict[str, object]) -> None:
    """Store and announce a notification; the NDA write already committed, so a failure here is
    logged rather than turned into an error for a request that succeeded."""
    try:
        await realtime_hub(call).notify(user_id, kind, title, None, data)
    except (StorageError, TimeoutError):
        log.warning("could not store the %s notification for user %s", kind, user_id, exc_info=True)


@api.route(
    "POST",
    "/api/ndas/request",
    body=NdaRequestBody,
    response=NdaOut,
    status=201,
    permission=("create", "nda_request"),
    tags=("ndas",),
    errors=(NotFound, Forbidden, Conflict),
    summary="Ask a pitch's owner for NDA access; the owner hears of it live",
)
async def request_nda(call: Call[NdaRequestBody, Any]) -> Reply:
    hub = realtime_hub(call)
    me = call.user
    pitch = await hub.pitches.get(call.body.pitch_id)
    if pitch is None or (pitch.status != "published" and pitch.user_id != me.user_id):
        raise PitchNotFound()
    if pitch.user_id == me.user_id:
        raise Forbidden("You own this pitch")
    requester = await call.state.users.by_id(me.user_id)
    name = (requester.name or requester.username or requester.company_name) if requester else None
    try:
        nda = await hub.ask(
            f"user:{pitch.user_id}",
            RequestNda(pitch.id, pitch.title, me.user_id, name, pitch.user_id, call.body.message),
        )
    except RoomRefusal as exc:
        raise Conflict(exc.message) from None
    await _notify(
        call,
        pitch.user_id,
        "nda_request",
        f"{name or 'Someone'} requested an NDA for \u201c{pitch.title}\u201d",
        {
            "ndaId": nda.id,
            "pitchId": pitch.id,
            "pitchTitle": pitch.title,
            "requesterId": me.user_id,
            "requesterName": name,
        },
    )
    return Reply(NdaOut.model_validate(nda), status=201)


async def _decide(call: Call[NdaDecisionBody | Any, Any], approve: bool) -> NdaOut:
    hub = realtime_hub(call)
    me = call.user
    nda = await hub.ndas.get(call.path_id())
    if nda is None or me.user_id not in (nda.owner_id, nda.requester_id):
        raise NotFound("NDA request not found")
    if nda.owner_id != me.user_id:
        raise Forbidden("Only the pitch owner decides on an NDA")
    if nda.status != "pending":
        raise Conflict(f"This NDA request was already {nda.status}")
    pitch = await hub.pitches.get(nda.pitch_id)
    reason = getattr(call.body, "reason", None) if not approve else None
    try:
        decided = await hub.ask(
            f"user:{nda.requester_id}",
            DecideNda(nda.id, me.user_id, approve, reason, pitch.title if pitch else ""),
        )
    except RoomRefusal as exc:
        raise Conflict(exc.message) from None
    title = pitch.title if pitch else ""
    verdict = "approved" if approve else "rejected"
    await _notify(
        call,
        nda.requester_id,
        f"nda_{verdict}",
        f"Your NDA request for \u201c{title}\u201d was {verdict}",
        {
            "ndaId": nda.id,
            "pitchId": nda.pitch_id,
            "pitchTitle": title,
            "ownerId": me.user_id,
            "status": decided.status,
            "reason": decided.reason,
        },
    )
    return NdaOut.model_validate(decided)


@api.route(
    "POST",
    "/api/ndas/{id}/approve",
    body=NdaDecisionBody,
    response=NdaOut,
    tags=("ndas",),
    errors=(NotFound, Forbidden, Conflict),
    summary="Approve a pending NDA request (pitch owner only)",
)
async def approve_nda(call: Call[NdaDecisionBody, Any]) -> NdaOut:
    return await _decide(call, True)


@api.route(
    "POST",
    "/api/ndas/{id}/reject",
    body=NdaDecisionBody,
    response=NdaOut,
    tags=("ndas",),
    errors=(NotFound, Forbidden, Conflict),
    summary="Reject a pending NDA request, with an optional reason (pitch owner only)",
)
async def reject_nda(call: Call[NdaDecisionBody, Any]) -> NdaOut:
    return await _decide(call, False)


# -- lists --------------------------------------------------------------------------------------


def list_item(row: NdaListRow) -> NdaListItem:
    n = row.nda
    return NdaListItem(
        id=n.id,
        pitch_id=n.pitch_id,
        requester_id=n.requester_id,
        owner_id=n.owner_id,
        status=n.status,
        message=n.message,
        reason=n.reason,
        created_at=n.created_at,
        decided_at=n.decided_at,
        pitch_title=row.pitch_title,
        other_party=UserSummary.model_validate(row.other),
    )


def list_reply(page: NdaPage, q: PageQuery) -> Reply:
    return Reply([list_item(r) for r in page.rows], meta=pagination(q, page.total))


@api.route(
    "GET",
    "/api/ndas/incoming-requests",
    query=IncomingNdaQuery,
    permission=("read", "nda_requests"),
    response=NdaListItem,
    response_list=True,
    tags=("ndas",),
    summary="NDA requests on the caller's pitches (status filter, default pending)",
)
async def incoming_requests(call: Call[Any, IncomingNdaQuery]) -> Reply:
    q = call.query
    status = None if q.status == "all" else q.status
    page = await NdaLists(call.state.database).incoming(
        call.user.user_id, status, limit=q.limit, offset=q.offset
    )
    return list_reply(page, q)


@api.route(
    "GET",
    "/api/ndas/outgoing-requests",
    query=OutgoingNdaQuery,
    permission=("read", "sent_nda_requests"),
    response=NdaListItem,
    response_list=True,
    tags=("ndas",),
    summary="The caller's own NDA requests (status filter, default all)",
)
async def outgoing_requests(call: Call[Any, OutgoingNdaQuery]) -> Reply:
    q = call.query
    status = None if q.status == "all" else q.status
    page = await NdaLists(call.state.database).outgoing(
        call.user.user_id, status, limit=q.limit, offset=q.offset
    )
    return list_reply(page, q)


@api.route(
    "GET",
    "/api/ndas/incoming-signed",
    query=PageQuery,
    permission=("read", "signed_ndas"),
    response=NdaListItem,
    response_list=True,
    tags=("ndas",),
    summary="Approved NDAs the caller holds, most recently approved first",
)
async def signed_ndas(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    page = await NdaLists(call.state.database).signed(call.user.user_id, limit=q.limit, offset=q.offset)
    return list_reply(page, q)
