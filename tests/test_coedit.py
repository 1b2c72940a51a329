"""Live co-editing: `/ws/docs/{pitchId}/{docName}` (y-websocket protocol) and the collaborators
REST, driven by pycrdt clients over real sockets against a real server (the aiohttp test server,
or real `pitchey serve` processes for restart, kill -9 and two nodes on Redis).

The wire is checked byte for byte against vectors produced by the JavaScript yjs 13.6.33 and
y-protocols 1.0.7 (generated with node: `npm i yjs y-protocols lib0`, a script that builds a
document with clientID 123456789 holding one paragraph "Hello, world" and writes its sync step
1, step 2, update and awareness messages as the y-websocket provider does); and the stock
provider itself (web/node_modules' y-websocket 3.1 under node) edits against the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest
from conftest import expect_envelope
from fault_helpers import NodeSet, Rest, node_env
from pycrdt import Doc, XmlElement, XmlFragment, XmlText
from realtime_helpers import app_state, bearer, make_pitch, user
from redis_helpers import RedisProcess

from pitchey.protocol.yjs import (
    EMPTY_UPDATE,
    Awareness,
    AwarenessEntry,
    MalformedMessage,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    awareness_message,
    decode_awareness,
    decode_message,
    encode_awareness,
    sync_step1_message,
    sync_step2_message,
    update_message,
)
from pitchey.rooms.docs import plain_text, seed_update

# -- vectors from yjs 13.6.33 / y-protocols 1.0.7 ----------------------------------------------

JS = {
    "clientID": 123456789,
    "stateVector": "01959aef3a0e",
    "stateUpdate": "0103959aef3a0007010764656661756c7403097061726167726170680700959aef3a00060400959aef3a"
    "010c48656c6c6f2c20776f726c6400",
    "step1": "00000601959aef3a0e",
    "step2": "0001390103959aef3a0007010764656661756c7403097061726167726170680700959aef3a00060400959a"
    "ef3a010c48656c6c6f2c20776f726c6400",
    "update": "0002390103959aef3a0007010764656661756c7403097061726167726170680700959aef3a00060400959"
    "aef3a010c48656c6c6f2c20776f726c6400",
    "emptyStep1": "00000100",
    "emptyStep2": "0001020000",
    "awareness": "013b01959aef3a01347b2275736572223a7b226e616d65223a22416461222c22636f6c6f72223a2223"
    "663830227d2c22637572736f72223a6e756c6c7d",
    "awarenessRemoved": "010b01959aef3a02046e756c6c",
}
X = bytes.fromhex


def test_wire_matches_yjs_and_y_protocols_byte_for_byte():
    # The envelopes: our encoders give exactly the provider's bytes for the same payloads.
    assert sync_step1_message(X(JS["stateVector"])) == X(JS["step1"])
    assert sync_step2_message(X(JS["stateUpdate"])) == X(JS["step2"])
    assert update_message(X(JS["stateUpdate"])) == X(JS["update"])
    assert sync_step1_message(b"\x00") == X(JS["emptyStep1"])
    assert sync_step2_message(EMPTY_UPDATE) == X(JS["emptyStep2"])
    # ... and decode them back.
    assert decode_message(X(JS["step1"])) == SyncStep1(X(JS["stateVector"]))
    assert decode_message(X(JS["step2"])) == SyncStep2(X(JS["stateUpdate"]))
    assert decode_message(X(JS["update"])) == SyncUpdate(X(JS["stateUpdate"]))
    # The CRDT: pycrdt reads yjs's update, and its state vector and empty answers are yjs's bytes.
    doc: Doc[Any] = Doc()
    doc.apply_update(X(JS["stateUpdate"]))
    assert plain_text(doc) == "Hello, world"
    assert doc.get_state() == X(JS["stateVector"])
    assert sync_step1_message(doc.get_state()) == X(JS["step1"])
    assert sync_step2_message(Doc().get_update(b"\x00")) == X(JS["emptyStep2"])
    assert sync_step1_message(Doc().get_state()) == X(JS["emptyStep1"])
    # Awareness: decoded, re-encoded identically, and the removal the server sends on close is
    # exactly what y-protocols' removeAwarenessStates encodes.
    message = decode_message(X(JS["awareness"]))
    assert isinstance(message, Awareness)
    entries = decode_awareness(message.payload)
    assert entries == [
        AwarenessEntry(JS["clientID"], 1, '{"user":{"name":"Ada","color":"#f80"},"cursor":null}')
    ]
    assert awareness_message(encode_awareness(entries)) == X(JS["awareness"])
    gone = [AwarenessEntry(e.client_id, e.clock + 1, "null") for e in entries]
    assert awareness_message(encode_awareness(gone)) == X(JS["awarenessRemoved"])


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00",  # sync without a subtype
        b"\x00\x03\x00",  # unknown sync subtype
        b"\x09",  # unknown message type
        b"\x00\x02\x05ab",  # truncated payload
        b"\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff",  # endless varint
        b"\x00\x00\x01\x00\x00",  # trailing byte
        b"\x01\x05\x01\x01\x01\x01{",  # awareness state not JSON
        b"\x01\x03\x02\x01\x01",  # awareness count beyond its entries
    ],
)
def test_malformed_messages_are_refused_whole(raw):
    with pytest.raises(MalformedMessage):
        decode_message(raw)


def test_seed_is_identical_on_every_node():
    assert seed_update("One\nTwo") == seed_update("One\nTwo")
    doc: Doc[Any] = Doc()
    doc.apply_update(seed_update("One\n\nTwo"))
    doc.apply_update(seed_update("One\n\nTwo"))  # a second node seeding too adds nothing
    assert plain_text(doc) == "One\n\nTwo"


# -- a pycrdt client speaking y-websocket -----------------------------------------------------


class YClient:
    """A y-websocket client on pycrdt: answers the server's step 1, applies what arrives, sends
    each local edit as an update, and uses a step 1 as a checkpoint (its step 2 acknowledges)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, name: str = "c") -> None:
        self.ws = ws
        self.name = name
        self.doc: Doc[Any] = Doc()
        self.fragment = self.doc.get("default", type=XmlFragment)
        self.awareness: dict[int, tuple[int, str]] = {}
        self.step2 = 0
        self.synced = asyncio.Event()
        self.changed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                msg = await self.ws.receive()
                if msg.type == aiohttp.WSMsgType.CLOSE:
                    self.close_reason = str(msg.extra or "")
                    break
                if msg.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                m = decode_message(msg.data)
                if isinstance(m, SyncStep1):
                    await self.ws.send_bytes(sync_step2_message(self.doc.get_update(m.state_vector)))
                elif isinstance(m, (SyncStep2, SyncUpdate)):
                    if m.update != EMPTY_UPDATE:
                        self.doc.apply_update(m.update)
                    if isinstance(m, SyncStep2):
                        self.step2 += 1
                        self.synced.set()
                    self.changed.set()
                elif isinstance(m, Awareness):
                    for e in decode_awareness(m.payload):
                        if e.removed:
                            self.awareness.pop(e.client_id, None)
                        else:
                            self.awareness[e.client_id] = (e.clock, e.state)
                    self.changed.set()
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()
            self.changed.set()

    async def start(self) -> YClient:
        await self.ws.send_bytes(sync_step1_message(self.doc.get_state()))
        await asyncio.wait_for(self.synced.wait(), 10)
        return self

    async def edit(self, change: Callable[[XmlFragment], None]) -> bytes:
        before = self.doc.get_state()
        with self.doc.transaction():
            change(self.fragment)
        update = self.doc.get_update(before)
        await self.ws.send_bytes(update_message(update))
        return update

    async def type_text(self, text: str, at: int | None = None) -> bytes:
        def change(f: XmlFragment) -> None:
            if len(f.children) == 0:
                p = f.children.append(XmlElement("paragraph"))
                p.children.append(XmlText(""))
            t = f.children[0].children[0]
            t.insert(len(str(t)) if at is None else min(at, len(plain_text(self.doc))), text)

        return await self.edit(change)

    async def checkpoint(self, timeout: float = 10) -> None:
        """Send a step 1 and wait for its step 2: everything sent before is stored."""
        want = self.step2 + 1
        await self.ws.send_bytes(sync_step1_message(self.doc.get_state()))
        await self.until(lambda: self.step2 >= want, timeout)

    async def set_awareness(self, clock: int, state: str) -> None:
        entry = AwarenessEntry(self.doc.client_id, clock, state)
        await self.ws.send_bytes(awareness_message(encode_awareness([entry])))

    async def until(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: condition not met; text={self.text!r}")
            self.changed.clear()
            if predicate():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def closed_with(self, timeout: float = 10) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    @property
    def text(self) -> str:
        return plain_text(self.doc)

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"pitchey_session={token}"}


