"""NDA templates and signing: CRUD with versions and ownership, a pitch requiring a template, the
requester's acceptance of one exact version (hash, time, IP), the owner's countersignature, the
agreement document for its two parties only, and expiry with a moved clock locking the pitch
again, live."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import expect_envelope
from realtime_helpers import app_state, bearer, connect, decide_nda, get_pitch, make_pitch, user

from pitchey.protocol import RoomName
from pitchey.rooms.messages import UpdatePitch
from pitchey.server.nda_expiry import expire_ndas, run_nda_expiry
from pitchey.storage.nda_templates import content_hash
from pitchey.storage.pitches import PitchStore, UnknownNdaTemplate

TERMS = {
    "title": "Mutual NDA",
    "body": "# Confidentiality\n\nThe **Recipient** keeps the pitch secret.\n\n<script>alert(1)</script>",
    "termMonths": 12,
    "jurisdiction": "England and Wales",
}


def _data(body: dict[str, Any]) -> Any:
    return body["data"] if body["success"] else body


async def post(client, path: str, token: str | None, body: Any, status: int, code: str | None = None) -> Any:
    resp = await client.post(path, json=body, headers=bearer(token) if token else {})
    return _data(await expect_envelope(resp, status, code))


async def put(client, path: str, token: str, body: Any, status: int = 200, code: str | None = None) -> Any:
    resp = await client.put(path, json=body, headers=bearer(token))
    return _data(await expect_envelope(resp, status, code))


async def get(client, path: str, token: str | None, status: int = 200, code: str | None = None) -> Any:
    resp = await client.get(path, headers=bearer(token) if token else {})
    return await expect_envelope(resp, status, code)


async def delete(client, path: str, token: str, status: int = 200, code: str | None = None) -> Any:
    resp = await client.delete(path, headers=bearer(token))
    return _data(await expect_envelope(resp, status, code))


async def request_signed(client, pitch_id: int, token: str, hash_: str | None, status: int = 201, code=None):
    body: dict[str, Any] = {"pitchId": pitch_id, "message": "please"}
    if hash_ is not None:
        body["acceptTemplateHash"] = hash_
    return await post(client, "/api/ndas/request", token, body, status, code)


async def test_crud_versions_and_ownership(make_client):
    client = await make_client()
    _, alice = await user(client, "creator")
    _, bob = await user(client, "creator")
    _, inv = await user(client, "investor")

    created = await post(client, "/api/nda-templates", alice, TERMS, 201)
    tid = created["id"]
    assert created["version"] == 1 and created["termMonths"] == 12
    assert created["contentHash"] == content_hash(
        TERMS["title"], TERMS["body"], TERMS["termMonths"], TERMS["jurisdiction"]
    )
    assert [v["version"] for v in created["versions"]] == [1]

    # Editing writes version 2; version 1 stays as it was.
    edited = await put(client, f"/api/nda-templates/{tid}", alice, {"termMonths": 24})
    assert edited["version"] == 2 and edited["termMonths"] == 24
    assert [v["version"] for v in edited["versions"]] == [2, 1]
    assert edited["versions"][1]["termMonths"] == 12
    assert edited["contentHash"] != created["contentHash"]
    # The same text again adds no version.
    same = await put(client, f"/api/nda-templates/{tid}", alice, {"termMonths": 24})
    assert same["version"] == 2

    body = await get(client, "/api/nda-templates", alice)
    assert [t["id"] for t in body["data"]] == [tid]
    assert body["meta"]["pagination"]["total"] == 1
    one = (await get(client, f"/api/nda-templates/{tid}", alice))["data"]
    assert len(one["versions"]) == 2

    # Another creator's template does not exist for them; other portals may not touch templates.
    await get(client, f"/api/nda-templates/{tid}", bob, 404, "NOT_FOUND")
    await put(client, f"/api/nda-templates/{tid}", bob, {"title": "Mine"}, 404, "NOT_FOUND")
    await delete(client, f"/api/nda-templates/{tid}", bob, 404, "NOT_FOUND")
    assert (await get(client, "/api/nda-templates", bob))["data"] == []
    await post(client, "/api/nda-templates", inv, TERMS, 403, "FORBIDDEN")
    await get(client, "/api/nda-templates", inv, 403, "FORBIDDEN")

    # Validation: the field named, in words.
    bad = await client.post(
        "/api/nda-templates", json={**TERMS, "termMonths": 0, "title": "a\nb"}, headers=bearer(alice)
    )
    err = await expect_envelope(bad, 422, "VALIDATION_ERROR")
    assert {d["field"] for d in err["error"]["details"]} == {"termMonths", "title"}
    await put(client, f"/api/nda-templates/{tid}", alice, {}, 422, "VALIDATION_ERROR")

    # A pitch may require only its owner's template.
    await post(client, "/api/pitches", bob, {"title": "B", "ndaTemplateId": tid}, 404, "NOT_FOUND")
    pitch = await post(client, "/api/pitches", alice, {"title": "A", "ndaTemplateId": tid}, 201)
    assert pitch["ndaTemplateId"] == tid
    bobs = await make_pitch(client, bob, title="Bob's")
    await put(client, f"/api/pitches/{bobs['id']}", bob, {"ndaTemplateId": tid}, 404, "NOT_FOUND")

    # Deleting a template a pitch requires is refused, naming the pitch.
    refused = await client.delete(f"/api/nda-templates/{tid}", headers=bearer(alice))
    err = await expect_envelope(refused, 409, "CONFLICT")
    assert "\u201cA\u201d" in err["error"]["message"] and "choose another template" in err["error"]["message"]
    # Once no pitch requires it and nothing was signed under it, it is deleted.
    cleared = await put(client, f"/api/pitches/{pitch['id']}", alice, {"ndaTemplateId": None})
    assert cleared["ndaTemplateId"] is None
    gone = await delete(client, f"/api/nda-templates/{tid}", alice)
    assert gone == {"id": tid, "outcome": "deleted"}
    await get(client, f"/api/nda-templates/{tid}", alice, 404, "NOT_FOUND")


@pytest.fixture
async def signed(make_client):
    """A creator's published pitch requiring a template, an investor who accepted it, approved."""
    client = await make_client()
    owner_id, owner = await user(client, "creator", name="Olga Owner")
    inv_id, inv = await user(client, "investor", name="Ivo <b>Investor</b>")
    template = await post(client, "/api/nda-templates", owner, TERMS, 201)
    pitch = await make_pitch(
        client,
        owner,
        title="Secret film",
        status="published",
        requireNda=True,
        synopsis="The twist",
        ndaTemplateId=template["id"],
    )
    seen = await get(client, f"/api/pitches/{pitch['id']}/nda-template", inv)
    version = seen["data"]["template"]
    nda = await request_signed(client, pitch["id"], inv, version["contentHash"])
    return {
        "client": client,
        "owner": (owner_id, owner),
        "inv": (inv_id, inv),
        "template": template,
        "pitch": pitch,
        "version": version,
        "nda": nda,
    }


