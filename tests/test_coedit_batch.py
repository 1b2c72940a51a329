"""Group commit of document updates (issue 12): a document's turn stores every update queued
behind it in one statement and one commit, then applies, relays and answers each in order.

Real sockets, pycrdt clients speaking y-websocket (tests/test_coedit.py's `YClient`), real
PostgreSQL. A commit is read from the rows themselves: the rows one transaction inserted share
its `xmin`, so "fewer commits than updates" is counted by the database, not by our metrics.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from pycrdt import XmlElement, XmlFragment, XmlText
from realtime_helpers import make_pitch, wait_until
from test_coedit import YClient, invite, open_doc, person

from pitchey.protocol.yjs import update_message
from pitchey.server.docs_ws import DOCUMENTS

NO_COMPACTION = 100_000  # the log keeps every row, so its commits can be counted


async def _commits(dsn: str, pitch_id: int, name: str) -> tuple[int, int]:
    """(updates stored, distinct transactions that stored them) of one document's log."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            """SELECT count(*) AS n, count(DISTINCT u.xmin::text) AS commits
               FROM document_updates u JOIN pitch_documents d ON d.id = u.document_id
               WHERE d.pitch_id = $1 AND d.name = $2""",
            pitch_id,
            name,
        )
    finally:
        await conn.close()
    assert row is not None
    return row["n"], row["commits"]


class Held:
    """The document's row locked from outside (FOR UPDATE): a turn storing updates waits for it
    (its inserts need a key-share lock on the row), and the updates sent meanwhile queue behind
    that turn in the actor's inbox; leaving the block releases it, and the next turn takes them."""

    def __init__(self, client: Any, dsn: str, pitch_id: int, name: str) -> None:
        self.client, self.dsn, self.pitch_id, self.name = client, dsn, pitch_id, name

    async def __aenter__(self) -> Held:
        hub = self.client.server.app[DOCUMENTS].hub
        assert hub is not None
        self.actor = hub._docs[f"{self.pitch_id}:{self.name}"]  # to watch its inbox
        self.conn = await asyncpg.connect(self.dsn)
        self.tx = self.conn.transaction()
        await self.tx.start()
        await self.conn.execute(
            "SELECT 1 FROM pitch_documents WHERE pitch_id = $1 AND name = $2 FOR UPDATE",
            self.pitch_id,
            self.name,
        )
        return self

    async def until_blocked(self) -> None:
        async def blocked() -> bool:
            return bool(await self.conn.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"))

        await wait_until(blocked, timeout=5, what="a turn waiting for the lock")

    async def until_queued(self, n: int) -> None:
        await wait_until(lambda: len(self.actor.actor_inbox) >= n, timeout=5, what=f"{n} queued")

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.tx.rollback()
        finally:
            await self.conn.close()


def _paragraph(marker: str) -> Any:
    def change(f: XmlFragment) -> None:
        f.children.append(XmlElement("paragraph", contents=[XmlText(marker)]))

    return change


async def test_a_burst_from_several_editors_is_stored_in_fewer_commits_and_converges(make_client, clean_db):
    client = await make_client(doc_compact_every=NO_COMPACTION)
    _, owner = await person(client)
    pid = (await make_pitch(client, owner))["id"]
    editors = [owner]
    for _ in range(3):
        uid, token = await person(client, "production")
        await invite(client, pid, owner, uid, "editor")
        editors.append(token)
    # Eight connections (two tabs per person), each sending 25 updates back to back.
    writers = [await open_doc(client, pid, token, "notes") for token in editors * 2]
    per_writer = 25

    async def burst(i: int, w: YClient) -> None:
        for n in range(per_writer):
            await w.edit(_paragraph(f"<{i}.{n}>"))

    await asyncio.gather(*(burst(i, w) for i, w in enumerate(writers)))
    for w in writers:
        await w.checkpoint()
    first = writers[0]
    for w in writers[1:]:
        await w.until(lambda w=w: str(w.fragment) == str(first.fragment), timeout=15)
    expected = str(first.fragment)
    markers = {f"<{i}.{n}>" for i in range(len(writers)) for n in range(per_writer)}
    assert all(m in first.text for m in markers)

    # Every update is a row of its own, but they came in fewer commits than updates.
    stored, commits = await _commits(clean_db, pid, "notes")
    total = len(writers) * per_writer
    assert stored == total, (stored, total)
    assert commits < total, f"{commits} commits for {total} updates: nothing was batched"
    text = await (await client.get("/metrics")).text()
    figures = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line[:1] != "#"}
    assert figures["pitchey_doc_updates_total"] == total, figures
    assert figures["pitchey_doc_update_commits_total"] == commits, figures
    print(f"{total} updates from {len(writers)} connections stored in {commits} commits")

    # Reloaded from PostgreSQL by another node (a second app on the same database): the same.
    for w in writers:
        await w.close()
    other = await make_client(doc_compact_every=NO_COMPACTION)
    reloaded = await open_doc(other, pid, owner, "notes")
    assert str(reloaded.fragment) == expected
    await reloaded.close()


