"""Production teams, resources with bookings, timelines and deleting projects, against the real
PostgreSQL: each feature's success path and its refusals (another company, anonymous, other
portals, a viewer writing, bad input), and a double booking raced by 20 concurrent requests."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from conftest import expect_envelope, unique_email
from realtime_helpers import bearer, connect, user

LIMITS = {"write_user_limit": "100000/minute", "write_ip_limit": "100000/minute"}


async def call(client: Any, method: str, path: str, token: str | None, status: int, **kw: Any) -> Any:
    headers = bearer(token) if token else {}
    resp = await client.request(method, path, headers=headers, **kw)
    return await expect_envelope(resp, status)


async def project(client: Any, token: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "The Long Take", "budget": "100000.00", **fields}
    return (await call(client, "POST", "/api/production/projects", token, 201, json=body))["data"]


async def resource(client: Any, token: str, status: int = 201, **fields: Any) -> Any:
    body = {"kind": "crew", "name": "Dana (DoP)", "costPerDay": "750.50", **fields}
    out = await call(client, "POST", "/api/production/resources", token, status, json=body)
    return out["data"] if status == 201 else out


async def book(
    client: Any, token: str, resource_id: int, project_id: int, start: str, end: str, status: int = 201
) -> Any:
    body = {"projectId": project_id, "startDate": start, "endDate": end}
    out = await call(
        client, "POST", f"/api/production/resources/{resource_id}/allocations", token, status, json=body
    )
    return out["data"] if status == 201 else out


async def team_member(client: Any, owner: str, role: str) -> tuple[int, str, int]:
    """A production account invited with `role` that accepted: (user id, token, member id)."""
    email = unique_email("member")
    uid, token = await user(client, "production", email=email)
    invited = await call(
        client, "POST", "/api/production/team", owner, 201, json={"email": email, "role": role}
    )
    member_id = invited["data"]["id"]
    await call(client, "POST", f"/api/production/team/invitations/{member_id}/accept", token, 200, json={})
    return uid, token, member_id


# -- teams ----------------------------------------------------------------------------------


async def test_invite_accept_roles_and_removal_holds_at_once(make_client):
    client = await make_client(**LIMITS)
    owner_id, owner = await user(client, "production", companyName="Northlight Films")
    p = await project(client, owner, budgetLines=[{"category": "Cast", "allocated": "1000"}])
    pid, line_id = p["id"], p["budgetLines"][0]["id"]

    email = unique_email("producer")
    member_id_user, member = await user(client, "production", email=email)
    invited = await call(
        client, "POST", "/api/production/team", owner, 201, json={"email": email.upper(), "role": "producer"}
    )
    inv = invited["data"]
    assert inv["status"] == "pending" and inv["role"] == "producer" and inv["userId"] == member_id_user
    # Pending: no access yet.
    await call(client, "GET", f"/api/production/projects/{pid}", member, 404)
    # The invitee hears of it through a notification naming the invitation.
    notes = (await call(client, "GET", "/api/notifications", member, 200))["data"]
    note = next(n for n in notes if n["kind"] == "team_invitation")
    assert note["data"]["invitationId"] == inv["id"] and "Northlight Films" in note["title"]
    mine = (await call(client, "GET", "/api/production/team", member, 200))["data"]
    assert mine["role"] == "owner" and mine["memberships"][0]["status"] == "pending"
    # Only the invitee may answer.
    await call(client, "POST", f"/api/production/team/invitations/{inv['id']}/accept", owner, 404, json={})
    accepted = await call(
        client, "POST", f"/api/production/team/invitations/{inv['id']}/accept", member, 200, json={}
    )
    assert accepted["data"]["status"] == "active" and accepted["data"]["companyId"] == owner_id
    await call(client, "POST", f"/api/production/team/invitations/{inv['id']}/accept", member, 404, json={})
    owner_notes = (await call(client, "GET", "/api/notifications", owner, 200))["data"]
    assert any(n["kind"] == "team_invitation_accepted" for n in owner_notes)

    # A producer reads and edits the company's project, and sees it in their team projects.
    got = await call(client, "GET", f"/api/production/projects/{pid}", member, 200)
    assert got["data"]["companyId"] == owner_id
    await call(client, "PUT", f"/api/production/projects/{pid}", member, 200, json={"title": "Retitled"})
    listed = (await call(client, "GET", "/api/production/team/projects", member, 200))["data"]
    assert [(x["id"], x["role"]) for x in listed] == [(pid, "producer")]
    team = (await call(client, "GET", f"/api/production/team?companyId={owner_id}", member, 200))["data"]
    assert team["role"] == "producer" and [m["email"] for m in team["members"]] == [email]
    # ... but manages neither the team nor the project's existence.
    await call(client, "DELETE", f"/api/production/projects/{pid}", member, 403)

    # A viewer only reads; finance records expenses but edits nothing else.
    _, viewer, viewer_member = await team_member(client, owner, "viewer")
    await call(client, "GET", f"/api/production/projects/{pid}", viewer, 200)
    await call(client, "GET", f"/api/production/projects/{pid}/expenses", viewer, 200)
    refused = await call(client, "PUT", f"/api/production/projects/{pid}", viewer, 403, json={"title": "x"})
    assert "viewer" in refused["error"]["message"]
    await call(
        client,
        "POST",
        f"/api/production/projects/{pid}/expenses",
        viewer,
        403,
        json={"budgetLineId": line_id, "amount": "10"},
    )
    _, finance, _ = await team_member(client, owner, "finance")
    await call(
        client,
        "POST",
        f"/api/production/projects/{pid}/expenses",
        finance,
        201,
        json={"budgetLineId": line_id, "amount": "10"},
    )
    await call(client, "PUT", f"/api/production/projects/{pid}", finance, 403, json={"title": "x"})

    # Promote the viewer; it holds on their next request.
    changed = await call(
        client, "PUT", f"/api/production/team/{viewer_member}", owner, 200, json={"role": "coordinator"}
    )
    assert changed["data"]["role"] == "coordinator"
    await call(client, "PUT", f"/api/production/projects/{pid}", viewer, 200, json={"title": "Coordinated"})

    # Removing the producer: their very next request is refused, and they are told.
    members = (await call(client, "GET", "/api/production/team", owner, 200))["data"]["members"]
    producer_row = next(m for m in members if m["email"] == email)
    await call(client, "DELETE", f"/api/production/team/{producer_row['id']}", owner, 200)
    await call(client, "GET", f"/api/production/projects/{pid}", member, 404)
    await call(client, "PUT", f"/api/production/projects/{pid}", member, 404, json={"title": "late"})
    assert (await call(client, "GET", "/api/production/team/projects", member, 200))["data"] == []
    notes = (await call(client, "GET", "/api/notifications", member, 200))["data"]
    assert any(n["kind"] == "team_removed" for n in notes)


async def test_team_refusals(make_client):
    client = await make_client(**LIMITS)
    _, owner = await user(client, "production")
    other_id, other = await user(client, "production")
    creator_email = unique_email("creator")
    await user(client, "creator", email=creator_email)
    _, creator = await user(client, "creator")
    # Anonymous and other portals.
    await call(client, "GET", "/api/production/team", None, 401)
    await call(client, "POST", "/api/production/team", None, 401, json={"email": "a@b.co", "role": "viewer"})
    for token in (creator,):
        r = await call(
            client, "POST", "/api/production/team", token, 403, json={"email": "a@b.co", "role": "viewer"}
        )
        assert "accounts may do this" in r["error"]["message"]
    # Unknown email, another portal's account, bad role, self, twice.
    r = await call(
        client,
        "POST",
        "/api/production/team",
        owner,
        404,
        json={"email": "nobody@example.com", "role": "viewer"},
    )
    assert "nobody@example.com" in r["error"]["message"]
    await call(
        client, "POST", "/api/production/team", owner, 404, json={"email": creator_email, "role": "viewer"}
    )
    r = await call(
        client, "POST", "/api/production/team", owner, 422, json={"email": "x@example.com", "role": "boss"}
    )
    assert r["error"]["details"][0]["field"] == "role"
    r = await call(
        client,
        "POST",
        "/api/production/team",
        owner,
        422,
        json={"email": "x\x00@example.com", "role": "viewer"},
    )
    assert r["error"]["details"][0]["field"] == "email"
    _, _, member_id = await team_member(client, owner, "viewer")
    members = (await call(client, "GET", "/api/production/team", owner, 200))["data"]["members"]
    email = members[0]["email"]
    await call(client, "POST", "/api/production/team", owner, 409, json={"email": email, "role": "finance"})
    # Another company cannot touch this team's members, nor read this team.
    await call(client, "PUT", f"/api/production/team/{member_id}", other, 404, json={"role": "producer"})
    await call(client, "DELETE", f"/api/production/team/{member_id}", other, 404)
    owner_id = (
        members[0]["id"]
        and (await call(client, "GET", "/api/auth/session", owner, 200))["data"]["user"]["id"]
    )
    await call(client, "GET", f"/api/production/team?companyId={owner_id}", other, 404)
    await call(client, "GET", f"/api/production/team?companyId={2**63}", owner, 422)
    await call(client, "DELETE", f"/api/production/team/{'9' * 30}", owner, 404)
    assert other_id != owner_id


# -- resources ------------------------------------------------------------------------------


async def test_resources_bookings_flow_into_budget_lines(make_client, db_conn):
    client = await make_client(**LIMITS)
    _, owner = await user(client, "production")
    _, other = await user(client, "production")
    p = await project(client, owner)
    pid = p["id"]
    crew = await resource(client, owner)
    assert crew["costPerDay"] == "750.50" and crew["allocations"] == []
    cam = await resource(client, owner, kind="equipment", name="Alexa 35", costPerDay="1200")
    loc = await resource(
        client, owner, kind="location", name="Harbour warehouse", costPerDay="300", notes="Keys at gate"
    )

    a = await book(client, owner, crew["id"], pid, "2027-03-01", "2027-03-10")
    assert a["days"] == 10 and a["cost"] == "7505.00" and a["projectTitle"] == "The Long Take"
    await book(client, owner, cam["id"], pid, "2027-03-01", "2027-03-02")
    await book(client, owner, loc["id"], pid, "2027-03-05", "2027-03-05")
    # Adjacent days are no overlap.
    b = await book(client, owner, crew["id"], pid, "2027-03-11", "2027-03-11")
    # Overlap: refused in words naming the booking it clashes with.
    r = await book(client, owner, crew["id"], pid, "2027-03-10", "2027-03-12", status=409)
    assert r["error"]["code"] == "CONFLICT"
    assert "2027-03-01" in r["error"]["message"] and "The Long Take" in r["error"]["message"]

    got = (await call(client, "GET", f"/api/production/projects/{pid}", owner, 200))["data"]
    lines = {x["category"]: x["allocated"] for x in got["budgetLines"]}
    assert lines == {"Crew": "8255.50", "Equipment": "2400.00", "Locations": "300.00"}

    listed = (await call(client, "GET", "/api/production/resources", owner, 200))["data"]
    assert [x["kind"] for x in listed] == ["crew", "equipment", "location"]
    assert [x["startDate"] for x in listed[0]["allocations"]] == ["2027-03-01", "2027-03-11"]
    only_crew = (await call(client, "GET", "/api/production/resources?kind=crew", owner, 200))["data"]
    assert len(only_crew) == 1
    assert (await call(client, "GET", "/api/production/resources", other, 200))["data"] == []

    # Price change applies to later bookings only; a booked resource keeps its kind.
    upd = await call(
        client, "PUT", f"/api/production/resources/{crew['id']}", owner, 200, json={"costPerDay": "800"}
    )
    assert upd["data"]["costPerDay"] == "800.00" and upd["data"]["allocations"][0]["cost"] == "7505.00"
    r = await call(
        client, "PUT", f"/api/production/resources/{crew['id']}", owner, 409, json={"kind": "location"}
    )
    assert "booking" in r["error"]["message"]
    r = await call(client, "PUT", f"/api/production/resources/{crew['id']}", owner, 422, json={"name": None})
    assert r["error"]["details"][0]["field"] == "name"

    # Deleting a booked resource is refused; removing bookings takes their cost off the line.
    r = await call(client, "DELETE", f"/api/production/resources/{crew['id']}", owner, 409)
    assert "2 booking(s)" in r["error"]["message"]
    await call(client, "DELETE", f"/api/production/resources/{crew['id']}/allocations/{a['id']}", owner, 200)
    await call(client, "DELETE", f"/api/production/resources/{crew['id']}/allocations/{b['id']}", owner, 200)
    await call(client, "DELETE", f"/api/production/resources/{crew['id']}/allocations/{b['id']}", owner, 404)
    got = (await call(client, "GET", f"/api/production/projects/{pid}", owner, 200))["data"]
    assert {x["category"]: x["allocated"] for x in got["budgetLines"]}["Crew"] == "0.00"
    await call(client, "DELETE", f"/api/production/resources/{crew['id']}", owner, 200)
    await call(client, "PUT", f"/api/production/resources/{crew['id']}", owner, 404, json={"name": "x"})
    assert await db_conn.fetchval("SELECT count(*) FROM production_allocations") == 2


async def test_resource_refusals(make_client):
    client = await make_client(**LIMITS)
    _, owner = await user(client, "production")
    _, other = await user(client, "production")
    _, investor = await user(client, "investor")
    pid = (await project(client, owner))["id"]
    their_pid = (await project(client, other))["id"]
    res = await resource(client, owner)
    rid = res["id"]
    # Anonymous, other portals.
    await call(client, "GET", "/api/production/resources", None, 401)
    await call(client, "GET", "/api/production/resources", investor, 403)
    await call(client, "POST", f"/api/production/resources/{rid}/allocations", investor, 403, json={})
    # Another company: its resource and its project are not there.
    await call(client, "PUT", f"/api/production/resources/{rid}", other, 404, json={"name": "mine"})
    await call(client, "DELETE", f"/api/production/resources/{rid}", other, 404)
    await book(client, other, rid, their_pid, "2027-01-01", "2027-01-02", status=404)
    r = await book(client, owner, rid, their_pid, "2027-01-01", "2027-01-02", status=404)
    assert r["error"]["message"] == "Project not found"
    # A viewer on the team reads but may not write.
    _, viewer, _ = await team_member(client, owner, "viewer")
    from_team = await call(
        client, "GET", f"/api/production/resources?companyId={res['companyId']}", viewer, 200
    )
    assert [x["id"] for x in from_team["data"]] == [rid]
    await book(client, viewer, rid, pid, "2027-01-01", "2027-01-02", status=403)
    await call(
        client,
        "POST",
        f"/api/production/resources?companyId={res['companyId']}",
        viewer,
        403,
        json={"kind": "crew", "name": "x", "costPerDay": "1"},
    )
    # Bad input: each 422 names its field; nothing is a 500.
    cases = [
        ({"kind": "crew", "name": "a\x00b", "costPerDay": "1"}, "name"),
        ({"kind": "crew", "name": "x", "costPerDay": "1.005"}, "costPerDay"),
        ({"kind": "crew", "name": "x", "costPerDay": "-1"}, "costPerDay"),
        ({"kind": "crew", "name": "x", "costPerDay": "99999999999"}, "costPerDay"),
        ({"kind": "dragon", "name": "x", "costPerDay": "1"}, "kind"),
        ({"kind": "crew", "name": "   ", "costPerDay": "1"}, "name"),
        ({"kind": "crew", "name": "x", "costPerDay": "1", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        r = await call(client, "POST", "/api/production/resources", owner, 422, json=body)
        assert r["error"]["details"][0]["field"] == field, (body, r)
    for body, field in [
        ({"projectId": 2**63, "startDate": "2027-01-01", "endDate": "2027-01-02"}, "projectId"),
        ({"projectId": pid, "startDate": "2027-01-05", "endDate": "2027-01-01"}, "endDate"),
        ({"projectId": pid, "startDate": "2027-02-30", "endDate": "2027-03-01"}, "startDate"),
        ({"projectId": pid, "startDate": "2027-01-01"}, "endDate"),
    ]:
        r = await call(client, "POST", f"/api/production/resources/{rid}/allocations", owner, 422, json=body)
        assert r["error"]["details"][0]["field"] == field, (body, r)
    await call(
        client,
        "POST",
        f"/api/production/resources/{'9' * 40}/allocations",
        owner,
        404,
        json={"projectId": pid, "startDate": "2027-01-01", "endDate": "2027-01-02"},
    )
    await call(client, "GET", "/api/production/resources?kind=dragon", owner, 422)
    # An archived project takes no new bookings.
    await call(client, "POST", f"/api/production/projects/{pid}/archive", owner, 200, json={})
    r = await book(client, owner, rid, pid, "2027-01-01", "2027-01-02", status=409)
    assert "archived" in r["error"]["message"]


async def test_twenty_concurrent_overlapping_bookings_one_wins(make_client, db_conn):
    client = await make_client(**LIMITS)
    _, owner = await user(client, "production")
    pid = (await project(client, owner))["id"]
    rid = (await resource(client, owner, costPerDay="100"))["id"]
    start = date(2027, 6, 1)

    async def attempt(i: int) -> int:
        # Every range overlaps every other (all contain June 10th), each one different.
        body = {
            "projectId": pid,
            "startDate": (start + timedelta(days=i % 9)).isoformat(),
            "endDate": (start + timedelta(days=9 + i)).isoformat(),
        }
        resp = await client.post(
            f"/api/production/resources/{rid}/allocations", json=body, headers=bearer(owner)
        )
        await resp.read()
        return resp.status

    statuses = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert sorted(statuses) == [201] + [409] * 19, statuses
    assert (
        await db_conn.fetchval("SELECT count(*) FROM production_allocations WHERE resource_id = $1", rid) == 1
    )
    # The budget line holds exactly the winner's cost.
    won = await db_conn.fetchval("SELECT cost FROM production_allocations WHERE resource_id = $1", rid)
    line = await db_conn.fetchval(
        "SELECT allocated FROM production_budget_lines WHERE project_id = $1 AND category = 'Crew'", pid
    )
    assert line == won


# -- timeline -------------------------------------------------------------------------------


PHASES = [
    {"phase": "development", "startDate": "2027-01-01", "endDate": "2027-01-31"},
    {
        "phase": "pre_production",
        "startDate": "2027-02-01",
        "endDate": "2027-02-28",
        "dependsOn": ["development"],
    },
    {
        "phase": "shooting",
        "startDate": "2027-03-01",
        "endDate": "2027-03-31",
        "dependsOn": ["pre_production"],
    },
    {"phase": "post", "startDate": "2027-04-01", "endDate": "2027-05-31", "dependsOn": ["shooting"]},
    {"phase": "distribution", "startDate": "2027-06-01", "endDate": "2027-06-30", "dependsOn": ["post"]},
]


async def test_timeline_moves_dependents_refuses_cycles_flags_overdue(make_client):
    client = await make_client(**LIMITS)
    _, owner = await user(client, "production")
    p = await project(client, owner, milestones=[{"title": "Wrap party", "dueDate": "2027-03-31"}])
    pid = p["id"]
    path = f"/api/production/projects/{pid}/timeline"
    empty = (await call(client, "GET", path, owner, 200))["data"]
    assert empty["phases"] == [] and empty["milestones"][0]["phase"] is None

    t = (await call(client, "PUT", path, owner, 200, json={"phases": PHASES}))["data"]
    assert [x["phase"] for x in t["phases"]] == [x["phase"] for x in PHASES]
    assert t["milestones"][0]["phase"] == "shooting"
    # Moving shooting a week later moves post and distribution a week later; earlier phases stay.
    moved = {**PHASES[2], "startDate": "2027-03-08", "endDate": "2027-04-07"}
    t = (await call(client, "PUT", path, owner, 200, json={"phases": [moved]}))["data"]
    dates = {x["phase"]: (x["startDate"], x["endDate"]) for x in t["phases"]}
    assert dates["pre_production"] == ("2027-02-01", "2027-02-28")
    assert dates["shooting"] == ("2027-03-08", "2027-04-07")
    assert dates["post"] == ("2027-04-08", "2027-06-07")
    assert dates["distribution"] == ("2027-06-08", "2027-07-07")
    # Lengthening pre-production pushes shooting (finish-to-start) and everything after it.
    longer = {**PHASES[1], "endDate": "2027-03-10"}
    t = (await call(client, "PUT", path, owner, 200, json={"phases": [longer]}))["data"]
    dates = {x["phase"]: (x["startDate"], x["endDate"]) for x in t["phases"]}
    assert dates["shooting"][0] == "2027-03-18" and dates["post"][0] == "2027-04-18"

    # A cycle, a missing dependency, a moved phase overlapping its predecessor: 422 naming phases.
    r = await call(
        client, "PUT", path, owner, 422, json={"phases": [{**PHASES[0], "dependsOn": ["distribution"]}]}
    )
    assert r["error"]["details"][0]["field"] == "phases" and "cycle" in r["error"]["message"]
    r = await call(
        client,
        "PUT",
        path,
        owner,
        422,
        json={"remove": ["shooting"], "phases": [{**PHASES[3], "dependsOn": ["shooting"]}]},
    )
    assert "shooting" in r["error"]["message"]
    r = await call(
        client,
        "PUT",
        path,
        owner,
        422,
        json={"phases": [{**PHASES[2], "startDate": "2027-03-01", "endDate": "2027-03-05"}]},
    )
    assert "before pre_production ends" in r["error"]["message"]
    r = await call(client, "PUT", path, owner, 422, json={"phases": [{**PHASES[0], "endDate": "2026-12-01"}]})
    assert r["error"]["details"][0]["field"] == "phases.0.endDate"
    r = await call(client, "PUT", path, owner, 422, json={"phases": [PHASES[0], PHASES[0]]})
    assert r["error"]["details"][0]["field"] == "phases"
    r = await call(client, "PUT", path, owner, 422, json={"phases": [{**PHASES[0], "phase": "wrap"}]})
    assert r["error"]["details"][0]["field"].startswith("phases.0.phase")
    # Removing a phase drops it from its dependents' lists.
    t = (await call(client, "PUT", path, owner, 200, json={"remove": ["development"]}))["data"]
    assert t["phases"][0]["phase"] == "pre_production" and t["phases"][0]["dependsOn"] == []

    # Overdue: an open phase that ended in the past, flagged here and in the analytics.
    past = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    long_ago = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()
    late = {"phase": "development", "startDate": long_ago, "endDate": past}
    t = (await call(client, "PUT", path, owner, 200, json={"phases": [late]}))["data"]
    assert next(x for x in t["phases"] if x["phase"] == "development")["overdue"] is True
    a = (await call(client, "GET", "/api/analytics/production", owner, 200))["data"]
    assert a["overduePhases"] == [
        {"projectId": pid, "projectTitle": "The Long Take", "phase": "development", "endDate": past}
    ]
    t = (await call(client, "PUT", path, owner, 200, json={"phases": [{**late, "done": True}]}))["data"]
    assert (await call(client, "GET", "/api/analytics/production", owner, 200))["data"]["overduePhases"] == []

    # Others: another company 404, a viewer reads but may not write, anonymous 401.
    _, other = await user(client, "production")
    await call(client, "GET", path, other, 404)
    await call(client, "PUT", path, other, 404, json={"phases": []})
    _, viewer, _ = await team_member(client, owner, "viewer")
    await call(client, "GET", path, viewer, 200)
    await call(client, "PUT", path, viewer, 403, json={"phases": []})
    await call(client, "GET", path, None, 401)


# -- deleting projects ----------------------------------------------------------------------


async def test_delete_project_refused_while_it_has_bookings_or_expenses(make_client, db_conn):
    client = await make_client(**LIMITS)
    _, owner = await user(client, "production")
    _, other = await user(client, "production")
    bare = await project(client, owner, title="Bare")
    await call(client, "DELETE", f"/api/production/projects/{bare['id']}", other, 404)
    await call(client, "DELETE", f"/api/production/projects/{bare['id']}", owner, 200)
    await call(client, "GET", f"/api/production/projects/{bare['id']}", owner, 404)

    p = await project(client, owner, budgetLines=[{"category": "Cast", "allocated": "100"}])
    pid = p["id"]
    await call(
        client,
        "POST",
        f"/api/production/projects/{pid}/expenses",
        owner,
        201,
        json={"budgetLineId": p["budgetLines"][0]["id"], "amount": "10"},
    )
    rid = (await resource(client, owner))["id"]
    await book(client, owner, rid, pid, "2027-01-01", "2027-01-02")
    r = await call(client, "DELETE", f"/api/production/projects/{pid}", owner, 409)
    msg = r["error"]["message"]
    assert "1 resource booking(s)" in msg and "1 expense(s)" in msg and "archive" in msg
    # A team producer may neither archive nor delete.
    _, producer, _ = await team_member(client, owner, "producer")
    await call(client, "POST", f"/api/production/projects/{pid}/archive", producer, 403, json={})
    await call(client, "DELETE", f"/api/production/projects/{pid}", producer, 403)
    # Archive, un-archive (refused again), archive, delete: everything goes with it.
    out = await call(client, "POST", f"/api/production/projects/{pid}/archive", owner, 200, json={})
    assert out["data"]["archived"] is True
    out = await call(
        client, "POST", f"/api/production/projects/{pid}/archive", owner, 200, json={"archived": False}
    )
    assert out["data"]["archived"] is False and out["data"]["archivedAt"] is None
    await call(client, "DELETE", f"/api/production/projects/{pid}", owner, 409)
    await call(client, "POST", f"/api/production/projects/{pid}/archive", owner, 200, json={"archived": True})
    await call(client, "DELETE", f"/api/production/projects/{pid}", owner, 200)
    await call(client, "DELETE", f"/api/production/projects/{pid}", owner, 404)
    assert await db_conn.fetchval("SELECT count(*) FROM production_allocations") == 0
    assert await db_conn.fetchval("SELECT count(*) FROM production_expenses") == 0
    # The resource itself stays, free again.
    assert (await call(client, "GET", "/api/production/resources", owner, 200))["data"][0][
        "allocations"
    ] == []
    await call(client, "DELETE", f"/api/production/projects/{'1' * 25}", owner, 404)
    await call(client, "DELETE", f"/api/production/projects/{pid}", None, 401)


# -- the project room -----------------------------------------------------------------------


async def test_project_room_presence_live_changes_and_removal(make_client):
    client = await make_client(**LIMITS)
    owner_id, owner = await user(client, "production")
    pid = (await project(client, owner))["id"]
    member_id, member, member_row = await team_member(client, owner, "coordinator")
    _, outsider = await user(client, "production")
    room = f"project:{pid}"

    a = await connect(client, owner)
    b = await connect(client, member)
    await a.subscribe(room)
    joined = await b.subscribe(room)
    assert {p["userId"] for p in joined["data"]["presence"]} == {owner_id, member_id}
    await a.expect("user_joined", room, where=lambda f: f["data"]["userId"] == member_id)

    # A change committed through REST reaches every member of the room.
    await call(
        client, "PUT", f"/api/production/projects/{pid}/timeline", owner, 200, json={"phases": PHASES[:1]}
    )
    for conn in (a, b):
        ev = await conn.expect("project_update", room)
        assert ev["data"] == {"projectId": pid, "what": "timeline", "userId": owner_id}
    await call(client, "PUT", f"/api/production/projects/{pid}", member, 200, json={"title": "Renamed"})
    assert (await a.expect("project_update", room))["data"]["what"] == "project"

    # Outsiders and other portals are refused, and so is a metrics room.
    c = await connect(client, outsider)
    assert await c.subscribe_error(room) == "NOT_FOUND"
    assert await c.subscribe_error(f"metrics:{room}") == "FORBIDDEN"

    # Removing the member ends their subscription at once; they cannot come back.
    await call(client, "DELETE", f"/api/production/team/{member_row}", owner, 200)
    err = await b.expect("error", room)
    assert err["data"]["code"] == "FORBIDDEN"
    await b.expect("unsubscribed", room)
    await a.expect("user_left", room, where=lambda f: f["data"]["userId"] == member_id)
    assert await b.subscribe_error(room) == "NOT_FOUND"
    for conn in (a, b, c):
        await conn.close()
