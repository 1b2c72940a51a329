"""Analytics on a controlled data set: a pitch's daily views and likes, the dashboard of each
portal (current range vs the range before it), and live room figures while clients subscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import expect_envelope
from realtime_helpers import bearer, connect, make_pitch, realtime, user, wait_until


async def get(client: Any, path: str, token: str, status: int = 200) -> Any:
    resp = await client.get(path, headers=bearer(token))
    return await expect_envelope(resp, status)


async def plain_users(db_conn: Any, n: int, user_type: str = "investor") -> list[int]:
    """Users inserted directly (no password use): viewers and likers of the data set."""
    ids = []
    for i in range(n):
        ids.append(
            await db_conn.fetchval(
                "INSERT INTO users (email, user_type, password_hash) VALUES ($1, $2, 'x') RETURNING id",
                f"viewer{i}-{user_type}@example.com",
                user_type,
            )
        )
    return ids


def midday(days_ago: int) -> datetime:
    """Noon UTC `days_ago` days before today: safely inside that UTC day."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


async def view(db_conn: Any, pitch_id: int, user_id: int, at: datetime) -> None:
    await db_conn.execute(
        "INSERT INTO pitch_views (pitch_id, user_id, view_day, viewed_at) VALUES ($1, $2, $3, $4)",
        pitch_id,
        user_id,
        at.date(),
        at,
    )


async def like_at(db_conn: Any, pitch_id: int, user_id: int, at: datetime) -> None:
    await db_conn.execute(
        "INSERT INTO pitch_likes (pitch_id, user_id, created_at) VALUES ($1, $2, $3)", pitch_id, user_id, at
    )


async def test_pitch_analytics_daily_series(make_client, db_conn):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    _, other_creator = await user(client, "creator")
    _, investor = await user(client, "investor")
    pitch = await make_pitch(client, owner, title="Series")
    other = await make_pitch(client, other_creator)
    pid = pitch["id"]
    u = await plain_users(db_conn, 5)
    # Views: today 3 (u0,u1,u2), yesterday 2 (u0,u3), 6 days ago 1, 8 days ago 1, 40 days ago 1.
    early_today = midday(0).replace(hour=0, minute=1)
    for uid in u[:3]:
        await view(db_conn, pid, uid, early_today)
    await view(db_conn, pid, u[0], midday(1))
    await view(db_conn, pid, u[3], midday(1))
    await view(db_conn, pid, u[4], midday(6))
    await view(db_conn, pid, u[4], midday(8))
    await view(db_conn, pid, u[4], midday(40))
    await view(db_conn, other["id"], u[0], early_today)  # another pitch
    # Likes: yesterday 2, 20 days ago 1.
    await like_at(db_conn, pid, u[0], midday(1))
    await like_at(db_conn, pid, u[1], midday(1))
    await like_at(db_conn, pid, u[2], midday(20))
    await db_conn.execute("UPDATE pitches SET view_count = 8, like_count = 3 WHERE id = $1", pid)

    body = await get(client, f"/api/analytics/pitch/{pid}?range=7d", owner)
    a = body["data"]
    today = datetime.now(UTC).date()
    assert a["pitchId"] == pid and a["range"] == "7d" and a["title"] == "Series"
    assert a["labels"] == [(today - timedelta(days=6 - i)).isoformat() for i in range(7)]
    series = {s["name"]: s["data"] for s in a["series"]}
    assert series["views"] == [1, 0, 0, 0, 0, 2, 3]
    assert series["likes"] == [0, 0, 0, 0, 0, 2, 0]
    assert a["totals"] == {"views": 6, "likes": 2, "uniqueViewers": 5, "allTimeViews": 8, "allTimeLikes": 3}

    a30 = (await get(client, f"/api/analytics/pitch/{pid}?range=30d", owner))["data"]
    assert len(a30["labels"]) == 30 and a30["labels"][-1] == today.isoformat()
    s30 = {s["name"]: s["data"] for s in a30["series"]}
    assert sum(s30["views"]) == 7 and s30["views"][30 - 1 - 8] == 1
    assert sum(s30["likes"]) == 3 and s30["likes"][30 - 1 - 20] == 1
    a90 = (await get(client, f"/api/analytics/pitch/{pid}?range=90d", owner))["data"]
    assert a90["totals"]["views"] == 8 and len(a90["labels"]) == 90
    default = (await get(client, f"/api/analytics/pitch/{pid}", owner))["data"]
    assert default["range"] == "30d"

    # Owners only: another creator, an investor, unknown ids -> 404; bad range -> 422.
    await get(client, f"/api/analytics/pitch/{pid}", other_creator, status=404)
    await get(client, f"/api/analytics/pitch/{pid}", investor, status=404)
    await get(client, "/api/analytics/pitch/999999", owner, status=404)
    await get(client, f"/api/analytics/pitch/{pid}?range=1y", owner, status=422)
    resp = await client.get(f"/api/analytics/pitch/{pid}")
    await expect_envelope(resp, 401, "UNAUTHORIZED")
    assert owner_id != u[0]