async def test_acceptance_is_recorded_with_hash_time_and_ip(signed, db_conn):
    client, (_, owner), (_, inv) = signed["client"], signed["owner"], signed["inv"]
    pitch, version, nda = signed["pitch"], signed["version"], signed["nda"]
    assert version["body"] == TERMS["body"] and version["version"] == 1
    assert nda["templateVersionId"] == version["id"] and nda["templateHash"] == version["contentHash"]
    assert nda["acceptedAt"] is not None and nda["countersignedAt"] is None
    row = await db_conn.fetchrow(
        "SELECT template_hash, accepted_at, accepted_ip FROM nda_requests WHERE id = $1", nda["id"]
    )
    assert row["template_hash"] == version["contentHash"]
    assert row["accepted_ip"] == "127.0.0.1" and row["accepted_at"] is not None

    # The template is readable only by someone who may request an NDA on the pitch.
    await get(client, f"/api/pitches/{pitch['id']}/nda-template", owner, 403, "FORBIDDEN")
    await get(client, f"/api/pitches/{pitch['id']}/nda-template", None, 401, "UNAUTHORIZED")
    draft = await make_pitch(
        client, owner, title="Draft", status="draft", ndaTemplateId=signed["template"]["id"]
    )
    await get(client, f"/api/pitches/{draft['id']}/nda-template", inv, 404, "NOT_FOUND")

    # Approval is the countersignature, with its time and IP; the term starts then.
    approved = (await decide_nda(client, nda["id"], owner))["data"]
    assert approved["status"] == "approved" and approved["countersignedAt"] is not None
    row = await db_conn.fetchrow(
        "SELECT countersigned_ip, expires_at - countersigned_at AS term FROM nda_requests WHERE id = $1",
        nda["id"],
    )
    assert row["countersigned_ip"] == "127.0.0.1"
    assert timedelta(days=365) <= row["term"] <= timedelta(days=366)


