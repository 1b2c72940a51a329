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

from typing import Any

from pitchey.storage.teams import Access, TeamStore

from ..api import Call
from ..errors import Forbidden, NotFound

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