async def test_one_bad_update_in_a_batch_harms_only_its_sender(make_client, clean_db):
    """The document's row is locked from outside, so the turn storing the first update waits
    and the others queue behind it; released, they are stored as one batch, in which a reader's
    update (refused by the database) and a malformed one (refused before it) close only their
    own connections."""
    client = await make_client(doc_compact_every=NO_COMPACTION)
    owner_id, owner = await person(client)
    pid = (await make_pitch(client, owner, visibility="private"))["id"]
    editor_id, editor = await person(client, "production")
    viewer_id, viewer = await person(client, "investor")
    await invite(client, pid, owner, editor_id, "editor")
    await invite(client, pid, owner, viewer_id, "viewer")
    o = await open_doc(client, pid, owner, "treatment")
    e = await open_doc(client, pid, editor, "treatment")
    e2 = await open_doc(client, pid, editor, "treatment")
    v = await open_doc(client, pid, viewer, "treatment")
    bad = await open_doc(client, pid, editor, "treatment")
    await o.edit(_paragraph("before"))
    await o.checkpoint()

    async with Held(client, clean_db, pid, "treatment") as held:
        await o.edit(_paragraph("first"))  # its turn now waits for the lock
        await held.until_blocked()
        await e.edit(_paragraph("from the editor"))
        await v.edit(_paragraph("from the viewer"))
        await bad.ws.send_bytes(update_message(b"\x01\x05garbage-not-an-update"))
        await e2.edit(_paragraph("from the editor's other tab"))
        await held.until_queued(4)
        # Nothing is relayed before its commit: nobody has seen any of them yet.
        await asyncio.sleep(0.2)
        assert "first" not in e.text and "editor" not in o.text

    # Only the two offenders are closed, each with its own reason.
    assert await v.closed_with() == 4005
    assert v.close_reason.startswith("Read only")
    assert await bad.closed_with() == 4008
    assert bad.close_reason == "Malformed update"
    for c in (o, e, e2):
        await c.checkpoint()
        assert not c.closed.is_set()
    want = ["before", "first", "from the editor", "from the editor's other tab"]
    for c in (o, e, e2):
        await c.until(lambda c=c: all(t in c.text for t in want) and "viewer" not in c.text)
    # The editor's two updates shared one commit; the viewer's is not stored.
    conn = await asyncpg.connect(clean_db)
    try:
        rows = await conn.fetch(
            """SELECT u.user_id, u.xmin::text AS tx FROM document_updates u
               JOIN pitch_documents d ON d.id = u.document_id
               WHERE d.pitch_id = $1 AND d.name = 'treatment' ORDER BY u.id""",
            pid,
        )
    finally:
        await conn.close()
    assert [r["user_id"] for r in rows] == [owner_id, owner_id, editor_id, editor_id]
    assert rows[2]["tx"] == rows[3]["tx"] != rows[1]["tx"]
    again = await open_doc(client, pid, owner, "treatment")
    assert str(again.fragment) == str(o.fragment)
    for c in (o, e, e2, again):
        await c.close()


async def test_a_batch_of_one_is_the_setting_1(make_client, clean_db):
    """PITCHEY_ROOM_POST_BATCH=1 (the rooms' bound, which documents share): a commit per update,
    the path before group commit (the baseline a benchmark compares with)."""
    client = await make_client(doc_compact_every=NO_COMPACTION, room_post_batch=1)
    _, owner = await person(client)
    pid = (await make_pitch(client, owner))["id"]
    writers = [await open_doc(client, pid, owner, "notes") for _ in range(4)]

    async def burst(i: int, w: YClient) -> None:
        for n in range(10):
            await w.edit(_paragraph(f"<{i}.{n}>"))

    await asyncio.gather(*(burst(i, w) for i, w in enumerate(writers)))
    for w in writers:
        await w.checkpoint()
    assert await _commits(clean_db, pid, "notes") == (40, 40)
    for w in writers:
        await w.close()


