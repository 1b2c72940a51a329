"""Who may do what in a production company: the owner, or a team member by role.

The portal matrix (server/permissions.py) says a production account may, say, update projects;
this says whether *this* account may update *this* company's project. Resolved from the database
on every request, so a member removed a moment ago is refused on their next call.

| role        | read | edit (projects, timeline, resources, bookings) | expenses | team, archive, delete |
|-------------|------|------------------------------------------------|----------|-----------------------|
| owner       | yes  | yes                                            | yes      | yes                   |
| producer    | yes  | yes                                            | yes      | no                    |
| coordinator | yes  | yes                                            | yes      | no                    |
| finance     | yes  | no                                             | yes      | no                    |
| viewer      | yes  | no                                             | no       | no                    |

Route modules import these from here, never from each other.
"""

from __future__ import annotations

import logging
from typing import Any

from pitchey.protocol import RoomName
from pitchey.storage.database import StorageError
from pitchey.storage.teams import Access, TeamStore

from ..api import Call
from ..errors import Forbidden, NotFound
from ._shared import realtime_hub

log = logging.getLogger("pitchey.server.teams")

READ = frozenset({"owner", "producer", "coordinator", "finance", "viewer"})
EDIT = frozenset({"owner", "producer", "coordinator"})
SPEND = EDIT | {"finance"}
OWNER = frozenset({"owner"})


def teams(call: Call[Any, Any]) -> TeamStore:
    return TeamStore(call.state.database)


def _check(access: Access, need: frozenset[str], what: str) -> Access:
    if access.role not in need:
        raise Forbidden(f"A team {access.role} may not {what}")
    return access


async def project_role(call: Call[Any, Any], project_id: int, need: frozenset[str], what: str) -> Access:
    """The caller's standing in the project's company; 404 when they have none (exactly like a
    project that does not exist), 403 naming their role when it is not enough."""
    access = await teams(call).project_access(call.user.user_id, project_id)
    if access is None:
        raise NotFound("Project not found")
    return _check(access, need, what)


async def company_role(
    call: Call[Any, Any], company_id: int | None, need: frozenset[str], what: str
) -> Access:
    """The caller's standing in a company (their own when `company_id` is None); another
    company they are not on answers 404."""
    access = await teams(call).company_access(call.user.user_id, company_id or call.user.user_id)
    if access is None:
        raise NotFound("Company not found")
    return _check(access, need, what)


async def announce(call: Call[Any, Any], project_id: int, what: str) -> None:
    """Tell the project's room (`project:<id>`) that `what` changed, after the write committed.
    The write stands either way: a failed announcement is logged, and clients refetch on resync."""
    try:
        await realtime_hub(call).project_changed(project_id, what, call.user.user_id)
    except (StorageError, TimeoutError):
        log.warning("project %s: the %s change was not announced", project_id, what, exc_info=True)


async def evict_from_company_rooms(call: Call[Any, Any], company_id: int, user_id: int) -> None:
    """A member removed from the team leaves the company's project rooms at once (on this node;
    elsewhere their next subscribe is refused, as is every request)."""
    hub = realtime_hub(call)
    for project_id in await teams(call).project_ids(company_id):
        await hub.evict_user(
            RoomName.project(project_id), user_id, "You are no longer on this project's team"
        )