async def open_doc(
    client: Any, pitch_id: int, token: str, name: str = "synopsis", start: bool = True
) -> YClient:
    ws = await client.ws_connect(f"/ws/docs/{pitch_id}/{name}", headers=cookie(token))
    c = YClient(ws, name=f"u{token[-4:]}")
    return await c.start() if start else c


async def invite(client: Any, pitch_id: int, owner: str, uid: int, role: str, accept: bool = True) -> None:
    resp = await client.post(
        f"/api/pitches/{pitch_id}/collaborators", json={"userId": uid, "role": role}, headers=bearer(owner)
    )
    body = await expect_envelope(resp, 201)
    assert body["data"]["status"] in ("pending", "accepted")
    if accept:
        _, tok = await _token_of(client, uid)
        resp = await client.post(
            f"/api/pitches/{pitch_id}/collaborators/accept", json={}, headers=bearer(tok)
        )
        assert (await expect_envelope(resp, 200))["data"]["status"] == "accepted"


_TOKENS: dict[int, str] = {}


async def _token_of(client: Any, uid: int) -> tuple[int, str]:
    return uid, _TOKENS[uid]


async def person(client: Any, portal: str = "creator") -> tuple[int, str]:
    uid, token = await user(client, portal)
    _TOKENS[uid] = token
    return uid, token


@pytest.fixture
async def team(make_client):
    """An owner with a private pitch, an editor and a viewer (accepted), and a stranger."""
    client = await make_client()
    owner_id, owner = await person(client)
    pitch = await make_pitch(client, owner, synopsis="First line\nSecond line", visibility="private")
    editor_id, editor = await person(client, "production")
    viewer_id, viewer = await person(client, "investor")
    _, stranger = await person(client, "investor")
    await invite(client, pitch["id"], owner, editor_id, "editor")
    await invite(client, pitch["id"], owner, viewer_id, "viewer")
    return {
        "client": client,
        "pitch": pitch["id"],
        "owner": owner,
        "owner_id": owner_id,
        "editor": editor,
        "editor_id": editor_id,
        "viewer": viewer,
        "viewer_id": viewer_id,
        "stranger": stranger,
    }