async def test_creator_dashboard_compares_ranges(make_client, db_conn):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    _, other_creator = await user(client, "creator")
    p1 = await make_pitch(client, owner, title="One")
    p2 = await make_pitch(client, owner, title="Two", status="draft")
    p3 = await make_pitch(client, owner, title="Old")
    foreign = await make_pitch(client, other_creator)
    await db_conn.execute(
        "UPDATE pitches SET created_at = now() - interval '10 days' WHERE id = $1", p3["id"]
    )
    u = await plain_users(db_conn, 4)
    # Views: current 7d: 3; previous 7d: 2 (a foreign one is ignored).
    await view(db_conn, p1["id"], u[0], midday(1))
    await view(db_conn, p1["id"], u[1], midday(2))
    await view(db_conn, p3["id"], u[2], midday(3))
    await view(db_conn, p1["id"], u[0], midday(9))
    await view(db_conn, p3["id"], u[3], midday(10))
    await view(db_conn, foreign["id"], u[0], midday(1))
    # Likes: current 1, previous 0.
    await like_at(db_conn, p1["id"], u[0], midday(2))
    await like_at(db_conn, p1["id"], u[1], midday(30))
    # NDA requests: current 2, previous 1.
    for who, days in [(u[0], 1), (u[1], 2), (u[2], 12)]:
        await db_conn.execute(
            "INSERT INTO nda_requests (pitch_id, requester_id, owner_id, created_at) "
            "VALUES ($1, $2, $3, now() - make_interval(days => $4))",
            p1["id"],
            who,
            owner_id,
            days,
        )
    # Investments: current 1500.50 (+ a cancelled one), previous 1000.
    for who, amount, status, days in [
        (u[0], "1000.50", "completed", 1),
        (u[1], "500.00", "pending", 2),
        (u[2], "9999.00", "cancelled", 2),
        (u[3], "1000.00", "completed", 9),
        (u[3], "42.00", "completed", 1),
    ]:
        pitch_id = foreign["id"] if amount == "42.00" else p1["id"]
        await db_conn.execute(
            "INSERT INTO investments (investor_id, pitch_id, amount, status, created_at) "
            "VALUES ($1, $2, $3::numeric, $4, now() - make_interval(days => $5))",
            who,
            pitch_id,
            amount,
            status,
            days,
        )

    d = (await get(client, "/api/analytics/dashboard?range=7d", owner))["data"]
    assert d["portal"] == "creator" and d["range"] == "7d"
    since = datetime.fromisoformat(d["since"])
    until = datetime.fromisoformat(d["until"])
    assert until - since == timedelta(days=7)
    m = d["metrics"]
    assert m["pitches"] == {"current": 2, "previous": 1, "changePercent": 100.0, "unit": "count"}
    assert m["views"] == {"current": 3, "previous": 2, "changePercent": 50.0, "unit": "count"}
    assert m["likes"] == {"current": 1, "previous": 0, "changePercent": None, "unit": "count"}
    assert m["ndaRequests"]["current"] == 2 and m["ndaRequests"]["previous"] == 1
    assert m["investmentsReceived"] == {
        "current": "1500.50",
        "previous": "1000.00",
        "changePercent": 50.1,
        "unit": "money",
    }
    assert m["investmentCount"]["current"] == 2
    assert d["totals"]["pitches"] == 3 and d["totals"]["publishedPitches"] == 2
    assert d["totals"]["investmentsReceived"] == "2500.50"
    # Counts stay integers: a PostgreSQL sum is numeric and came out as the money "0.00" once.
    assert all(type(d["totals"][k]) is int for k in ("pitches", "publishedPitches", "views", "likes"))

    d90 = (await get(client, "/api/analytics/dashboard?range=90d", owner))["data"]
    assert d90["metrics"]["views"]["current"] == 5
    assert d90["metrics"]["likes"] == {"current": 2, "previous": 0, "changePercent": None, "unit": "count"}
    await get(client, "/api/analytics/dashboard?range=365d", owner, status=422)
    assert p2["status"] == "draft"


