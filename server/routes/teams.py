"""Production teams: the owner invites production accounts by email with a role; the invitee
accepts or declines from the notification; the owner changes roles and removes members.

Team members are production accounts only: the team is the production company's people, and
every project endpoint is a production-portal endpoint (server/permissions.py), so a creator or
investor on a team could not use it. Inviting an email with no production account is a 404 in
words. Rights by role are in `_team.py`.
"""

from __future__ import annotations

import logging
from typing import Any

from pitchey.protocol.models import NotificationKind
from pitchey.storage.database import StorageError
from pitchey.storage.teams import AlreadyMember, Member, Membership, UnknownInvitee

from ..api import Api, Call, Reply
from ..errors import Conflict, NotFound
from ..schemas import Empty
from ..schemas.teams import (
    InviteBody,
    MemberOut,
    MembershipOut,
    RoleBody,
    TeamOut,
    TeamProjectOut,
    TeamQuery,
)
from ._shared import realtime_hub
from ._team import READ, company_role, evict_from_company_rooms, teams

api = Api()
log = logging.getLogger("pitchey.server.teams")


class MemberNotFound(NotFound):
    default_message = "Team member not found"


class InvitationNotFound(NotFound):
    default_message = "Invitation not found"


def member_out(m: Member) -> MemberOut:
    return MemberOut.model_validate(m)


def membership_out(m: Membership) -> MembershipOut:
    return MembershipOut.model_validate(m)


async def _notify(
    call: Call[Any, Any], user_id: int, kind: NotificationKind, title: str, data: dict[str, object]
) -> None:
    """A notification after a committed team change; failing to store it is logged, not an
    error for a change that happened."""
    try:
        await realtime_hub(call).notify(user_id, kind, title, None, data)
    except StorageError:
        log.warning("could not store the %s notification for user %s", kind, user_id, exc_info=True)


async def _company_label(call: Call[Any, Any], company_id: int) -> str:
    return await teams(call).label(company_id)


@api.route(
    "GET",
    "/api/production/team",
    query=TeamQuery,
    response=TeamOut,
    permission=("read", "team_data"),
    tags=("production", "teams"),
    errors=(NotFound,),
    summary="The company's team (members and pending invitations) and the teams you are on",
)
async def get_team(call: Call[Any, TeamQuery]) -> TeamOut:
    access = await company_role(call, call.query.company_id, READ, "see this team")
    st = teams(call)
    return TeamOut(
        company_id=access.company_id,
        role=access.role,
        members=[member_out(m) for m in await st.members(access.company_id)],
        memberships=[membership_out(m) for m in await st.memberships(call.user.user_id)],
    )


@api.route(
    "POST",
    "/api/production/team",
    body=InviteBody,
    response=MemberOut,
    status=201,
    permission=("create", "team"),
    tags=("production", "teams"),
    errors=(NotFound, Conflict),
    summary="Invite a production account by email with a role; they accept from a notification",
)
async def invite(call: Call[InviteBody, Any]) -> Reply:
    me = call.user.user_id
    try:
        member = await teams(call).invite(me, call.body.email, call.body.role, me)
    except UnknownInvitee as exc:
        raise NotFound(exc.message) from None
    except AlreadyMember as exc:
        raise Conflict(exc.message) from None
    company = await _company_label(call, me)
    await _notify(
        call,
        member.user_id,
        "team_invitation",
        f"{company} invited you to their team as {member.role}",
        {"invitationId": member.id, "companyId": me, "companyName": company, "role": member.role},
    )
    return Reply(member_out(member), status=201)


@api.route(
    "PUT",
    "/api/production/team/{id}",
    body=RoleBody,
    response=MemberOut,
    permission=("update", "team"),
    tags=("production", "teams"),
    errors=(NotFound,),
    summary="Change a member's role (takes effect on their next request)",
)
async def set_role(call: Call[RoleBody, Any]) -> MemberOut:
    member = await teams(call).set_role(call.user.user_id, call.path_id(), call.body.role)
    if member is None:
        raise MemberNotFound()
    return member_out(member)


@api.route(
    "DELETE",
    "/api/production/team/{id}",
    response=MemberOut,
    permission=("delete", "team"),
    tags=("production", "teams"),
    errors=(NotFound,),
    summary="Remove a member or withdraw an invitation; their next request is refused",
)
async def remove(call: Call[Any, Any]) -> MemberOut:
    me = call.user.user_id
    member = await teams(call).remove(me, call.path_id())
    if member is None:
        raise MemberNotFound()
    if member.status == "active":
        await evict_from_company_rooms(call, me, member.user_id)
        company = await _company_label(call, me)
        await _notify(
            call, member.user_id, "team_removed", f"{company} removed you from their team", {"companyId": me}
        )
    return member_out(member)


async def _respond(call: Call[Any, Any], accept: bool) -> MembershipOut:
    me = call.user.user_id
    found = await teams(call).respond(me, call.path_id(), accept)
    if found is None:
        raise InvitationNotFound()
    who = await _company_label(call, me)
    verb = "accepted" if accept else "declined"
    await _notify(
        call,
        found.company_id,
        "team_invitation_accepted" if accept else "team_invitation_declined",
        f"{who} {verb} your team invitation",
        {"memberId": found.id, "userId": me, "role": found.role},
    )
    return membership_out(found)


@api.route(
    "POST",
    "/api/production/team/invitations/{id}/accept",
    body=Empty,
    response=MembershipOut,
    permission=("update", "team"),
    tags=("production", "teams"),
    errors=(NotFound,),
    summary="Accept a team invitation addressed to you",
)
async def accept(call: Call[Empty, Any]) -> MembershipOut:
    return await _respond(call, True)


@api.route(
    "POST",
    "/api/production/team/invitations/{id}/decline",
    body=Empty,
    response=MembershipOut,
    permission=("update", "team"),
    tags=("production", "teams"),
    errors=(NotFound,),
    summary="Decline a team invitation addressed to you (it is withdrawn)",
)
async def decline(call: Call[Empty, Any]) -> MembershipOut:
    return await _respond(call, False)


@api.route(
    "GET",
    "/api/production/team/projects",
    response=TeamProjectOut,
    response_list=True,
    permission=("read", "all_projects"),
    tags=("production", "teams"),
    summary="Projects of the companies whose team you are on, with your role in each",
)
async def team_projects(call: Call[Any, Any]) -> list[TeamProjectOut]:
    return [TeamProjectOut.model_validate(p) for p in await teams(call).team_projects(call.user.user_id)]