# -- the endpoint over real sockets ------------------------------------------------------------


async def test_two_editors_converge_and_a_late_joiner_syncs(team):
    client, pid = team["client"], team["pitch"]
    a = await open_doc(client, pid, team["owner"])
    b = await open_doc(client, pid, team["editor"])
    # The new synopsis document starts with the pitch's synopsis, one paragraph per line.
    assert a.text == b.text == "First line\nSecond line"
    # Concurrent edits from both, at once, without waiting for each other.
    await asyncio.gather(a.type_text(" (A)"), b.type_text(" [B]"))
    for i in range(20):
        await asyncio.gather(a.type_text(f"a{i}", at=random.randint(0, 5)), b.type_text(f"b{i}", at=0))
    await a.checkpoint()
    await b.checkpoint()
    await a.until(lambda: a.text == b.text and "b19" in a.text and "a19" in b.text)
    assert str(a.fragment) == str(b.fragment)
    # A late joiner receives the whole document in the sync step 2.
    c = await open_doc(client, pid, team["viewer"])
    assert str(c.fragment) == str(a.fragment)
    # The node's metrics count them.
    text = await (await client.get("/metrics")).text()
    figures = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line[:1] != "#"}
    assert figures["pitchey_docs_open"] == 1 and figures["pitchey_doc_connections"] == 3, figures
    assert figures["pitchey_doc_updates_total"] >= 42, figures
    for x in (a, b, c):
        await x.close()


async def test_random_interleavings_of_three_editors_converge(team):
    """Property: whatever the interleaving of inserts, deletes and new paragraphs from three
    clients sending at once, every copy and the server's end identical (8 seeded runs)."""
    client, pid = team["client"], team["pitch"]
    clients = [
        await open_doc(client, pid, team["owner"], "notes"),
        await open_doc(client, pid, team["editor"], "notes"),
        await open_doc(client, pid, team["owner"], "notes"),
    ]

    def op(rng: random.Random) -> Callable[[XmlFragment], None]:
        def change(f: XmlFragment) -> None:
            if len(f.children) == 0 or rng.random() < 0.15:
                p = f.children.insert(rng.randint(0, len(f.children)), XmlElement("paragraph"))
                p.children.append(XmlText(rng.choice("abcxyz")))
                return
            t = f.children[rng.randrange(len(f.children))].children[0]
            n = len(str(t))
            if n and rng.random() < 0.35:
                at = rng.randrange(n)
                del t[at : min(n, at + rng.randint(1, 3))]
            else:
                t.insert(rng.randint(0, n), rng.choice(["a", "bc", "def", " "]))

        return change

    for seed in range(8):
        rngs = [random.Random(seed * 10 + i) for i in range(3)]

        async def run(c: YClient, rng: random.Random) -> None:
            for _ in range(15):
                await c.edit(op(rng))
                if rng.random() < 0.3:
                    await asyncio.sleep(0)

        await asyncio.gather(*(run(c, r) for c, r in zip(clients, rngs, strict=True)))
        for c in clients:
            await c.checkpoint()
        first = clients[0]
        for c in clients[1:]:
            await c.until(lambda c=c: str(c.fragment) == str(first.fragment), timeout=10)
        await first.until(lambda: all(str(c.fragment) == str(first.fragment) for c in clients))
        late = await open_doc(client, pid, team["viewer"], "notes")
        assert str(late.fragment) == str(first.fragment), seed
        await late.close()
    for c in clients:
        await c.close()


async def test_viewer_reads_but_cannot_write(team):
    client, pid = team["client"], team["pitch"]
    owner = await open_doc(client, pid, team["owner"], "notes")
    await owner.type_text("owner's words")
    await owner.checkpoint()
    viewer = await open_doc(client, pid, team["viewer"], "notes")
    assert viewer.text == "owner's words"
    await viewer.type_text(" vandalism")
    assert await viewer.closed_with() == 4005
    # Not applied, not stored, not relayed.
    await owner.checkpoint()
    assert owner.text == "owner's words"
    again = await open_doc(client, pid, team["editor"], "notes")
    assert again.text == "owner's words"
    resp = await client.get(f"/api/pitches/{pid}/documents", headers=bearer(team["viewer"]))
    data = (await expect_envelope(resp, 200))["data"]
    assert data["role"] == "viewer" and data["canWrite"] is False
    assert {d["name"] for d in data["documents"]} == {"synopsis", "treatment", "notes"}
    for x in (owner, again):
        await x.close()


async def test_stranger_and_unknown_documents_are_refused(team, make_client):
    client, pid = team["client"], team["pitch"]
    stranger = await open_doc(client, pid, team["stranger"], start=False)
    assert await stranger.closed_with() == 4003
    resp = await client.get(f"/api/pitches/{pid}/documents", headers=bearer(team["stranger"]))
    await expect_envelope(resp, 403, "FORBIDDEN")
    unknown = await open_doc(client, pid, team["owner"], "screenplay", start=False)
    assert await unknown.closed_with() == 4004
    missing = await open_doc(client, 999999, team["owner"], start=False)
    assert await missing.closed_with() == 4004
    # No credentials at all: refused before the upgrade.
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await client.ws_connect(f"/ws/docs/{pid}/synopsis")
    assert info.value.status == 401
    # A one-time ticket works once.
    resp = await client.get("/api/ws/token", headers=bearer(team["editor"]))
    ticket = (await expect_envelope(resp, 200))["data"]["ticket"]
    ws = await client.ws_connect(f"/ws/docs/{pid}/treatment?ticket={ticket}")
    c = await YClient(ws).start()
    await c.close()
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect(f"/ws/docs/{pid}/treatment?ticket={ticket}")


