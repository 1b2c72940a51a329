"""One visibility rule for every path to a pitch (issue 10): an NDA request, a message about a
pitch, a like, a save, a project link and an investment answer, for a pitch the caller may not
see, exactly as the pitch's detail does (404 when its existence is a secret, 403 with the reason
when it is published), and no list names a pitch its reader may not see (a published private
pitch's title used to show in /api/ndas/outgoing-requests after an NDA request by id)."""

from __future__ import annotations

import pytest
from realtime_helpers import bearer, make_pitch, user

DRAFT = {"status": "draft", "visibility": "public"}
PRIVATE = {"status": "published", "visibility": "private"}
INVESTORS = {"status": "published", "visibility": "investors_only"}
PUBLIC = {"status": "published", "visibility": "public"}


def paths(pid: int) -> dict[str, tuple[str, str, dict | None]]:
    """Every write that names a pitch, as (method, path, body)."""
    return {
        "nda request": ("POST", "/api/ndas/request", {"pitchId": pid, "message": "please"}),
        "message": ("POST", "/api/messages/send", {"pitchId": pid, "content": "about your pitch"}),
        "like": ("POST", f"/api/pitches/{pid}/like", {}),
        "unlike": ("DELETE", f"/api/pitches/{pid}/like", None),
        "save": ("POST", f"/api/pitches/{pid}/save", {}),
        "saved?": ("GET", f"/api/pitches/{pid}/save", None),
        "project link": (
            "POST",
            "/api/production/projects",
            {"title": "Film", "pitchId": pid, "budget": "1000.00"},
        ),
        "investment": ("POST", "/api/investments/create", {"pitchId": pid, "amount": "100.00"}),
    }


async def answer(client, method, path, token, body=None):
    resp = await client.request(method, path, json=body, headers=bearer(token))
    data = await resp.json()
    return resp.status, (data.get("error") or {}).get("code"), (data.get("error") or {}).get("message")


@pytest.mark.parametrize("portal", ["investor", "production", "creator"])
async def test_every_path_to_a_pitch_answers_as_its_detail(make_client, portal):
    client = await make_client(write_user_limit="10000/minute")
    _, owner = await user(client, "creator")
    _, me = await user(client, portal)
    # The paths this portal may take at all (on a public pitch); the others are refused for the
    # portal whatever the pitch, before any pitch is looked at.
    public = (await make_pitch(client, owner, title="Open", **PUBLIC))["id"]
    allowed = set()
    for name, (method, path, body) in paths(public).items():
        status, _, _ = await answer(client, method, path, me, body)
        if status != 403:
            allowed.add(name)
    assert {"message", "like", "unlike"} <= allowed
    kinds = {"draft": DRAFT, "private": PRIVATE, "investors only": INVESTORS}
    refused = 0
    for kind, fields in kinds.items():
        pid = (await make_pitch(client, owner, title=f"Secret {kind}", **fields))["id"]
        detail = await answer(client, "GET", f"/api/pitches/{pid}", me)
        if detail[0] == 200:
            assert kind == "investors only" and portal != "creator"
            continue
        refused += 1
        assert detail[0] in (403, 404)
        for name, (method, path, body) in paths(pid).items():
            if name in allowed:
                got = await answer(client, method, path, me, body)
                assert got == detail, f"{name} on a {kind} pitch as {portal}: {got} != detail {detail}"
    assert refused == (3 if portal == "creator" else 2)
    # And an id that matches nothing answers as the detail of a pitch that does not exist.
    missing = await answer(client, "GET", "/api/pitches/999999", me)
    for name, (method, path, body) in paths(999999).items():
        if name in allowed:
            assert await answer(client, method, path, me, body) == missing, name


async def _hide(client, owner, pid, **fields):
    resp = await client.put(f"/api/pitches/{pid}", json=fields, headers=bearer(owner))
    assert resp.status == 200, await resp.text()


