"""Prompt closes of document connections (issue 12): a deleted pitch, an NDA that ended and a
removed collaborator close the `/ws/docs` connections that may no longer read at once, on every
node, with the document's close code and the reason, instead of at their next update.

Real sockets and pycrdt clients (tests/test_coedit.py's `YClient`), real PostgreSQL; the
two-node case runs two `pitchey serve` processes on one Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import expect_envelope
from fault_helpers import NodeSet, Rest, node_env
from realtime_helpers import app_state, bearer, decide_nda, make_pitch
from test_coedit import YClient, cookie, invite, open_doc, person

from pitchey.server.nda_expiry import expire_ndas

TERMS = {"title": "Mutual NDA", "body": "Keep it secret.", "termMonths": 12, "jurisdiction": "England"}


async def _closed_within(c: YClient, seconds: float) -> tuple[int | None, str]:
    started = time.monotonic()
    code = await c.closed_with(timeout=seconds)
    assert time.monotonic() - started < seconds
    return code, c.close_reason


async def test_a_deleted_pitch_closes_every_document_connection_at_once(make_client):
    client = await make_client()
    _, owner = await person(client)
    pid = (await make_pitch(client, owner, synopsis="Gone soon"))["id"]
    editor_id, editor = await person(client, "production")
    viewer_id, viewer = await person(client, "investor")
    await invite(client, pid, owner, editor_id, "editor")
    await invite(client, pid, owner, viewer_id, "viewer")
    e = await open_doc(client, pid, editor, "synopsis")
    v = await open_doc(client, pid, viewer, "notes")
    o = await open_doc(client, pid, owner, "treatment")
    await e.type_text(" and edited")
    await e.checkpoint()

    resp = await client.delete(f"/api/pitches/{pid}", headers=bearer(owner))
    await expect_envelope(resp, 200)
    for c in (e, v, o):
        assert await _closed_within(c, 1.0) == (4004, "Pitch deleted")
    again = await open_doc(client, pid, editor, "synopsis", start=False)
    assert await again.closed_with() == 4004


@pytest.fixture
async def nda_reader(make_client) -> dict[str, Any]:
    """A published pitch requiring a 12-month NDA; an investor holding it, approved."""
    client = await make_client()
    _, owner = await person(client)
    inv_id, inv = await person(client, "investor")
    resp = await client.post("/api/nda-templates", json=TERMS, headers=bearer(owner))
    template = (await expect_envelope(resp, 201))["data"]
    pitch = await make_pitch(client, owner, requireNda=True, ndaTemplateId=template["id"])
    resp = await client.get(f"/api/pitches/{pitch['id']}/nda-template", headers=bearer(inv))
    version = (await expect_envelope(resp, 200))["data"]["template"]
    resp = await client.post(
        "/api/ndas/request",
        json={"pitchId": pitch["id"], "message": "please", "acceptTemplateHash": version["contentHash"]},
        headers=bearer(inv),
    )
    nda = (await expect_envelope(resp, 201))["data"]
    approved = (await decide_nda(client, nda["id"], owner))["data"]
    signed_at = datetime.fromisoformat(approved["countersignedAt"].replace("Z", "+00:00"))
    return {
        "client": client,
        "owner": owner,
        "inv_id": inv_id,
        "inv": inv,
        "pitch": pitch["id"],
        "signed_at": signed_at,
    }


async def test_an_nda_that_ends_closes_its_readers_documents_at_once(nda_reader):
    client, owner, inv, pid = (nda_reader[k] for k in ("client", "owner", "inv", "pitch"))
    o = await open_doc(client, pid, owner, "notes")
    await o.type_text("for NDA holders")
    await o.checkpoint()
    r = await open_doc(client, pid, inv, "notes")
    assert r.text == "for NDA holders"

    # Made private: who may open a document does not depend on visibility (the owner, the
    # collaborators and the NDA holders), so the reader stays and keeps reading.
    resp = await client.put(f"/api/pitches/{pid}", json={"visibility": "private"}, headers=bearer(owner))
    await expect_envelope(resp, 200)
    await o.type_text(", still")
    await o.checkpoint()
    await r.until(lambda: r.text == "for NDA holders, still")
    assert not r.closed.is_set()

    # Invited as an editor and removed again: downgraded to what the NDA allows, not closed.
    await invite(client, pid, owner, nda_reader["inv_id"], "editor")
    resp = await client.delete(
        f"/api/pitches/{pid}/collaborators/{nda_reader['inv_id']}", headers=bearer(owner)
    )
    await expect_envelope(resp, 200)
    await r.checkpoint()
    assert not r.closed.is_set()

    # The NDA's term ends: the sweep closes the reader's connection at once, saying why; the
    # owner's stays.
    expired = await expire_ndas(app_state(client).realtime.hub, nda_reader["signed_at"] + timedelta(days=400))
    assert len(expired) == 1
    assert await _closed_within(r, 1.0) == (4003, "NDA expired")
    await o.checkpoint()
    assert not o.closed.is_set()
    again = await open_doc(client, pid, inv, "notes", start=False)
    assert await again.closed_with() == 4003
    await o.close()


async def test_a_removed_viewer_and_a_declining_editor_are_closed_at_once(make_client):
    client = await make_client()
    _, owner = await person(client)
    pid = (await make_pitch(client, owner, visibility="private"))["id"]
    editor_id, editor = await person(client, "production")
    viewer_id, viewer = await person(client, "investor")
    await invite(client, pid, owner, editor_id, "editor")
    await invite(client, pid, owner, viewer_id, "viewer")
    e = await open_doc(client, pid, editor, "treatment")
    v = await open_doc(client, pid, viewer, "treatment")
    resp = await client.delete(f"/api/pitches/{pid}/collaborators/{viewer_id}", headers=bearer(owner))
    await expect_envelope(resp, 200)
    assert await _closed_within(v, 1.0) == (4003, "Access removed")
    resp = await client.post(f"/api/pitches/{pid}/collaborators/decline", json={}, headers=bearer(editor))
    await expect_envelope(resp, 200)
    assert await _closed_within(e, 1.0) == (4003, "Access removed")


# -- two nodes on Redis -------------------------------------------------------------------------


@pytest.fixture
def nodes(tmp_path: Path):
    ns = NodeSet(tmp_path / "logs")
    yield ns
    ns.kill_all()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


async def test_a_pitch_deleted_through_one_node_closes_documents_on_the_other(
    fresh_database, nodes, http, tmp_path, redis_url
):
    dsn = await fresh_database()
    a = nodes.add("a", node_env(dsn, tmp_path / "data", redis_url))
    b = nodes.add("b", node_env(dsn, tmp_path / "data", redis_url))
    await nodes.start(a, b)
    rest = Rest(http)
    _, owner = await rest.register(a.base)
    editor_id, editor = await rest.register(a.base, "production")
    pid = await rest.pitch(a.base, owner)
    status, _ = await rest.call(
        "POST",
        f"{a.base}/api/pitches/{pid}/collaborators",
        owner,
        json={"userId": editor_id, "role": "editor"},
    )
    assert status == 201
    status, _ = await rest.call("POST", f"{b.base}/api/pitches/{pid}/collaborators/accept", editor, json={})
    assert status == 200

    async def doc(base: str, token: str, name: str) -> YClient:
        url = base.replace("http://", "ws://") + f"/ws/docs/{pid}/{name}"
        return await YClient(await http.ws_connect(url, headers=cookie(token))).start()

    on_b = [await doc(b.base, editor, "notes"), await doc(b.base, owner, "synopsis")]
    on_a = await doc(a.base, editor, "notes")
    await on_a.type_text("across nodes")
    await on_a.checkpoint()
    await on_b[0].until(lambda: on_b[0].text == "across nodes")

    status, _ = await rest.call("DELETE", f"{a.base}/api/pitches/{pid}", owner)
    assert status == 200
    results = await asyncio.gather(*(_closed_within(c, 1.0) for c in (*on_b, on_a)))
    assert results == [(4004, "Pitch deleted")] * 3
