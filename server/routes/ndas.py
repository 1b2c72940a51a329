"""NDA requests, decisions and lists. Each write is one turn of the room of the person it
concerns — the request in the owner's `user:` room, the decision in the requester's: the room
writes, announces it live right after it commits, and stores that person's notification
("nda_request" for the owner, "nda_approved"/"nda_rejected" for the requester). The handlers here
authorize, ask the room once, and map its refusal."""

from __future__ import annotations

from typing import Any

from pitchey.protocol import RoomName
from pitchey.rooms.messages import DecideNda, RequestNda
from pitchey.rooms.room import RoomRefusal
from pitchey.storage.nda_templates import NdaTemplateStore
from pitchey.storage.ndas import Acceptance, NdaListRow, NdaLists, NdaPage

from ..api import Api, Call, Reply, client_ip
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
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
from ._shared import realtime_hub, visible_pitch

api = Api()


@api.route(
    "POST",
    "/api/ndas/request",
    body=NdaRequestBody,
    response=NdaOut,
    status=201,
    permission=("create", "nda_request"),
    tags=("ndas",),
    errors=(NotFound, Forbidden, Conflict, ValidationFailed),
    summary="Ask a pitch's owner for NDA access, accepting its NDA template's current version if it "
    "names one; the owner hears of it live",
)
async def request_nda(call: Call[NdaRequestBody, Any]) -> Reply:
    hub = realtime_hub(call)
    me = call.user
    # Refused exactly as the pitch's detail is (404, or 403 for a published private pitch): a
    # request must not reveal a pitch the caller may not see, nor put its title in their lists.
    pitch, _, _ = await visible_pitch(call, call.body.pitch_id)
    if pitch.user_id == me.user_id:
        raise Forbidden("You own this pitch")
    acceptance = await _acceptance(call) if pitch.nda_template_id is not None else None
    requester = await call.state.users.by_id(me.user_id)
    name = (requester.name or requester.username or requester.company_name) if requester else None
    try:
        nda = await hub.ask(
            RoomName.user(pitch.user_id),
            RequestNda(pitch.id, pitch.title, me.user_id, name, pitch.user_id, call.body.message, acceptance),
        )
    except RoomRefusal as exc:
        raise Conflict(exc.message) from None
    return Reply(NdaOut.model_validate(nda), status=201)


async def _acceptance(call: Call[NdaRequestBody, Any]) -> Acceptance | None:
    """A pitch naming an NDA template is requested by accepting its current version: the hash
    the requester read must be that version's (an older text: 409, read it again). Recorded
    with the request: the version, its hash, the time (the insert's) and the caller's IP."""
    version = await NdaTemplateStore(call.state.database).for_pitch(call.body.pitch_id)
    if version is None:
        return None
    accepted = call.body.accept_template_hash
    if accepted is None:
        # Well-formed, but this pitch (its state, not the body's form) asks for an accepted
        # NDA: 409 like an outdated hash, never a 422 the document could not have predicted.
        raise Conflict(
            "acceptTemplateHash: read and accept the pitch's NDA before requesting access",
            details=[{"field": "acceptTemplateHash", "message": "is required", "type": "missing"}],
        )
    if accepted != version.content_hash:
        raise Conflict(
            f"The NDA changed since you read it (it is now version {version.version}): "
            "read it again and accept it"
        )
    ip = client_ip(call.request, call.state.settings.trust_proxy)
    return Acceptance(version.id, version.content_hash, ip)


async def _decide(call: Call[NdaDecisionBody | Any, Any], approve: bool) -> NdaOut:
    hub = realtime_hub(call)
    me = call.user
    nda = await hub.ndas.get(call.path_id())
    if nda is None or me.user_id not in (nda.owner_id, nda.requester_id):
        raise NotFound("NDA request not found")
    if nda.owner_id != me.user_id:
        raise Forbidden("Only the pitch owner decides on an NDA")
    # Whether it is still pending is decided by the store's conditional UPDATE, in the room.
    reason = getattr(call.body, "reason", None) if not approve else None
    ip = client_ip(call.request, call.state.settings.trust_proxy)  # the countersignature's
    try:
        decided = await hub.ask(
            RoomName.user(nda.requester_id),
            DecideNda(nda.id, nda.pitch_id, me.user_id, approve, reason, ip),
        )
    except RoomRefusal as exc:
        raise Conflict(exc.message) from None
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
        template_version_id=n.template_version_id,
        template_hash=n.template_hash,
        accepted_at=n.accepted_at,
        countersigned_at=n.countersigned_at,
        expires_at=n.expires_at,
        expired_at=n.expired_at,
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
        call.user.user_id, status, limit=q.limit, offset=q.offset, requester_type=call.user.user_type
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
