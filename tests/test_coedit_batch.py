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

    hub = client.server.app[DOCUMENTS].hub  # the node's documents, to watch the actor's inbox
    assert hub is not None
    actor = hub._docs[f"{pid}:treatment"]
    lock = await asyncpg.connect(clean_db)
    try:
        tx = lock.transaction()
        await tx.start()
        await lock.execute(
            "SELECT 1 FROM pitch_documents WHERE pitch_id = $1 AND name = 'treatment' FOR UPDATE", pid
        )
        await o.edit(_paragraph("first"))  # its turn now waits for the lock

        async def blocked() -> bool:
            return bool(await lock.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"))

        await wait_until(blocked, timeout=5, what="the first turn waiting for the lock")
        await e.edit(_paragraph("from the editor"))
        await v.edit(_paragraph("from the viewer"))
        await bad.ws.send_bytes(update_message(b"\x01\x05garbage-not-an-update"))
        await e2.edit(_paragraph("from the editor's other tab"))
        await wait_until(lambda: len(actor.actor_inbox) >= 4, timeout=5, what="four queued updates")
        await tx.rollback()
    finally:
        await lock.close()

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