async def test_requests_must_accept_the_current_version(signed):
    client, (_, owner) = signed["client"], signed["owner"]
    _, other = await user(client, "production")
    pid, old_hash = signed["pitch"]["id"], signed["version"]["contentHash"]
    resp = await client.post("/api/ndas/request", json={"pitchId": pid}, headers=bearer(other))
    err = await expect_envelope(resp, 409, "CONFLICT")
    assert err["error"]["details"][0]["field"] == "acceptTemplateHash"
    # The owner edits the text: what the requester read is no longer what would be signed.
    await put(client, f"/api/nda-templates/{signed['template']['id']}", owner, {"body": "New terms."})
    await request_signed(client, pid, other, old_hash, 409, "CONFLICT")
    fresh = (await get(client, f"/api/pitches/{pid}/nda-template", other))["data"]["template"]
    assert fresh["version"] == 2
    nda = await request_signed(client, pid, other, fresh["contentHash"])
    assert nda["templateVersionId"] == fresh["id"]
    # The first investor's pending NDA still names version 1; deleting the template (no pitch
    # requiring it) archives it instead, so both agreements keep their versions.
    await put(client, f"/api/pitches/{pid}", owner, {"ndaTemplateId": None})
    archived = await delete(client, f"/api/nda-templates/{signed['template']['id']}", owner)
    assert archived["outcome"] == "archived"
    assert (await get(client, "/api/nda-templates", owner))["data"] == []
    await post(client, "/api/pitches", owner, {"title": "X", "ndaTemplateId": signed["template"]["id"]}, 404)


async def test_document_for_both_parties_only(signed):
    client, (_, owner), (_, inv) = signed["client"], signed["owner"], signed["inv"]
    nda = signed["nda"]
    path = f"/api/ndas/{nda['id']}/document"
    # Not countersigned yet: the parties hear why; others still get 404.
    await get(client, path, inv, 409, "CONFLICT")
    await decide_nda(client, nda["id"], owner)
    _, stranger = await user(client, "investor")
    _, creator2 = await user(client, "creator")
    for token in (stranger, creator2):
        await get(client, path, token, 404, "NOT_FOUND")
    await get(client, path, None, 401, "UNAUTHORIZED")
    await get(client, "/api/ndas/999999/document", inv, 404, "NOT_FOUND")

    for token in (owner, inv):
        resp = await client.get(path, headers=bearer(token))
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        text = await resp.text()
        assert "Mutual NDA" in text and "Olga Owner" in text
        assert signed["version"]["contentHash"] in text
        assert "<strong>Recipient</strong>" in text  # Markdown rendered...
        assert "<script>" not in text and "&lt;script&gt;" in text  # ...raw HTML escaped
        assert "Ivo &lt;b&gt;Investor&lt;/b&gt;" in text and "<b>Investor" not in text
        assert "Countersigned on" in text and "England and Wales" in text

    # Both parties list it, each from their side.
    mine = (await get(client, "/api/ndas/agreements", inv))["data"]
    assert [(a["ndaId"], a["role"], a["documentUrl"]) for a in mine] == [(nda["id"], "requester", path)]
    theirs = (await get(client, "/api/ndas/agreements", owner))["data"]
    assert [(a["ndaId"], a["role"]) for a in theirs] == [(nda["id"], "owner")]
    assert theirs[0]["otherParty"]["name"] == "Ivo <b>Investor</b>"
    assert (await get(client, "/api/ndas/agreements", stranger))["data"] == []


