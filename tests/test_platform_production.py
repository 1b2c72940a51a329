"""Production projects: budget lines, expenses over time, milestones, the investment overview,
the following feed, and every refusal (wrong portal, another company's ids, bad values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import expect_envelope
from realtime_helpers import bearer, make_pitch, user


async def create_project(client: Any, token: str, status: int = 201, **fields: Any) -> Any:
    body = {"title": "The Long Take", "stage": "pre_production", "budget": "100000.00", **fields}
    resp = await client.post("/api/production/projects", json=body, headers=bearer(token))
    return await expect_envelope(resp, status)


async def expense(
    client: Any, token: str, project_id: int, line_id: int, amount: str, status: int = 201, **extra: Any
) -> Any:
    resp = await client.post(
        f"/api/production/projects/{project_id}/expenses",
        json={"budgetLineId": line_id, "amount": amount, **extra},
        headers=bearer(token),
    )
    return await expect_envelope(resp, status)


async def test_project_journey_budget_expenses_milestones(make_client, db_conn):
    client = await make_client()
    _, token = await user(client, "production")
    body = await create_project(
        client,
        token,
        startDate="2026-01-01",
        endDate="2026-12-31",
        budgetLines=[
            {"category": "Cast", "allocated": "40000"},
            {"category": "Crew", "allocated": "30000.50"},
            {"category": "Locations", "allocated": "10000"},
        ],
        milestones=[
            {"title": "Script lock", "dueDate": "2026-02-01"},
            {"title": "Principal photography", "dueDate": "2026-06-01"},
        ],
    )
    p = body["data"]
    pid = p["id"]
    assert p["stage"] == "pre_production" and p["budget"] == "100000.00"
    lines = {b["category"]: b for b in p["budgetLines"]}
    assert lines["Crew"]["allocated"] == "30000.50" and lines["Crew"]["spent"] == "0.00"
    assert p["totals"] == {
        "budget": "100000.00",
        "allocated": "80000.50",
        "spent": "0.00",
        "remaining": "100000.00",
        "unallocated": "19999.50",
        "overBudget": False,
        "linesOverBudget": 0,
    }
    assert [m["title"] for m in p["milestones"]] == ["Script lock", "Principal photography"]
    assert all(m["done"] is False for m in p["milestones"])

    cast, crew, loc = lines["Cast"]["id"], lines["Crew"]["id"], lines["Locations"]["id"]
    day1 = datetime(2026, 3, 1, 10, tzinfo=UTC) - timedelta(days=400)  # in the past
    day2 = day1 + timedelta(days=2)
    r = await expense(client, token, pid, cast, "15000", spentAt=day1.isoformat(), note="lead")
    assert r["data"]["expense"]["amount"] == "15000.00"
    assert r["data"]["expense"]["kind"] == "expense"
    assert r["data"]["budgetLine"]["spent"] == "15000.00"
    await expense(client, token, pid, crew, "1000.25", spentAt=day1.isoformat())
    await expense(client, token, pid, cast, "5000", spentAt=day2.isoformat())
    # Locations goes over its allocation: allowed, flagged.
    r = await expense(client, token, pid, loc, "12500.10", spentAt=day2.isoformat())
    line = r["data"]["budgetLine"]
    assert line["overBudget"] is True and line["remaining"] == "-2500.10"
    assert r["data"]["totals"]["linesOverBudget"] == 1
    assert r["data"]["totals"]["spent"] == "33500.35"
    # Without spentAt: now.
    r = await expense(client, token, pid, crew, "99.75")
    assert abs(datetime.fromisoformat(r["data"]["expense"]["spentAt"]) - datetime.now(UTC)) < timedelta(
        minutes=1
    )

    # The line's spent is the sum of its expense rows, in the database too.
    rows = await db_conn.fetch(
        """SELECT l.category, l.spent, (SELECT sum(amount) FROM production_expenses e
                                        WHERE e.budget_line_id = l.id) AS summed
           FROM production_budget_lines l WHERE project_id = $1""",
        pid,
    )
    for row in rows:
        assert row["spent"] == row["summed"], row
    assert await db_conn.fetchval("SELECT count(*) FROM production_expenses") == 5

    # Budget analytics: cumulative per line at each spend day.
    resp = await client.get(f"/api/analytics/budget/{pid}", headers=bearer(token))
    a = (await expect_envelope(resp, 200))["data"]
    today = datetime.now(UTC).date().isoformat()
    assert a["labels"] == [day1.date().isoformat(), day2.date().isoformat(), today]
    series = {s["name"]: s["data"] for s in a["series"]}
    assert series == {
        "Cast": ["15000.00", "20000.00", "20000.00"],
        "Crew": ["1000.25", "1000.25", "1100.00"],
        "Locations": ["0.00", "12500.10", "12500.10"],
    }
    assert a["cumulativeTotal"] == ["16000.25", "33500.35", "33600.10"]
    uses = {x["category"]: x for x in a["lines"]}
    assert uses["Locations"]["overBudget"] is True and uses["Locations"]["percentUsed"] == 125.0
    assert uses["Cast"]["percentUsed"] == 50.0 and uses["Cast"]["remaining"] == "20000.00"
    assert a["totals"]["spent"] == "33600.10"

    # PUT: stage, budget, a milestone done, a line's allocation raised and spent corrected.
    ms = {m["title"]: m["id"] for m in p["milestones"]}
    resp = await client.put(
        f"/api/production/projects/{pid}",
        headers=bearer(token),
        json={
            "stage": "production",
            "budget": "120000",
            "budgetLines": [
                {"id": loc, "allocated": "15000"},
                {"id": crew, "spent": "1000"},
                {"category": "Post", "allocated": "5000"},
            ],
            "milestones": [
                {"id": ms["Script lock"], "done": True},
                {"title": "Festival cut", "dueDate": "2026-11-01"},
            ],
        },
    )
    u = (await expect_envelope(resp, 200))["data"]
    assert u["stage"] == "production" and u["budget"] == "120000.00"
    assert u["startDate"] == "2026-01-01"  # untouched
    ul = {b["category"]: b for b in u["budgetLines"]}
    assert ul["Locations"]["overBudget"] is False and ul["Locations"]["allocated"] == "15000.00"
    assert ul["Crew"]["spent"] == "1000.00"
    assert ul["Post"]["allocated"] == "5000.00" and ul["Post"]["spent"] == "0.00"
    um = {m["title"]: m for m in u["milestones"]}
    assert um["Script lock"]["done"] is True and um["Script lock"]["doneAt"]
    assert um["Festival cut"]["dueDate"] == "2026-11-01"
    # The correction is an adjustment row, so the series still adds up to spent.
    adj = await db_conn.fetchrow(
        "SELECT kind, amount FROM production_expenses WHERE budget_line_id = $1 AND kind = 'adjustment'", crew
    )
    assert adj["amount"] == -100 and adj["kind"] == "adjustment"
    resp = await client.get(f"/api/analytics/budget/{pid}", headers=bearer(token))
    a = (await expect_envelope(resp, 200))["data"]
    assert {s["name"]: s["data"][-1] for s in a["series"]}["Crew"] == "1000.00"

    # Un-done a milestone; clear a date.
    resp = await client.put(
        f"/api/production/projects/{pid}",
        headers=bearer(token),
        json={"endDate": None, "milestones": [{"id": ms["Script lock"], "done": False}]},
    )
    u = (await expect_envelope(resp, 200))["data"]
    assert u["endDate"] is None
    assert {m["title"]: m for m in u["milestones"]}["Script lock"]["doneAt"] is None

    # The list and the expenses list.
    resp = await client.get("/api/production/projects", headers=bearer(token))
    body = await expect_envelope(resp, 200)
    assert [x["id"] for x in body["data"]] == [pid]
    assert body["meta"]["pagination"] == {"page": 1, "limit": 20, "total": 1, "hasMore": False}
    resp = await client.get(f"/api/production/projects/{pid}/expenses?limit=2", headers=bearer(token))
    body = await expect_envelope(resp, 200)
    assert body["meta"]["pagination"]["total"] == 6 and body["meta"]["pagination"]["hasMore"]
    assert len(body["data"]) == 2


async def test_project_list_pagination_and_stage_filter(make_client):
    client = await make_client()
    _, token = await user(client, "production")
    ids = []
    for i, stage in enumerate(["development", "production", "production", "completed"]):
        ids.append((await create_project(client, token, title=f"P{i}", stage=stage))["data"]["id"])
    resp = await client.get("/api/production/projects?limit=3&page=2", headers=bearer(token))
    body = await expect_envelope(resp, 200)
    assert [p["id"] for p in body["data"]] == [ids[0]]
    assert body["meta"]["pagination"] == {"page": 2, "limit": 3, "total": 4, "hasMore": False}
    resp = await client.get("/api/production/projects?stage=production", headers=bearer(token))
    body = await expect_envelope(resp, 200)
    assert [p["id"] for p in body["data"]] == [ids[2], ids[1]]
    resp = await client.get("/api/production/projects?stage=wrapped", headers=bearer(token))
    await expect_envelope(resp, 422, "VALIDATION_ERROR")
    resp = await client.get("/api/production/projects?limit=101", headers=bearer(token))
    await expect_envelope(resp, 422, "VALIDATION_ERROR")


async def test_wrong_portals_are_forbidden(make_client, db_conn):
    client = await make_client()
    _, creator = await user(client, "creator")
    _, investor = await user(client, "investor")
    _, company = await user(client, "production")
    pid = (await create_project(client, company))["data"]["id"]
    calls = [
        ("GET", "/api/production/projects", None),
        ("POST", "/api/production/projects", {"title": "x", "budget": "1"}),
        ("GET", f"/api/production/projects/{pid}", None),
        ("PUT", f"/api/production/projects/{pid}", {"stage": "completed"}),
        ("POST", f"/api/production/projects/{pid}/expenses", {"budgetLineId": 1, "amount": "1"}),
        ("GET", f"/api/production/projects/{pid}/expenses", None),
        ("GET", "/api/production/investments/overview", None),
        ("GET", "/api/production/following", None),
        ("GET", "/api/analytics/production", None),
        ("GET", f"/api/analytics/budget/{pid}", None),
    ]
    for token in (creator, investor):
        for method, path, body in calls:
            resp = await client.request(method, path, json=body, headers=bearer(token))
            await expect_envelope(resp, 403, "FORBIDDEN")
    for method, path, body in calls:
        resp = await client.request(method, path, json=body)
        await expect_envelope(resp, 401, "UNAUTHORIZED")
    assert await db_conn.fetchval("SELECT count(*) FROM production_projects") == 1
    assert (
        await db_conn.fetchval("SELECT stage FROM production_projects WHERE id = $1", pid) == "pre_production"
    )


async def test_another_companys_project_is_not_found(make_client, db_conn):
    client = await make_client()
    _, mine = await user(client, "production")
    _, theirs = await user(client, "production")
    p = (
        await create_project(
            client, theirs, budgetLines=[{"category": "Cast", "allocated": "10"}], milestones=[{"title": "M"}]
        )
    )["data"]
    pid, line = p["id"], p["budgetLines"][0]["id"]
    own = (await create_project(client, mine, budgetLines=[{"category": "Cast", "allocated": "10"}]))["data"]
    for method, path, body in [
        ("GET", f"/api/production/projects/{pid}", None),
        ("PUT", f"/api/production/projects/{pid}", {"stage": "completed"}),
        ("POST", f"/api/production/projects/{pid}/expenses", {"budgetLineId": line, "amount": "5"}),
        ("GET", f"/api/production/projects/{pid}/expenses", None),
        ("GET", f"/api/analytics/budget/{pid}", None),
        ("GET", "/api/production/projects/999999", None),
        ("GET", "/api/production/projects/abc", None),
    ]:
        resp = await client.request(method, path, json=body, headers=bearer(mine))
        await expect_envelope(resp, 404, "NOT_FOUND")
    # Their budget line and milestone cannot be touched through my own project either.
    await expense(client, mine, own["id"], line, "5", status=404)
    resp = await client.put(
        f"/api/production/projects/{own['id']}",
        headers=bearer(mine),
        json={"budgetLines": [{"id": line, "spent": "9"}]},
    )
    await expect_envelope(resp, 404, "NOT_FOUND")
    resp = await client.put(
        f"/api/production/projects/{own['id']}",
        headers=bearer(mine),
        json={"stage": "completed", "milestones": [{"id": p["milestones"][0]["id"], "done": True}]},
    )
    await expect_envelope(resp, 404, "NOT_FOUND")
    # ...and the failed PUT changed nothing (one transaction).
    assert (
        await db_conn.fetchval("SELECT stage FROM production_projects WHERE id = $1", own["id"])
        == "pre_production"
    )
    assert await db_conn.fetchval("SELECT count(*) FROM production_expenses") == 0
    assert await db_conn.fetchval("SELECT sum(spent) FROM production_budget_lines") == 0
    assert await db_conn.fetchval("SELECT bool_or(done) FROM production_milestones") is False
    # The other company's list does not include mine.
    resp = await client.get("/api/production/projects", headers=bearer(theirs))
    assert [x["id"] for x in (await expect_envelope(resp, 200))["data"]] == [pid]


async def test_bad_values_are_refused_and_nothing_is_written(make_client, db_conn):
    client = await make_client()
    _, token = await user(client, "production")
    bad_creates = [
        {"stage": "wrapped"},
        {"budget": "-1"},
        {"budget": "12.345"},
        {"budget": "abc"},
        {"title": "   "},
        {"startDate": "2026-05-01", "endDate": "2026-04-01"},
        {"budgetLines": [{"category": "Cast", "allocated": "1"}, {"category": "cast", "allocated": "2"}]},
        {"budgetLines": [{"category": "Cast", "allocated": "-5"}]},
        {"milestones": [{"dueDate": "2026-01-01"}]},
        {"pitchId": 0},
    ]
    for fields in bad_creates:
        body = await create_project(client, token, status=422, **fields)
        assert body["error"]["code"] == "VALIDATION_ERROR", fields
    resp = await client.post("/api/production/projects", json={"title": "no budget"}, headers=bearer(token))
    await expect_envelope(resp, 422, "VALIDATION_ERROR")
    assert await db_conn.fetchval("SELECT count(*) FROM production_projects") == 0

    p = (
        await create_project(
            client, token, startDate="2026-01-01", budgetLines=[{"category": "Cast", "allocated": "10"}]
        )
    )["data"]
    pid, line = p["id"], p["budgetLines"][0]["id"]
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for amount, extra in [
        ("0", {}),
        ("-3", {}),
        ("1.001", {}),
        ("x", {}),
        ("5", {"spentAt": future}),
        ("5", {"note": "n" * 1001}),
    ]:
        await expense(client, token, pid, line, amount, status=422, **extra)
    resp = await client.post(
        f"/api/production/projects/{pid}/expenses", json={"amount": "5"}, headers=bearer(token)
    )
    await expect_envelope(resp, 422, "VALIDATION_ERROR")
    await expense(client, token, pid, 999999, "5", status=404)
    for patch in [
        {"stage": "wrapped"},
        {"budget": None},
        {"stage": None},
        {"endDate": "2025-12-31"},  # before the stored startDate
        {"budgetLines": [{"allocated": "5"}]},
        {"budgetLines": [{"id": line, "spent": "-1"}]},
        {"milestones": [{"done": True}]},
    ]:
        resp = await client.put(f"/api/production/projects/{pid}", json=patch, headers=bearer(token))
        await expect_envelope(resp, 422, "VALIDATION_ERROR")
    resp = await client.put(
        f"/api/production/projects/{pid}",
        headers=bearer(token),
        json={"budgetLines": [{"category": "CAST", "allocated": "1"}]},
    )
    await expect_envelope(resp, 409, "CONFLICT")
    row = await db_conn.fetchrow("SELECT stage, budget, end_date FROM production_projects")
    assert (row["stage"], row["end_date"]) == ("pre_production", None)
    assert await db_conn.fetchval("SELECT count(*) FROM production_budget_lines") == 1
    assert await db_conn.fetchval("SELECT count(*) FROM production_expenses") == 0


async def test_linking_a_pitch_needs_a_visible_pitch(make_client):
    client = await make_client()
    _, creator = await user(client, "creator")
    _, company = await user(client, "production")
    draft = await make_pitch(client, creator, status="draft")
    private = await make_pitch(client, creator, visibility="private")
    open_pitch = await make_pitch(client, creator, visibility="investors_only")
    await create_project(client, company, status=404, pitchId=draft["id"])
    await create_project(client, company, status=404, pitchId=999999)
    await create_project(client, company, status=403, pitchId=private["id"])
    p = (await create_project(client, company, pitchId=open_pitch["id"]))["data"]
    assert p["pitchId"] == open_pitch["id"]
    resp = await client.put(
        f"/api/production/projects/{p['id']}", headers=bearer(company), json={"pitchId": draft["id"]}
    )
    await expect_envelope(resp, 404, "NOT_FOUND")
    resp = await client.put(
        f"/api/production/projects/{p['id']}", headers=bearer(company), json={"pitchId": None}
    )
    assert (await expect_envelope(resp, 200))["data"]["pitchId"] is None


async def test_investments_overview_is_the_real_sum(make_client, db_conn):
    client = await make_client()
    _, creator = await user(client, "creator")
    inv1, _ = await user(client, "investor")
    inv2, _ = await user(client, "investor")
    inv3, _ = await user(client, "investor")
    _, company = await user(client, "production")
    _, other_company = await user(client, "production")
    a = await make_pitch(client, creator, title="Alpha")
    b = await make_pitch(client, creator, title="Beta")
    c = await make_pitch(client, creator, title="Gamma")  # not linked by the company
    rows = [
        (inv1, a["id"], "1000.50", "completed"),
        (inv2, a["id"], "2000.00", "pending"),
        (inv1, a["id"], "500.00", "cancelled"),
        (inv3, b["id"], "300.25", "completed"),
        (inv3, b["id"], "99.00", "refunded"),
        (inv2, c["id"], "7777.00", "completed"),
    ]
    for investor, pitch, amount, status in rows:
        await db_conn.execute(
            "INSERT INTO investments (investor_id, pitch_id, amount, status) "
            "VALUES ($1, $2, $3::numeric, $4)",
            investor,
            pitch,
            amount,
            status,
        )
    pa = (
        await create_project(
            client,
            company,
            title="Alpha film",
            pitchId=a["id"],
            budget="5000",
            budgetLines=[{"category": "Cast", "allocated": "4000"}],
        )
    )["data"]
    pb = (await create_project(client, company, title="Beta film", pitchId=b["id"], budget="1000"))["data"]
    # A second project on the same pitch: the pitch counts once in the totals.
    await create_project(client, company, title="Alpha sequel", pitchId=a["id"], budget="0")
    await create_project(client, company, title="Unlinked", budget="250.50")
    await create_project(client, other_company, title="Theirs", pitchId=c["id"])
    await expense(client, company, pa["id"], pa["budgetLines"][0]["id"], "4500")

    resp = await client.get("/api/production/investments/overview", headers=bearer(company))
    o = (await expect_envelope(resp, 200))["data"]
    assert o["totals"] == {
        "invested": "3300.75",
        "completed": "1300.75",
        "pending": "2000.00",
        "investments": 3,
        "investors": 3,
        "linkedPitches": 2,
    }
    expected = await db_conn.fetchval(
        "SELECT sum(amount) FROM investments WHERE pitch_id = ANY($1::bigint[]) "
        "AND status NOT IN ('cancelled', 'refunded')",
        [a["id"], b["id"]],
    )
    assert o["totals"]["invested"] == f"{expected:.2f}"
    by_project = {p["projectTitle"]: p for p in o["projects"]}
    assert set(by_project) == {"Alpha film", "Beta film", "Alpha sequel"}
    assert by_project["Alpha film"]["invested"] == "3000.50"
    assert by_project["Alpha film"]["investors"] == 2
    assert by_project["Alpha film"]["pitchTitle"] == "Alpha"
    assert by_project["Beta film"] == {
        "projectId": pb["id"],
        "projectTitle": "Beta film",
        "pitchId": b["id"],
        "pitchTitle": "Beta",
        "invested": "300.25",
        "completed": "300.25",
        "pending": "0.00",
        "investments": 1,
        "investors": 1,
    }
    assert o["budget"] == {
        "projects": 4,
        "budget": "6250.50",
        "allocated": "4000.00",
        "spent": "4500.00",
        "remaining": "1750.50",
    }

    # A company with nothing linked: zeros, not an error.
    resp = await client.get(
        "/api/production/investments/overview", headers=bearer((await user(client, "production"))[1])
    )
    o = (await expect_envelope(resp, 200))["data"]
    assert o["totals"]["invested"] == "0.00" and o["projects"] == []


async def test_following_feed(make_client, db_conn):
    client = await make_client()
    company_id, company = await user(client, "production")
    followed_id, followed = await user(client, "creator", name="Ada")
    other_id, other = await user(client, "creator")
    older = await make_pitch(client, followed, title="Older")
    newer = await make_pitch(client, followed, title="Newer", visibility="investors_only")
    await make_pitch(client, followed, title="Draft", status="draft")
    hidden = await make_pitch(client, followed, title="Private", visibility="private")
    await make_pitch(client, other, title="Not followed")
    await db_conn.execute(
        "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)", company_id, followed_id
    )
    await db_conn.execute(
        "UPDATE pitches SET published_at = now() - interval '2 days' WHERE id = $1", older["id"]
    )

    resp = await client.get("/api/production/following", headers=bearer(company))
    body = await expect_envelope(resp, 200)
    assert [i["pitch"]["title"] for i in body["data"]] == ["Newer", "Older"]
    first = body["data"][0]
    assert first["type"] == "pitch_published"
    assert first["user"] == {
        "id": followed_id,
        "username": None,
        "name": "Ada",
        "companyName": None,
        "userType": "creator",
    }
    assert body["meta"]["pagination"]["total"] == 2

    # An approved NDA makes the private pitch part of the feed.
    await db_conn.execute(
        "INSERT INTO nda_requests (pitch_id, requester_id, owner_id, status, decided_at) "
        "VALUES ($1, $2, $3, 'approved', now())",
        hidden["id"],
        company_id,
        followed_id,
    )
    resp = await client.get("/api/production/following?limit=1&page=1", headers=bearer(company))
    body = await expect_envelope(resp, 200)
    assert body["meta"]["pagination"] == {"page": 1, "limit": 1, "total": 3, "hasMore": True}
    assert body["data"][0]["pitch"]["id"] == hidden["id"]
    assert newer["id"] != hidden["id"] and other_id != followed_id


async def test_production_analytics(make_client, db_conn):
    client = await make_client()
    _, token = await user(client, "production")
    _, other = await user(client, "production")
    today = datetime.now(UTC).date()
    soon = (today + timedelta(days=5)).isoformat()
    later = (today + timedelta(days=40)).isoformat()
    past = (today - timedelta(days=3)).isoformat()
    p1 = (
        await create_project(
            client,
            token,
            title="One",
            stage="production",
            budget="1000",
            budgetLines=[{"category": "Cast", "allocated": "600"}, {"category": "Crew", "allocated": "400"}],
            milestones=[
                {"title": "Later", "dueDate": later},
                {"title": "Soon", "dueDate": soon},
                {"title": "Late", "dueDate": past},
            ],
        )
    )["data"]
    await create_project(
        client,
        token,
        title="Two",
        stage="production",
        budget="50",
        milestones=[{"title": "Done", "dueDate": soon}],
    )
    await create_project(client, token, title="Three", stage="completed", budget="0")
    await create_project(
        client,
        other,
        title="Theirs",
        stage="development",
        budget="9",
        milestones=[{"title": "X", "dueDate": soon}],
    )
    lines = {b["category"]: b["id"] for b in p1["budgetLines"]}
    await expense(client, token, p1["id"], lines["Cast"], "700")
    await expense(client, token, p1["id"], lines["Crew"], "350.50")
    projects = (
        await expect_envelope(await client.get("/api/production/projects", headers=bearer(token)), 200)
    )["data"]
    two = next(p for p in projects if p["title"] == "Two")
    resp = await client.put(
        f"/api/production/projects/{two['id']}",
        headers=bearer(token),
        json={"milestones": [{"id": two["milestones"][0]["id"], "done": True}]},
    )
    await expect_envelope(resp, 200)

    resp = await client.get("/api/analytics/production", headers=bearer(token))
    a = (await expect_envelope(resp, 200))["data"]
    assert a["projects"] == {
        "total": 3,
        "byStage": {
            "development": 0,
            "pre_production": 0,
            "production": 2,
            "post_production": 0,
            "distribution": 0,
            "completed": 1,
        },
    }
    assert a["budget"] == {
        "budget": "1050.00",
        "allocated": "1000.00",
        "spent": "1050.50",
        "remaining": "-0.50",
        "overBudgetProjects": 1,
    }
    assert a["overBudgetLines"] == [
        {
            "projectId": p1["id"],
            "projectTitle": "One",
            "lineId": lines["Cast"],
            "category": "Cast",
            "allocated": "600.00",
            "spent": "700.00",
            "overBy": "100.00",
        }
    ]
    assert a["milestones"] == {"done": 1, "total": 4, "overdue": 1, "completionPercent": 25.0}
    assert [m["title"] for m in a["upcomingMilestones"]] == ["Soon", "Later"]
    assert a["upcomingMilestones"][0]["dueDate"] == soon