async def test_the_role_is_checked_at_each_update_as_it_arrives(team):
    client, pid = team["client"], team["pitch"]
    owner = await open_doc(client, pid, team["owner"], "treatment")
    editor = await open_doc(client, pid, team["editor"], "treatment")
    await editor.type_text("allowed")
    await editor.checkpoint()
    await owner.until(lambda: owner.text == "allowed")
    # Demoted to viewer while connected: the next update is refused (read only).
    resp = await client.post(
        f"/api/pitches/{pid}/collaborators",
        json={"userId": team["editor_id"], "role": "viewer"},
        headers=bearer(team["owner"]),
    )
    await expect_envelope(resp, 201)
    await editor.type_text(" as a viewer")
    assert await editor.closed_with() == 4005
    # Removed behind the server's back (the row deleted directly, so no node was told): the
    # next update is refused by the statement that would store it, and the session is closed.
    await invite(client, pid, team["owner"], team["editor_id"], "editor")
    editor = await open_doc(client, pid, team["editor"], "treatment")
    await app_state(client).database.execute(
        "DELETE FROM pitch_collaborators WHERE pitch_id = $1 AND user_id = $2", pid, team["editor_id"]
    )
    await editor.type_text(" after removal")
    assert await editor.closed_with() == 4003
    await owner.checkpoint()
    assert owner.text == "allowed"
    again = await open_doc(client, pid, team["editor"], "treatment", start=False)
    assert await again.closed_with() == 4003
    await owner.close()


async def test_a_removed_editor_is_closed_at_once(team):
    client, pid = team["client"], team["pitch"]
    editor = await open_doc(client, pid, team["editor"], "treatment")
    resp = await client.delete(
        f"/api/pitches/{pid}/collaborators/{team['editor_id']}", headers=bearer(team["owner"])
    )
    await expect_envelope(resp, 200)
    assert await editor.closed_with(timeout=5) == 4003


async def test_oversize_malformed_and_flooding_sessions_are_closed_and_the_document_is_intact(
    team, make_client
):
    client, pid = team["client"], team["pitch"]
    owner = await open_doc(client, pid, team["owner"], "notes")
    await owner.type_text("keep me")
    await owner.checkpoint()

    async def expect_close(payload: bytes, code: int) -> None:
        c = await open_doc(client, pid, team["editor"], "notes")
        await c.ws.send_bytes(payload)
        assert await c.closed_with() == code, payload[:20]

    # A valid 1 MiB + update: 4013.
    big: Doc[Any] = Doc()
    big.get("other", type=XmlFragment).children.append(XmlText("x" * (1024 * 1024 + 10)))
    await expect_close(update_message(big.get_update()), 4013)
    # Not a y-protocol message; an update Yjs cannot decode; a text frame: 4008.
    await expect_close(b"\x07\x01\x02", 4008)
    await expect_close(update_message(b"\x01\x05garbage-not-an-update"), 4008)
    c = await open_doc(client, pid, team["editor"], "notes")
    await c.ws.send_str("hello")
    assert await c.closed_with() == 4008
    # A flood beyond the burst: 4029.
    c = await open_doc(client, pid, team["editor"], "notes")
    for i in range(400):
        if c.closed.is_set():
            break
        with contextlib.suppress(ConnectionResetError):
            await c.type_text("f")
        if i % 50 == 0:
            await asyncio.sleep(0)
    assert await c.closed_with() == 4029
    # The document is what it was plus at most the flood's accepted letters, and still whole.
    check = await open_doc(client, pid, team["owner"], "notes")
    assert check.text.startswith("keep me")
    assert set(check.text[len("keep me") :]) <= {"f"}
    await owner.close()
    await check.close()


async def test_a_document_too_large_is_refused(make_client):
    client = await make_client(doc_max_bytes=4096)
    _, owner = await person(client)
    pitch = await make_pitch(client, owner)
    c = await open_doc(client, pitch["id"], owner, "notes")
    await c.type_text("x" * 1000)
    await c.checkpoint()
    await c.type_text("y" * 4000)
    assert await c.closed_with() == 4014
    again = await open_doc(client, pitch["id"], owner, "notes")
    assert again.text == "x" * 1000
    await again.close()


async def test_awareness_is_relayed_and_removed_when_a_tab_closes(team):
    client, pid = team["client"], team["pitch"]
    a = await open_doc(client, pid, team["owner"])
    b = await open_doc(client, pid, team["viewer"])  # readers have cursors too
    await b.set_awareness(1, '{"user":{"name":"Vi"},"cursor":{"anchor":3}}')
    await a.until(lambda: b.doc.client_id in a.awareness)
    assert a.awareness[b.doc.client_id] == (1, '{"user":{"name":"Vi"},"cursor":{"anchor":3}}')
    # A late joiner receives the states present.
    c = await open_doc(client, pid, team["editor"])
    await c.until(lambda: b.doc.client_id in c.awareness)
    started = time.monotonic()
    await b.ws.close()
    await a.until(lambda: b.doc.client_id not in a.awareness, timeout=5)
    await c.until(lambda: b.doc.client_id not in c.awareness, timeout=5)
    assert time.monotonic() - started < 3
    await a.close()
    await c.close()