async def test_expiry_with_a_moved_clock_locks_the_pitch_live(signed):
    client, (_, owner), (inv_id, inv) = signed["client"], signed["owner"], signed["inv"]
    pid, nda = signed["pitch"]["id"], signed["nda"]
    approved = (await decide_nda(client, nda["id"], owner))["data"]
    assert (await get_pitch(client, pid, inv))["data"]["synopsis"] == "The twist"
    hub = app_state(client).realtime.hub
    countersigned = approved["countersignedAt"]
    live = await connect(client, inv)

    signed_at = datetime.fromisoformat(countersigned.replace("Z", "+00:00"))
    # A day before the end of its term: nothing happens.
    assert await expire_ndas(hub, signed_at + timedelta(days=364)) == []
    assert (await get_pitch(client, pid, inv))["data"]["synopsis"] == "The twist"
    # The clock moves past the term: the sweep flips it, once.
    later = signed_at + timedelta(days=367)
    flipped = await expire_ndas(hub, later)
    assert [n.id for n in flipped] == [nda["id"]]
    assert await expire_ndas(hub, later) == []

    frame = await live.expect("nda_expired", f"user:{inv_id}")
    assert frame["data"]["id"] == nda["id"] and frame["data"]["status"] == "expired"
    assert frame["data"]["pitchTitle"] == "Secret film"
    note = await live.expect("notification", where=lambda f: f["data"]["kind"] == "nda_expired")
    assert note["data"]["data"]["pitchId"] == pid

    # The protected fields are locked again, at once.
    body = (await get_pitch(client, pid, inv))["data"]
    assert body["protected"] is True and body["synopsis"] is None
    listed = (await get(client, "/api/ndas/outgoing-requests", inv))["data"]
    assert listed[0]["status"] == "expired" and listed[0]["expiredAt"] is not None
    # The agreement stays downloadable, marked expired; a new request is possible.
    doc = await client.get(f"/api/ndas/{nda['id']}/document", headers=bearer(inv))
    assert doc.status == 200 and "Expired" in await doc.text()
    await request_signed(client, pid, inv, signed["version"]["contentHash"])


async def test_expiry_drops_a_private_pitch_room(signed):
    """A private pitch was open to the requester only through the NDA: when it expires, their
    sessions leave the pitch's room."""
    client, (_, owner), (_, inv) = signed["client"], signed["owner"], signed["inv"]
    pid, nda = signed["pitch"]["id"], signed["nda"]
    approved = (await decide_nda(client, nda["id"], owner))["data"]
    await put(client, f"/api/pitches/{pid}", owner, {"visibility": "private"})
    live = await connect(client, inv)
    await live.subscribe(f"pitch:{pid}")
    signed_at = datetime.fromisoformat(approved["countersignedAt"].replace("Z", "+00:00"))
    await expire_ndas(app_state(client).realtime.hub, signed_at + timedelta(days=400))
    err = await live.expect("error", f"pitch:{pid}")
    assert err["data"]["code"] == "FORBIDDEN"
    await live.expect("unsubscribed", f"pitch:{pid}")
    await get_pitch(client, pid, inv, status=403)


async def test_the_runner_sweeps_with_its_clock(signed):
    """The periodic runner sweeps at once with the clock it is given (then waits its interval):
    an NDA past its term on that clock flips without anyone waiting for it."""
    client, (_, owner), (inv_id, inv) = signed["client"], signed["owner"], signed["inv"]
    nda = signed["nda"]
    await decide_nda(client, nda["id"], owner)
    live = await connect(client, inv)
    hub = app_state(client).realtime.hub
    future = datetime.now(UTC) + timedelta(days=800)
    task = asyncio.create_task(run_nda_expiry(hub, interval=3600, clock=lambda: future))
    try:
        frame = await live.expect("nda_expired", f"user:{inv_id}")
        assert frame["data"]["id"] == nda["id"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    listed = (await get(client, "/api/ndas/outgoing-requests", inv))["data"]
    assert listed[0]["status"] == "expired"


async def test_a_template_deleted_after_the_check_is_refused_in_words(make_client):
    """The API checks a pitch's template, then the write goes to the database; a template deleted
    in between is refused by the foreign key, and the caller hears the same 404 (not a 500)."""
    client = await make_client()
    owner_id, owner = await user(client, "creator")
    pitch = await make_pitch(client, owner, title="Race")
    hub = app_state(client).realtime.hub
    with pytest.raises(UnknownNdaTemplate):
        await hub.ask(RoomName.pitch(pitch["id"]), UpdatePitch(owner_id, {"nda_template_id": 2**40}))
    with pytest.raises(UnknownNdaTemplate):
        store = PitchStore(app_state(client).database)
        await store.create(user_id=owner_id, title="T", nda_template_id=2**40)
    # The room carried on: the next edit lands.
    renamed = await put(client, f"/api/pitches/{pitch['id']}", owner, {"title": "Race 2"})
    assert renamed["title"] == "Race 2" and renamed["ndaTemplateId"] is None
