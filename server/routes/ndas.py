"""NDA requests and decisions. Each write runs in the room of the person it concerns — the request
in the owner's `user:` room, the decision in the requester's — so it is announced live right after
it commits."""

from __future__ import annotations

from typing import Any

from pitchey.rooms.messages import DecideNda, RequestNda
from pitchey.rooms.room import RoomRefusal
from pitchey.storage.ndas import Nda

from ..api import Api, Call, Reply
from ..errors import Conflict, Forbidden, NotFound, PitchNotFound
from ..schemas import NdaDecisionBody, NdaOut, NdaRequestBody
from .pitches import realtime_hub

api = Api()


def nda_out(nda: Nda) -> NdaOut:
    return NdaOut(id=nda.id, pitch_id=nda.pitch_id, requester_id=nda.requester_id,
                  owner_id=nda.owner_id, status=nda.status,
                  message=nda.message, reason=nda.reason, created_at=nda.created_at,
                  decided_at=nda.decided_at)


@api.route("POST", "/api/ndas/request", body=NdaRequestBody, response=NdaOut, status=201,
           portals=("investor", "production"), tags=("ndas",),
           errors=(NotFound, Forbidden, Conflict),
           summary="Ask a pitch's owner for NDA access; the owner hears of it live")
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
        nda = await hub.ask(f"user:{pitch.user_id}", RequestNda(
            pitch.id, pitch.title, me.user_id, name, pitch.user_id, call.body.message))
    except RoomRefusal as exc:
        raise Conflict(exc.message) from None
    return Reply(nda_out(nda), status=201)


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
        decided = await hub.ask(f"user:{nda.requester_id}", DecideNda(
            nda.id, me.user_id, approve, reason, pitch.title if pitch else ""))
    except RoomRefusal as exc:
        raise Conflict(exc.message) from None
    return nda_out(decided)


@api.route("POST", "/api/ndas/{id}/approve", body=NdaDecisionBody, response=NdaOut,
           tags=("ndas",), errors=(NotFound, Forbidden, Conflict),
           summary="Approve a pending NDA request (pitch owner only)")
async def approve_nda(call: Call[NdaDecisionBody, Any]) -> NdaOut:
    return await _decide(call, True)


@api.route("POST", "/api/ndas/{id}/reject", body=NdaDecisionBody, response=NdaOut,
           tags=("ndas",), errors=(NotFound, Forbidden, Conflict),
           summary="Reject a pending NDA request, with an optional reason (pitch owner only)")
async def reject_nda(call: Call[NdaDecisionBody, Any]) -> NdaOut:
    return await _decide(call, False)