async def test_collaborators_rest_and_the_invitees_notification(make_client):
    client = await make_client()
    owner_id, owner = await person(client)
    pitch = await make_pitch(client, owner, title="Shared")
    pid = pitch["id"]
    invitee_id, invitee = await person(client, "investor")
    _, other = await person(client, "investor")
    # The invitee's live notification.
    ws = await client.ws_connect("/ws", protocols=("pitchey.v1", f"bearer.{invitee}"))
    resp = await client.post(
        f"/api/pitches/{pid}/collaborators",
        json={"email": "nobody@example.com", "role": "editor"},
        headers=bearer(owner),
    )
    await expect_envelope(resp, 404)
    resp = await client.post(
        f"/api/pitches/{pid}/collaborators",
        json={"userId": invitee_id, "role": "editor"},
        headers=bearer(other),
    )
    await expect_envelope(resp, 403)
    resp = await client.post(
        f"/api/pitches/{pid}/collaborators",
        json={"userId": owner_id, "role": "editor"},
        headers=bearer(owner),
    )
    await expect_envelope(resp, 409)
    resp = await client.post(
        f"/api/pitches/{pid}/collaborators", json={"role": "editor"}, headers=bearer(owner)
    )
    await expect_envelope(resp, 422)
    resp = await client.post(
        f"/api/pitches/{pid}/collaborators",
        json={"userId": invitee_id, "role": "editor"},
        headers=bearer(owner),
    )
    got = (await expect_envelope(resp, 201))["data"]
    assert got["status"] == "pending" and got["role"] == "editor" and got["userId"] == invitee_id
    deadline = time.monotonic() + 5
    while True:
        msg = await ws.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if msg["type"] == "notification":
            assert msg["data"]["kind"] == "collaborator_invite"
            assert msg["data"]["data"]["pitchId"] == pid
            break
    await ws.close()
    # Pending: not a collaborator yet, so not a reader either.
    resp = await client.get(f"/api/pitches/{pid}/documents", headers=bearer(invitee))
    await expect_envelope(resp, 403, "FORBIDDEN")
    resp = await client.get("/api/collaborations", headers=bearer(invitee))
    rows = (await expect_envelope(resp, 200))["data"]["collaborations"]
    assert [(r["pitchId"], r["status"], r["pitchTitle"]) for r in rows] == [(pid, "pending", "Shared")]
    resp = await client.post(f"/api/pitches/{pid}/collaborators/accept", json={}, headers=bearer(other))
    await expect_envelope(resp, 404)
    resp = await client.post(f"/api/pitches/{pid}/collaborators/accept", json={}, headers=bearer(invitee))
    assert (await expect_envelope(resp, 200))["data"]["status"] == "accepted"
    resp = await client.get(f"/api/pitches/{pid}/collaborators", headers=bearer(invitee))
    listed = (await expect_envelope(resp, 200))["data"]["collaborators"]
    assert [(c["userId"], c["role"], c["status"]) for c in listed] == [(invitee_id, "editor", "accepted")]
    resp = await client.get(f"/api/pitches/{pid}/collaborators", headers=bearer(other))
    await expect_envelope(resp, 403)
    resp = await client.get(f"/api/pitches/{pid}/documents", headers=bearer(invitee))
    data = (await expect_envelope(resp, 200))["data"]
    assert data["role"] == "editor" and data["canWrite"] is True
    # Demoted to viewer: at once (accepted stays accepted).
    resp = await client.post(
        f"/api/pitches/{pid}/collaborators",
        json={"userId": invitee_id, "role": "viewer"},
        headers=bearer(owner),
    )
    got = (await expect_envelope(resp, 201))["data"]
    assert got["status"] == "accepted" and got["role"] == "viewer"
    resp = await client.delete(f"/api/pitches/{pid}/collaborators/{invitee_id}", headers=bearer(owner))
    await expect_envelope(resp, 200)
    resp = await client.delete(f"/api/pitches/{pid}/collaborators/{invitee_id}", headers=bearer(owner))
    await expect_envelope(resp, 404)


async def test_synopsis_is_written_back_to_the_pitch(make_client):
    client = await make_client(doc_compact_every=5)
    _, owner = await person(client)
    pitch = await make_pitch(client, owner, synopsis="Old")
    pid = pitch["id"]
    c = await open_doc(client, pid, owner)
    assert c.text == "Old"
    for ch in " and new!!":  # ten updates: compacted (and written back) at 5 and at 10
        await c.type_text(ch)
    await c.checkpoint()

    async def synopsis() -> str:
        resp = await client.get(f"/api/pitches/{pid}", headers=bearer(owner))
        return (await expect_envelope(resp, 200))["data"]["synopsis"]

    deadline = time.monotonic() + 10
    while await synopsis() != "Old and new!!":
        assert time.monotonic() < deadline, await synopsis()
        await asyncio.sleep(0.1)
    # Closing the last connection saves too.
    await c.type_text("?")
    await c.checkpoint()
    await c.close()
    deadline = time.monotonic() + 10
    while await synopsis() != "Old and new!!?":
        assert time.monotonic() < deadline, await synopsis()
        await asyncio.sleep(0.1)


# -- real processes: restart, kill -9, two nodes on Redis --------------------------------------


@pytest.fixture
def nodes(tmp_path: Path):
    ns = NodeSet(tmp_path / "logs")
    yield ns
    ns.kill_all()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