@pytest.mark.parametrize("hidden", [{"visibility": "private"}, {"status": "draft"}])
async def test_no_list_names_a_pitch_its_reader_may_no_longer_see(make_client, expect, hidden):
    client = await make_client(write_user_limit="10000/minute")
    owner_id, owner = await user(client, "creator")
    _, investor = await user(client, "investor")
    pid = (await make_pitch(client, owner, title="Soon private", requireNda=True))["id"]
    other = (await make_pitch(client, owner, title="Still public", requireNda=True))["id"]
    # While the pitch was public: an NDA request, a message about it, a save.
    for p in (pid, other):
        r = await client.post("/api/ndas/request", json={"pitchId": p}, headers=bearer(investor))
        await expect(r, 201)
        r = await client.post(f"/api/pitches/{p}/save", json={}, headers=bearer(investor))
        assert r.status == 201
    r = await client.post(
        "/api/messages/send", json={"pitchId": pid, "content": "about it"}, headers=bearer(investor)
    )
    await expect(r, 201)
    await _hide(client, owner, pid, **hidden)

    async def listed(path: str, token: str) -> list:
        r = await client.get(path, headers=bearer(token))
        return (await expect(r, 200))["data"]

    outgoing = await listed("/api/ndas/outgoing-requests", investor)
    assert [n["pitchId"] for n in outgoing] == [other]
    assert "Soon private" not in str(outgoing)
    saved = await listed("/api/saved-pitches", investor)
    assert [s["pitch"]["id"] for s in saved] == [other]
    threads = await listed("/api/messages", investor)
    assert threads[0]["lastMessage"]["pitchId"] is None
    convo = await listed(f"/api/messages/{owner_id}", investor)
    assert [m["pitchId"] for m in convo] == [None]
    # The owner still sees their own pitch named everywhere.
    owner_threads = await listed("/api/messages", owner)
    assert owner_threads[0]["lastMessage"]["pitchId"] == pid
    incoming = await listed("/api/ndas/incoming-requests", owner)
    assert sorted(n["pitchId"] for n in incoming) == sorted([pid, other])


async def test_an_approved_nda_keeps_a_private_pitch_visible_to_its_holder(make_client, expect):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, investor = await user(client, "investor")
    pid = (await make_pitch(client, owner, title="Shared under NDA", requireNda=True))["id"]
    r = await client.post("/api/ndas/request", json={"pitchId": pid}, headers=bearer(investor))
    nda = (await expect(r, 201))["data"]
    r = await client.post(f"/api/ndas/{nda['id']}/approve", json={}, headers=bearer(owner))
    await expect(r, 200)
    await _hide(client, owner, pid, visibility="private")
    await expect(await client.get(f"/api/pitches/{pid}", headers=bearer(investor)), 200)
    outgoing = (await expect(await client.get("/api/ndas/outgoing-requests", headers=bearer(investor)), 200))[
        "data"
    ]
    assert [n["pitchTitle"] for n in outgoing] == ["Shared under NDA"]


async def test_a_project_stops_naming_a_pitch_its_company_may_no_longer_see(make_client, expect):
    client = await make_client()
    _, owner = await user(client, "creator")
    _, company = await user(client, "production")
    pid = (await make_pitch(client, owner, title="Linked then hidden"))["id"]
    shown = (await make_pitch(client, owner, title="Linked and shown"))["id"]
    projects = []
    for p in (pid, shown):
        r = await client.post(
            "/api/production/projects",
            json={"title": f"Film {p}", "pitchId": p, "budget": "1000.00"},
            headers=bearer(company),
        )
        projects.append((await expect(r, 201))["data"]["id"])
    await _hide(client, owner, pid, visibility="private")
    one = (
        await expect(
            await client.get(f"/api/production/projects/{projects[0]}", headers=bearer(company)), 200
        )
    )["data"]
    assert one["pitchId"] is None
    listed = (await expect(await client.get("/api/production/projects", headers=bearer(company)), 200))[
        "data"
    ]
    assert {p["id"]: p["pitchId"] for p in listed} == {projects[0]: None, projects[1]: shown}
    overview = (
        await expect(await client.get("/api/production/investments/overview", headers=bearer(company)), 200)
    )["data"]
    assert "Linked then hidden" not in str(overview)
    assert [p["pitchId"] for p in overview["projects"]] == [shown]
