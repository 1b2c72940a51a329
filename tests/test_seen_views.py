"""A node remembers the views it already sent to their pitch room today (server/views.py): a
repeat read skips the room's ask, and no view is lost or counted twice because of it."""

from __future__ import annotations

import datetime

from realtime_helpers import get_pitch, make_pitch, user

from pitchey.server.state import APP_STATE
from pitchey.server.views import SeenViews


async def test_a_repeat_read_is_remembered_and_another_node_still_counts_once(make_client, db_conn):
    node_a = await make_client()
    node_b = await make_client()  # a second app on the same database: its own memo and rooms
    _, owner = await user(node_a, "creator")
    reader_id, reader = await user(node_a, "investor")
    pid = (await make_pitch(node_a, owner))["id"]
    memo_a = node_a.server.app[APP_STATE].seen_views
    memo_b = node_b.server.app[APP_STATE].seen_views

    assert not memo_a.seen(pid, reader_id)
    assert (await get_pitch(node_a, pid, reader))["data"]["viewCount"] == 1
    assert memo_a.seen(pid, reader_id)
    assert (await get_pitch(node_a, pid, reader))["data"]["viewCount"] == 1

    # Node b never asked for this pair: it asks its room, which finds the view stored today.
    assert not memo_b.seen(pid, reader_id)
    assert (await get_pitch(node_b, pid, reader))["data"]["viewCount"] == 1
    assert memo_b.seen(pid, reader_id)
    assert await db_conn.fetchval("SELECT count(*) FROM pitch_views WHERE pitch_id = $1", pid) == 1
    assert await db_conn.fetchval("SELECT view_count FROM pitches WHERE id = $1", pid) == 1

    # The owner's reads are never counted, so never remembered either.
    owner_id = (await get_pitch(node_a, pid, owner))["data"]["creator"]["id"]
    assert not memo_a.seen(pid, owner_id)


def test_the_memo_forgets_at_the_days_turn_and_at_its_bound() -> None:
    memo = SeenViews(limit=3)
    memo.add(1, 10)
    assert memo.seen(1, 10) and not memo.seen(1, 11) and not memo.seen(2, 10)
    memo._day = datetime.date(2000, 1, 1)  # yesterday, as far as the memo knows
    assert not memo.seen(1, 10) and len(memo) == 0
    for pitch in (1, 2, 3):
        memo.add(pitch, 10)
    assert len(memo) == 3
    memo.add(4, 10)  # the bound: start over (one more ask per pair, never a wrong answer)
    assert len(memo) == 1 and memo.seen(4, 10) and not memo.seen(1, 10)