async def node_doc(
    http: aiohttp.ClientSession, base: str, pitch_id: int, token: str, name: str = "notes"
) -> YClient:
    url = base.replace("http://", "ws://") + f"/ws/docs/{pitch_id}/{name}"
    ws = await http.ws_connect(url, headers=cookie(token))
    return await YClient(ws).start()


async def test_restart_keeps_the_document_snapshot_and_tail(fresh_database, nodes, http, tmp_path):
    dsn = await fresh_database()
    node = nodes.add("solo", node_env(dsn, tmp_path / "data", PITCHEY_DOC_COMPACT_EVERY="7"))
    await nodes.start(node)
    rest = Rest(http)
    _, owner = await rest.register(node.base)
    pid = await rest.pitch(node.base, owner)
    c = await node_doc(http, node.base, pid, owner)
    for i in range(10):  # one compaction at 7, a tail of 3
        await c.type_text(f"{i}")
    await c.checkpoint()
    expected = str(c.fragment)
    # Still connected: closing the last connection (or SIGTERM) would compact the tail away.
    conn = await asyncpg.connect(dsn)
    try:
        tail = await conn.fetchval("SELECT count(*) FROM document_updates")
        versions = await conn.fetchval("SELECT count(*) FROM document_versions")
    finally:
        await conn.close()
    assert versions == 1 and tail == 3, (versions, tail)
    node.kill()
    await c.closed_with()
    node.start()
    await node.wait_healthy()
    again = await node_doc(http, node.base, pid, owner)
    assert str(again.fragment) == expected
    assert again.text == "0123456789"
    await again.close()


