"""Black-box journeys per portal, over real HTTP and real WebSockets, across every area:
what each kind of user does in a day, asserted from the outside only."""

from __future__ import annotations

from decimal import Decimal

from realtime_helpers import connect, user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ok(resp, status: int = 200):
    body = await resp.json()
    assert resp.status == status, body
    return body["data"]


async def test_creator_investor_and_production_company_day(make_client):
    client = await make_client()
    creator_id, creator = await user(client, "creator")
    investor_id, investor = await user(client, "investor")
    _, company = await user(client, "production")

    # The creator publishes an NDA-protected pitch and watches their own room.
    pitch = await ok(
        await client.post(
            "/api/pitches",
            headers=bearer(creator),
            json={
                "title": "Northern Lights",
                "logline": "A heist under the aurora",
                "genre": "Thriller",
                "synopsis": "The twist is in act three",
                "budget": "2500000.00",
                "status": "published",
                "visibility": "public",
                "requireNda": True,
            },
        ),
        201,
    )
    creator_ws = await connect(client, creator)

    # The investor finds it by search, sees no protected fields, follows the creator.
    found = await ok(await client.get("/api/pitches/browse?q=aurora", headers=bearer(investor)))
    listed = next(p for p in found if p["id"] == pitch["id"])
    assert listed["synopsis"] is None and listed["budget"] is None and listed["protected"]
    await ok(await client.post("/api/follows", json={"userId": creator_id}, headers=bearer(investor)), 201)
    follower_note = await creator_ws.expect("notification", f"user:{creator_id}")
    assert follower_note["data"]["kind"] == "new_follower"

    # Investing without an NDA is refused; the investor asks for one; the creator sees it live.
    refused = await client.post(
        "/api/investments/create",
        headers=bearer(investor),
        json={"pitchId": pitch["id"], "amount": "1000.00"},
    )
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "NDA_REQUIRED"
    investor_ws = await connect(client, investor)
    nda = await ok(
        await client.post(
            "/api/ndas/request",
            headers=bearer(investor),
            json={"pitchId": pitch["id"], "message": "Keen to read"},
        ),
        201,
    )
    live = await creator_ws.expect("nda_request", f"user:{creator_id}")
    assert live["data"]["id"] == nda["id"] and live["data"]["requesterId"] == investor_id
    incoming = await ok(await client.get("/api/ndas/incoming-requests", headers=bearer(creator)))
    assert [n["id"] for n in incoming] == [nda["id"]]

    # Approved live; protected fields now readable; the investor invests twice.
    await ok(await client.post(f"/api/ndas/{nda['id']}/approve", json={}, headers=bearer(creator)))
    approved = await investor_ws.expect("nda_approved", f"user:{investor_id}")
    assert approved["data"]["pitchId"] == pitch["id"]
    detail = await ok(await client.get(f"/api/pitches/{pitch['id']}", headers=bearer(investor)))
    assert detail["synopsis"] == "The twist is in act three"
    assert Decimal(str(detail["budget"])) == Decimal("2500000.00")
    for amount in ("1000.50", "249.50"):
        await ok(
            await client.post(
                "/api/investments/create",
                headers=bearer(investor),
                json={"pitchId": pitch["id"], "amount": amount},
            ),
            201,
        )
    invested = await creator_ws.expect(
        "notification", f"user:{creator_id}", where=lambda f: f["data"]["kind"] == "new_investment"
    )
    assert invested["data"]["data"]["pitchId"] == pitch["id"]
    portfolio = await ok(await client.get("/api/investments/portfolio", headers=bearer(investor)))
    assert Decimal(str(portfolio["totalInvested"])) == Decimal("1250.00")
    assert portfolio["positionCount"] == 1 and portfolio["investmentCount"] == 2

    # The production company links a project to the pitch and tracks its budget.
    project = await ok(
        await client.post(
            "/api/production/projects",
            headers=bearer(company),
            json={
                "title": "Northern Lights (film)",
                "pitchId": pitch["id"],
                "budget": "2000000.00",
                "stage": "pre_production",
                "budgetLines": [
                    {"category": "Cast", "allocated": "800000.00"},
                    {"category": "Crew", "allocated": "400000.00"},
                ],
                "milestones": [{"title": "Table read"}],
            },
        ),
        201,
    )
    cast = next(line for line in project["budgetLines"] if line["category"] == "Cast")
    await ok(
        await client.post(
            f"/api/production/projects/{project['id']}/expenses",
            headers=bearer(company),
            json={"budgetLineId": cast["id"], "amount": "900000.00"},
        ),
        201,
    )
    budget = await ok(await client.get(f"/api/analytics/budget/{project['id']}", headers=bearer(company)))
    lines = {line["category"]: line for line in budget["lines"]}
    assert Decimal(str(lines["Cast"]["spent"])) == Decimal("900000.00")
    assert lines["Cast"]["overBudget"] is True and lines["Crew"]["overBudget"] is False
    overview = await ok(await client.get("/api/production/investments/overview", headers=bearer(company)))
    assert Decimal(str(overview["totals"]["invested"])) == Decimal("1250.00")

    # Nobody crosses portals: the investor cannot read the company's project, the company
    # cannot invest, the creator cannot approve an NDA twice.
    assert (
        await client.get(f"/api/production/projects/{project['id']}", headers=bearer(investor))
    ).status == 403
    assert (
        await client.post(
            "/api/investments/create",
            headers=bearer(company),
            json={"pitchId": pitch["id"], "amount": "1.00"},
        )
    ).status == 403
    again = await client.post(f"/api/ndas/{nda['id']}/approve", json={}, headers=bearer(creator))
    assert again.status == 409
    for ws in (creator_ws, investor_ws):
        await ws.close()