async def test_an_update_beyond_the_size_cap_in_a_batch_harms_only_its_sender(make_client, clean_db):
    """The cap counts the updates of the batch before it: the one that would cross it is refused
    (4014), though alone it would fit, and the others are stored."""
    client = await make_client(doc_compact_every=NO_COMPACTION, doc_max_bytes=4096)
    _, owner = await person(client)
    pid = (await make_pitch(client, owner))["id"]
    a, b, z, c = [await open_doc(client, pid, owner, "notes") for _ in range(4)]
    await a.edit(_paragraph("x" * 1000))
    await a.checkpoint()
    async with Held(client, clean_db, pid, "notes") as held:
        await a.edit(_paragraph("first"))
        await held.until_blocked()
        await b.edit(_paragraph("y" * 2000))
        await z.edit(_paragraph("z" * 1500))  # 1,000 + 1,500 fits; 1,000 + 2,000 + 1,500 does not
        await c.edit(_paragraph("small"))
        await held.until_queued(3)
    assert await z.closed_with() == 4014
    assert z.close_reason == "Document too large"
    for x in (a, b, c):
        await x.checkpoint()
        assert not x.closed.is_set()
    await a.until(lambda: "small" in a.text and "y" * 2000 in a.text)
    assert "z" not in a.text
    again = await open_doc(client, pid, owner, "notes")
    assert str(again.fragment) == str(a.fragment)
    for x in (a, b, c, again):
        await x.close()


async def test_compaction_every_n_updates_still_runs_under_batches(make_client, clean_db):
    client = await make_client(doc_compact_every=10)
    _, owner = await person(client)
    pid = (await make_pitch(client, owner))["id"]
    writers = [await open_doc(client, pid, owner, "notes") for _ in range(5)]

    async def burst(i: int, w: YClient) -> None:
        for n in range(20):
            await w.edit(_paragraph(f"<{i}.{n}>"))

    await asyncio.gather(*(burst(i, w) for i, w in enumerate(writers)))
    for w in writers:
        await w.checkpoint()
    expected = str(writers[0].fragment)
    stored, _ = await _commits(clean_db, pid, "notes")
    conn = await asyncpg.connect(clean_db)
    try:
        versions = await conn.fetchval(
            """SELECT count(*) FROM document_versions v JOIN pitch_documents d ON d.id = v.document_id
               WHERE d.pitch_id = $1 AND d.name = 'notes'""",
            pid,
        )
    finally:
        await conn.close()
    # Compacted as it went (still connected: no compaction on leaving yet), so the tail is short.
    assert versions >= 2 and stored < 100, (versions, stored)
    for w in writers:
        await w.close()
    other = await make_client()
    reloaded = await open_doc(other, pid, owner, "notes")
    assert str(reloaded.fragment) == expected
    await reloaded.close()


async def test_a_large_document_compacts_when_its_tail_is_worth_folding(make_client, clean_db):
    """Every `compact_every` updates once the tail holds a quarter of the snapshot's bytes, or at
    ten times `compact_every` updates: a large document is not re-encoded every few keystrokes."""
    client = await make_client(doc_compact_every=5)
    _, owner = await person(client)
    pid = (await make_pitch(client, owner))["id"]
    w = await open_doc(client, pid, owner, "notes")

    async def versions_and_tail() -> tuple[int, int]:
        await w.checkpoint()  # after every turn (and the compaction it asked for) of the room
        conn = await asyncpg.connect(clean_db)
        try:
            row = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM document_versions v WHERE v.document_id = d.id) AS v,
                          (SELECT count(*) FROM document_updates u WHERE u.document_id = d.id) AS t
                   FROM pitch_documents d WHERE d.pitch_id = $1 AND d.name = 'notes'""",
                pid,
            )
        finally:
            await conn.close()
        assert row is not None
        return int(row["v"]), int(row["t"])

    await w.edit(_paragraph("x" * 20_000))  # a 20 KB paragraph, then small edits
    for n in range(4):
        await w.edit(_paragraph(f"<{n}>"))
    # The fifth update: the tail (20 KB) is far beyond a quarter of the empty snapshot.
    assert await versions_and_tail() == (1, 0)
    for n in range(45):
        await w.edit(_paragraph(f"<a{n}>"))
    # 45 small updates (a few KB) against a 20 KB snapshot: not yet worth a compaction.
    assert await versions_and_tail() == (1, 45)
    for n in range(5):
        await w.edit(_paragraph(f"<b{n}>"))
    # Ten times compact_every: folded whatever the size.
    assert await versions_and_tail() == (2, 0)
    expected = str(w.fragment)
    await w.close()
    reloaded = await open_doc(await make_client(), pid, owner, "notes")
    assert str(reloaded.fragment) == expected
    await reloaded.close()