async def test_kill_9_during_a_burst_loses_nothing_acknowledged(fresh_database, nodes, http, tmp_path):
    dsn = await fresh_database()
    node = nodes.add(
        "solo",
        node_env(dsn, tmp_path / "data", PITCHEY_DOC_UPDATE_RATE="2000", PITCHEY_DOC_UPDATE_BURST="2000"),
    )
    await nodes.start(node)
    rest = Rest(http)
    _, owner = await rest.register(node.base)
    pid = await rest.pitch(node.base, owner)
    writers = [await node_doc(http, node.base, pid, owner) for _ in range(3)]
    acked: list[str] = []  # markers covered by a checkpoint's step 2
    stop = asyncio.Event()
    enough = asyncio.Event()

    async def burst(w: YClient, tag: str) -> None:
        n = 0
        with contextlib.suppress(Exception):
            while not stop.is_set():
                markers = []
                for _ in range(5):
                    n += 1
                    marker = f"<{tag}{n}>"
                    await w.edit(
                        lambda f, m=marker: f.children.append(XmlElement("paragraph", contents=[XmlText(m)]))
                    )
                    markers.append(marker)
                await w.checkpoint(timeout=5)
                acked.extend(markers)
                if len(acked) >= 150:
                    enough.set()

    tasks = [asyncio.create_task(burst(w, t)) for w, t in zip(writers, "abc", strict=True)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(enough.wait(), 15)
    node.kill()
    stop.set()
    await asyncio.gather(*tasks)
    assert len(acked) >= 30, len(acked)
    node.start()
    await node.wait_healthy()
    after = await node_doc(http, node.base, pid, owner)
    text = after.text
    lost = [m for m in acked if m not in text]
    assert not lost, f"{len(lost)} acknowledged edits lost of {len(acked)}: {lost[:5]}"
    print(f"acknowledged before kill -9: {len(acked)}; all present after restart")
    await after.close()


async def test_two_nodes_on_redis_converge(fresh_database, nodes, http, tmp_path, redis_url):
    dsn = await fresh_database()
    a = nodes.add("a", node_env(dsn, tmp_path / "data", redis_url))
    b = nodes.add("b", node_env(dsn, tmp_path / "data", redis_url))
    await nodes.start(a, b)
    rest = Rest(http)
    _, owner = await rest.register(a.base)
    pid = await rest.pitch(a.base, owner)
    x = await node_doc(http, a.base, pid, owner)
    y = await node_doc(http, b.base, pid, owner)
    await x.set_awareness(1, '{"user":{"name":"X"}}')
    await y.until(lambda: x.doc.client_id in y.awareness)
    for i in range(15):
        await asyncio.gather(x.type_text(f"x{i}", at=0), y.type_text(f"y{i}"))
    await x.checkpoint()
    await y.checkpoint()
    await x.until(lambda: "y14" in x.text and x.text == y.text, timeout=15)
    assert str(x.fragment) == str(y.fragment)
    await x.close()
    await y.until(lambda: x.doc.client_id not in y.awareness, timeout=5)
    # A third client on node b loads from PostgreSQL plus what b holds: the same document.
    z = await node_doc(http, b.base, pid, owner)
    assert str(z.fragment) == str(y.fragment)
    for c in (y, z):
        await c.close()
    # A collaborator connected to node b, removed through node a: closed at once all the same.
    editor_id, editor = await rest.register(a.base, "production")
    status, _ = await rest.call(
        "POST",
        f"{a.base}/api/pitches/{pid}/collaborators",
        owner,
        json={"userId": editor_id, "role": "editor"},
    )
    assert status == 201
    status, _ = await rest.call("POST", f"{b.base}/api/pitches/{pid}/collaborators/accept", editor, json={})
    assert status == 200
    e = await node_doc(http, b.base, pid, editor)
    status, _ = await rest.call("DELETE", f"{a.base}/api/pitches/{pid}/collaborators/{editor_id}", owner)
    assert status == 200
    assert await e.closed_with(timeout=5) == 4003


async def test_versions_are_listed_and_restoring_one_is_a_new_update(make_client):
    client = await make_client(doc_compact_every=3)
    owner_id, owner = await person(client)
    pitch = await make_pitch(client, owner)
    pid = pitch["id"]
    viewer_id, viewer = await person(client, "investor")
    await invite(client, pid, owner, viewer_id, "viewer")
    c = await open_doc(client, pid, owner, "treatment")
    for ch in "abc":  # a compaction: version 1 holds "abc"
        await c.type_text(ch)
    await c.checkpoint()
    for ch in "def":  # and version 2 "abcdef"
        await c.type_text(ch)
    await c.checkpoint()
    watcher = await open_doc(client, pid, viewer, "treatment")
    resp = await client.get(f"/api/pitches/{pid}/documents/treatment/versions", headers=bearer(viewer))
    listed = (await expect_envelope(resp, 200))["data"]["versions"]
    assert len(listed) == 2 and all(v["authorId"] == owner_id for v in listed), listed
    oldest = listed[-1]["id"]
    resp = await client.post(
        f"/api/pitches/{pid}/documents/treatment/versions/{oldest}/restore", json={}, headers=bearer(viewer)
    )
    await expect_envelope(resp, 403)
    resp = await client.post(
        f"/api/pitches/{pid}/documents/treatment/versions/{oldest}/restore", json={}, headers=bearer(owner)
    )
    assert (await expect_envelope(resp, 200))["data"] == {"restored": True, "versionId": oldest}
    # Everyone connected receives it as an ordinary update.
    await c.until(lambda: c.text == "abc")
    await watcher.until(lambda: watcher.text == "abc")
    resp = await client.get(f"/api/pitches/{pid}/documents/screenplay/versions", headers=bearer(owner))
    await expect_envelope(resp, 404)
    await c.close()
    await watcher.close()


async def test_a_removed_viewer_is_closed_at_once(team):
    client, pid = team["client"], team["pitch"]
    viewer = await open_doc(client, pid, team["viewer"], "notes")
    resp = await client.delete(
        f"/api/pitches/{pid}/collaborators/{team['viewer_id']}", headers=bearer(team["owner"])
    )
    await expect_envelope(resp, 200)
    assert await viewer.closed_with(timeout=5) == 4003


async def test_nodes_catch_up_from_the_database_after_redis_was_away(fresh_database, nodes, http, tmp_path):
    workdir = tmp_path / "redis"
    workdir.mkdir()
    redis = RedisProcess(workdir)
    redis.start()
    try:
        dsn = await fresh_database()
        a = nodes.add("a", node_env(dsn, tmp_path / "data", redis.url))
        b = nodes.add("b", node_env(dsn, tmp_path / "data", redis.url))
        await nodes.start(a, b)
        rest = Rest(http)
        _, owner = await rest.register(a.base)
        pid = await rest.pitch(a.base, owner)
        x = await node_doc(http, a.base, pid, owner)
        y = await node_doc(http, b.base, pid, owner)
        await x.type_text("before ")
        await y.until(lambda: y.text == "before")
        redis.kill()
        await x.type_text("during")  # stored (the output gate), but no node hears of it
        await x.checkpoint()
        redis.start()
        # Once Redis answers again, b re-reads the document's log and passes on what it lacked.
        await y.until(lambda: y.text == "before during", timeout=20)
        await y.type_text(" after")
        await x.until(lambda: x.text == "before during after", timeout=10)
        await x.close()
        await y.close()
    finally:
        redis.kill()


async def test_an_idle_document_is_passivated_and_reloads(make_client):
    from pitchey.server.docs_ws import DOCUMENTS

    client = await make_client(room_idle_timeout=0.3)
    _, owner = await person(client)
    pitch = await make_pitch(client, owner)
    c = await open_doc(client, pitch["id"], owner, "notes")
    await c.type_text("kept")
    await c.checkpoint()
    docs = client.server.app[DOCUMENTS].hub
    assert docs.active() == 1
    await c.close()
    deadline = time.monotonic() + 10
    while docs.active():
        assert time.monotonic() < deadline, "never passivated"
        await asyncio.sleep(0.05)
    rows = await app_state(client).database.fetch("SELECT count(*) AS n FROM document_updates")
    assert rows[0]["n"] == 0  # compacted into the snapshot
    again = await open_doc(client, pitch["id"], owner, "notes")
    assert again.text == "kept"
    await again.close()


async def test_sigterm_compacts_and_the_document_survives(fresh_database, nodes, http, tmp_path):
    dsn = await fresh_database()
    node = nodes.add("solo", node_env(dsn, tmp_path / "data"))
    await nodes.start(node)
    rest = Rest(http)
    _, owner = await rest.register(node.base)
    pid = await rest.pitch(node.base, owner, synopsis="Seed")
    c = await node_doc(http, node.base, pid, owner, "synopsis")
    await c.type_text(" and more")
    await c.checkpoint()
    node.terminate()
    assert await c.closed_with(timeout=15) == 1012
    assert await node.wait_exit(30) == 0
    conn = await asyncpg.connect(dsn)
    try:
        tail = await conn.fetchval("SELECT count(*) FROM document_updates")
        synopsis = await conn.fetchval("SELECT synopsis FROM pitches WHERE id = $1", pid)
    finally:
        await conn.close()
    assert tail == 0 and synopsis == "Seed and more", (tail, synopsis)
    node.start()
    await node.wait_healthy()
    again = await node_doc(http, node.base, pid, owner, "synopsis")
    assert again.text == "Seed and more"
    await again.close()


async def test_the_worked_exchange_of_protocol_md_byte_for_byte(make_client):
    """docs/protocol.md's worked exchange, sent as the yjs client's exact bytes over a real socket:
    every byte the server answers is the documented one."""
    client = await make_client()
    _, owner = await person(client)
    pitch = await make_pitch(client, owner)
    url = f"/ws/docs/{pitch['id']}/notes"
    observer = await client.ws_connect(url, headers=cookie(owner))
    assert (await observer.receive_bytes(timeout=5)) == X("00000100")
    ws = await client.ws_connect(url, headers=cookie(owner))

    async def expect(hexbytes: str) -> None:
        assert (await ws.receive_bytes(timeout=5)).hex() == hexbytes

    await expect("00000100")  # the server's step 1
    await ws.send_bytes(X(JS["emptyStep1"]))
    await expect("0001020000")  # its step 2
    await ws.send_bytes(X(JS["emptyStep2"]))
    await ws.send_bytes(X(JS["awareness"]))
    await expect(JS["awareness"])  # echoed to the sender too
    assert (await observer.receive_bytes(timeout=5)) == X(JS["awareness"])
    await ws.send_bytes(X(JS["update"]))
    assert (await observer.receive_bytes(timeout=5)) == X(JS["update"])
    await ws.send_bytes(X(JS["step1"]))  # the checkpoint
    await expect("0001020000")
    await ws.close()
    assert (await observer.receive_bytes(timeout=5)) == X(JS["awarenessRemoved"])
    await observer.close()


WEB_MODULES = Path(__file__).resolve().parent.parent / "web" / "node_modules"

PROVIDER_SCRIPT = r"""
// Stock y-websocket providers (what the browser runs) against the server: two edit at once, a
// third joins late; awareness comes and goes. Modules from web/node_modules (npm ci in web/).
const { createRequire } = require('module')
const req = createRequire(process.argv[2])
const Y = req('yjs')
const { WebsocketProvider } = req('y-websocket')
const [base, pitch, t1, t2, t3] = process.argv.slice(3)
const open = (ticket) => {
  const doc = new Y.Doc()
  const options = { params: { ticket }, disableBc: true }
  const provider = new WebsocketProvider(`${base}/ws/docs/${pitch}`, 'treatment', doc, options)
  return { doc, provider }
}
const synced = (p) => new Promise((r) => (p.synced ? r() : p.on('sync', (s) => s && r())))
const text = (d) => d.getXmlFragment('default').toString()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const until = async (f) => { for (let i = 0; i < 100 && !f(); i++) await sleep(50) }
const ada = (p) => [...p.awareness.getStates().values()].some((s) => s.user && s.user.name === 'Ada')
;(async () => {
  const a = open(t1); const b = open(t2)
  await Promise.all([synced(a.provider), synced(b.provider)])
  a.provider.awareness.setLocalStateField('user', { name: 'Ada' })
  const para = (s) => { const p = new Y.XmlElement('paragraph'); p.insert(0, [new Y.XmlText(s)]); return p }
  a.doc.getXmlFragment('default').push([para('from A')])
  b.doc.getXmlFragment('default').insert(0, [para('from B')])
  const both = () => text(a.doc).includes('from A') && text(a.doc).includes('from B')
  await until(() => text(a.doc) === text(b.doc) && both())
  await until(() => ada(b.provider))
  const sawAda = ada(b.provider)
  a.provider.destroy()
  await until(() => !ada(b.provider))
  const adaGone = !ada(b.provider)
  const c = open(t3); await synced(c.provider)
  console.log(JSON.stringify({ a: text(a.doc), b: text(b.doc), c: text(c.doc), sawAda, adaGone }))
  b.provider.destroy(); c.provider.destroy()
  process.exit(0)
})()
"""


@pytest.mark.skipif(
    shutil.which("node") is None or not (WEB_MODULES / "y-websocket").is_dir(),
    reason="needs node and web/node_modules (npm ci in web/)",
)
async def test_the_stock_y_websocket_provider(make_client, tmp_path):
    client = await make_client()
    _, owner = await person(client)
    pitch = await make_pitch(client, owner)
    editor_id, editor = await person(client, "production")
    await invite(client, pitch["id"], owner, editor_id, "editor")

    async def ticket(token: str) -> str:
        resp = await client.get("/api/ws/token", headers=bearer(token))
        return (await expect_envelope(resp, 200))["data"]["ticket"]

    script = tmp_path / "provider.cjs"
    script.write_text(PROVIDER_SCRIPT)
    base = str(client.make_url("")).rstrip("/").replace("http://", "ws://")
    args = [str(WEB_MODULES.parent / "package.json"), base, str(pitch["id"])]
    args += [await ticket(owner), await ticket(editor), await ticket(owner)]
    proc = await asyncio.create_subprocess_exec(
        "node",
        "--experimental-websocket",
        "--no-warnings",
        str(script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-2000:]
    got = orjson.loads(out.strip().splitlines()[-1])
    assert got["a"] == got["b"] == got["c"], got
    assert "from A" in got["a"] and "from B" in got["a"], got
    assert got["sawAda"] and got["adaGone"], got
    # And the server holds the same document.
    check = await open_doc(client, pitch["id"], owner, "treatment")
    assert str(check.fragment) == got["a"]
    await check.close()