async def test_investor_dashboard(make_client, db_conn):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    inv_id, investor = await user(client, "investor")
    a = await make_pitch(client, owner)
    b = await make_pitch(client, owner)
    for pitch, amount, status, days in [
        (a, "200.00", "completed", 3),
        (b, "300.00", "pending", 20),
        (a, "100.00", "completed", 40),
        (b, "999.00", "refunded", 3),
    ]:
        await db_conn.execute(
            "INSERT INTO investments (investor_id, pitch_id, amount, status, created_at) "
            "VALUES ($1, $2, $3::numeric, $4, now() - make_interval(days => $5))",
            inv_id,
            pitch["id"],
            amount,
            status,
            days,
        )
    await db_conn.execute(
        "INSERT INTO nda_requests (pitch_id, requester_id, owner_id, status, decided_at) "
        "VALUES ($1, $2, $3, 'approved', now() - interval '1 day'), "
        "($4, $2, $3, 'rejected', now() - interval '1 day')",
        a["id"],
        inv_id,
        owner_id,
        b["id"],
    )
    d = (await get(client, "/api/analytics/dashboard?range=30d", investor))["data"]
    assert d["portal"] == "investor"
    m = d["metrics"]
    assert m["invested"] == {
        "current": "500.00",
        "previous": "100.00",
        "changePercent": 400.0,
        "unit": "money",
    }
    assert m["investments"]["current"] == 2 and m["investments"]["previous"] == 1
    assert m["ndasSigned"] == {"current": 1, "previous": 0, "changePercent": None, "unit": "count"}
    assert d["totals"] == {"invested": "600.00", "positions": 2, "investments": 3, "ndasSigned": 1}
    d7 = (await get(client, "/api/analytics/dashboard?range=7d", investor))["data"]
    assert d7["metrics"]["invested"]["current"] == "200.00"
    assert d7["metrics"]["invested"]["previous"] == "0.00"


async def test_production_dashboard(make_client, db_conn):
    client = await make_client()
    _, owner = await user(client, "creator")
    inv_id, _ = await user(client, "investor")
    _, company = await user(client, "production")
    pitch = await make_pitch(client, owner)
    resp = await client.post(
        "/api/production/projects",
        headers=bearer(company),
        json={
            "title": "Film",
            "budget": "1000",
            "pitchId": pitch["id"],
            "budgetLines": [{"category": "Cast", "allocated": "1000"}],
        },
    )
    p = (await expect_envelope(resp, 201))["data"]
    line = p["budgetLines"][0]["id"]
    for amount, days in [("100", 2), ("50.50", 12)]:
        resp = await client.post(
            f"/api/production/projects/{p['id']}/expenses",
            headers=bearer(company),
            json={
                "budgetLineId": line,
                "amount": amount,
                "spentAt": (datetime.now(UTC) - timedelta(days=days)).isoformat(),
            },
        )
        await expect_envelope(resp, 201)
    await db_conn.execute(
        "INSERT INTO investments (investor_id, pitch_id, amount, status) VALUES ($1, $2, 250, 'completed')",
        inv_id,
        pitch["id"],
    )
    d = (await get(client, "/api/analytics/dashboard?range=7d", company))["data"]
    assert d["portal"] == "production"
    m = d["metrics"]
    assert m["projects"]["current"] == 1 and m["projects"]["previous"] == 0
    assert m["spend"] == {"current": "100.00", "previous": "50.50", "changePercent": 98.0, "unit": "money"}
    assert m["investedInPitches"]["current"] == "250.00"
    assert d["totals"] == {
        "projects": 1,
        "activeProjects": 1,
        "budget": "1000.00",
        "spent": "150.50",
        "investedInPitches": "250.00",
    }


async def test_realtime_counts_from_the_rooms(make_client):
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    inv_id, investor = await user(client, "investor")
    _, other_creator = await user(client, "creator")
    watched = await make_pitch(client, owner, title="Watched")
    quiet = await make_pitch(client, owner, title="Quiet")
    foreign = await make_pitch(client, other_creator)
    room = f"pitch:{watched['id']}"
    tabs = [await connect(client, investor) for _ in range(2)]
    for tab in tabs:
        await tab.subscribe(room)
    other_tab = await connect(client, other_creator)
    await other_tab.subscribe(f"pitch:{foreign['id']}")

    body = await get(client, "/api/analytics/realtime", owner)
    live = body["data"]
    by_id = {p["pitchId"]: p for p in live["pitches"]}
    assert set(by_id) == {watched["id"], quiet["id"]}  # only the caller's pitches
    w = by_id[watched["id"]]
    assert (w["room"], w["active"], w["subscribers"], w["viewers"]) == (room, True, 2, 1)
    assert w["presence"] == [{"userId": inv_id, "userType": "investor", "connections": 2}]
    q = by_id[quiet["id"]]
    assert (q["active"], q["subscribers"], q["viewers"], q["presence"]) == (False, 0, 0, [])
    rt = realtime(client)
    assert live["node"]["connections"] == len(rt.sessions.sessions) == 3
    assert live["node"]["activeRooms"] == rt.hub.active_rooms()
    assert live["node"]["activeRooms"] >= 4  # two user rooms, two pitch rooms

    # One tab leaves: one subscriber left, still one viewer.
    await tabs[0].unsubscribe(room)

    async def one_left() -> bool:
        data = (await get(client, "/api/analytics/realtime", owner))["data"]
        entry = next(p for p in data["pitches"] if p["pitchId"] == watched["id"])
        return entry["subscribers"] == 1 and entry["presence"][0]["connections"] == 1

    await wait_until(one_left, what="the room to count one subscriber")
    # Others see none of the owner's rooms.
    theirs = (await get(client, "/api/analytics/realtime", investor))["data"]
    assert theirs["pitches"] == []
    for tab in (*tabs, other_tab):
        await tab.close()
    assert owner_id != inv_id
