"""The one pitch-access decision (rooms/access.py) and its SQL form (storage/pitches.py) agree.

Hypothesis generates pitches (owner, status, visibility, NDA requirement) and NDA requests in every
state for every signed-in viewer, writes them to a real PostgreSQL, and checks for each viewer
(anonymous, the owner, another creator, an investor, a production company):

- `visible_sql` admits exactly the pitches `decide(...).sees`;
- the catalog (`PitchStore.browse`) lists exactly the published ones of those;
- `SHOWN_SQL` (the per-row "protected fields shown") matches the decision: a pitch requiring an
  NDA shows them exactly when the decision is VISIBLE;
- `PitchStore.access` gives `decide` what it needs (the same answer as the generated world);
- joining the pitch's room is allowed exactly when the decision sees it, refused in its words.

Plus the decision's verdicts and wording, case by case.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from conftest import truncate_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pitchey.protocol import parse_room
from pitchey.rooms.access import (
    INVESTORS_ONLY,
    NOT_FOUND,
    OWNER_ONLY,
    PRIVATE,
    Access,
    RoomForbidden,
    RoomNotFound,
    Verdict,
    Viewer,
    authorize,
    decide,
    decide_owner,
)
from pitchey.storage.database import Database
from pitchey.storage.pitches import SHOWN_SQL, BrowseFilter, PitchStore, visible_sql

STATUSES = ("draft", "published", "archived")
VISIBILITIES = ("public", "investors_only", "private")
NDA_STATES = (None, "pending", "approved", "rejected", "revoked")
# Users created once: two creators (pitch owners), an investor, a production company.
USERS = (("creator", "a"), ("creator", "b"), ("investor", "i"), ("production", "p"))


@dataclass(frozen=True)
class GenPitch:
    owner: int  # index into USERS: 0 or 1
    status: str
    visibility: str
    require_nda: bool
    ndas: tuple[str | None, ...]  # one state per user in USERS (ignored for the owner)


pitches_st = st.builds(
    GenPitch,
    owner=st.sampled_from((0, 1)),
    status=st.sampled_from(STATUSES),
    visibility=st.sampled_from(VISIBILITIES),
    require_nda=st.booleans(),
    ndas=st.tuples(*(st.sampled_from(NDA_STATES) for _ in USERS)),
)


async def _setup_users(db: Database) -> list[int]:
    ids = []
    for user_type, tag in USERS:
        ids.append(
            await db.fetchval(
                "INSERT INTO users (email, user_type, password_hash) VALUES ($1, $2, 'x') RETURNING id",
                f"access-{tag}@example.com",
                user_type,
            )
        )
    return ids


async def _write_world(db: Database, user_ids: list[int], world: list[GenPitch]) -> list[int]:
    await db.execute("DELETE FROM pitches")
    pitch_ids = []
    for i, g in enumerate(world):
        pid = await db.fetchval(
            """INSERT INTO pitches (user_id, title, status, visibility, require_nda, budget, published_at)
               VALUES ($1, $2, $3, $4, $5, 100, CASE WHEN $3 = 'published' THEN now() END)
               RETURNING id""",
            user_ids[g.owner],
            f"Pitch {i}",
            g.status,
            g.visibility,
            g.require_nda,
        )
        pitch_ids.append(pid)
        for u, state in enumerate(g.ndas):
            if state is None or u == g.owner:
                continue
            await db.execute(
                """INSERT INTO nda_requests (pitch_id, requester_id, owner_id, status, decided_at)
                   VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'pending' THEN NULL ELSE now() END)""",
                pid,
                user_ids[u],
                user_ids[g.owner],
                state,
            )
    return pitch_ids


def _viewers(user_ids: list[int]) -> list[tuple[Viewer, int | None]]:
    """(viewer, index into USERS or None for anonymous)."""
    return [(Viewer(), None)] + [(Viewer(uid, USERS[u][0]), u) for u, uid in enumerate(user_ids)]


def _expected_access(g: GenPitch, user_ids: list[int], u: int | None) -> Access:
    has_nda = u is not None and u != g.owner and g.ndas[u] == "approved"
    return Access(user_ids[g.owner], g.status, g.visibility, has_nda, g.require_nda)


_SQL = f"""
    SELECT p.id, {SHOWN_SQL} AS shown
    FROM pitches p
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM nda_requests r
                       WHERE r.pitch_id = p.id AND r.requester_id = $1
                         AND r.status = 'approved') AS has_nda
    ) n
    WHERE {visible_sql("$1", "$2")}"""


async def _check_world(db: Database, user_ids: list[int], world: list[GenPitch]) -> None:
    pitch_ids = await _write_world(db, user_ids, world)
    store = PitchStore(db)
    for viewer, u in _viewers(user_ids):
        decisions = {
            pid: decide(_expected_access(g, user_ids, u), viewer)
            for pid, g in zip(pitch_ids, world, strict=True)
        }
        rows = await db.fetch(_SQL, viewer.user_id, viewer.user_type)
        admitted = {r["id"]: r["shown"] for r in rows}
        seen = {pid for pid, d in decisions.items() if d.sees}
        assert set(admitted) == seen, (viewer, world)
        for pid, g in zip(pitch_ids, world, strict=True):
            if pid in admitted and g.require_nda:
                assert admitted[pid] == (decisions[pid].verdict is Verdict.VISIBLE), (viewer, g)

        page = await store.browse(viewer, BrowseFilter(), limit=100, offset=0)
        published = {pid for pid, g in zip(pitch_ids, world, strict=True) if g.status == "published"}
        assert {r.pitch.id for r in page.rows} == seen & published, (viewer, world)
        assert page.total == len(seen & published)

        for pid, g in zip(pitch_ids, world, strict=True):
            stored = await store.access(pid, viewer.user_id)
            assert stored == _expected_access(g, user_ids, u), (viewer, g)
            if u is None:
                continue  # rooms need a signed-in user
            # Joining the pitch's room: allowed exactly when the decision sees the pitch, and
            # refused in the decision's words otherwise.
            d = decisions[pid]
            try:
                await authorize(parse_room(f"pitch:{pid}"), viewer.user_id, viewer.user_type, store)
            except RoomNotFound as exc:
                assert (d.verdict, d.message) == (Verdict.NOT_FOUND, str(exc)), (viewer, g)
            except RoomForbidden as exc:
                assert (d.verdict, d.message) == (Verdict.FORBIDDEN, str(exc)), (viewer, g)
            else:
                assert d.sees, (viewer, g)


def test_sql_filter_admits_exactly_what_the_decision_lets_see(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(truncate_all(database_url))
        db = loop.run_until_complete(Database.connect(database_url, min_size=1, max_size=2))
        try:
            user_ids = loop.run_until_complete(_setup_users(db))

            @settings(
                max_examples=60,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            @given(world=st.lists(pitches_st, min_size=1, max_size=6))
            def check(world: list[GenPitch]) -> None:
                loop.run_until_complete(_check_world(db, user_ids, world))

            check()
            # Every combination once, deterministically, besides the generated worlds.
            every = [
                GenPitch(owner, status, vis, nda, tuple(NDA_STATES[(k + j) % 5] for j in range(4)))
                for k, (owner, status, vis, nda) in enumerate(
                    (o, s, v, n)
                    for o in (0, 1)
                    for s in STATUSES
                    for v in VISIBILITIES
                    for n in (False, True)
                )
            ]
            loop.run_until_complete(_check_world(db, user_ids, every))
        finally:
            loop.run_until_complete(db.close())
    finally:
        loop.run_until_complete(truncate_all(database_url))
        loop.close()


# -- the decision's verdicts and wording -------------------------------------------------------

OWNER = Viewer(1, "creator")
CREATOR = Viewer(2, "creator")
INVESTOR = Viewer(3, "investor")
ANON = Viewer()


def _access(
    status: str = "published", visibility: str = "public", *, nda: bool = False, req: bool = False
) -> Access:
    return Access(1, status, visibility, nda, req)


@pytest.mark.parametrize(
    ("access", "viewer", "verdict", "message"),
    [
        (_access(), ANON, Verdict.LOCKED, ""),
        (_access(), CREATOR, Verdict.LOCKED, ""),
        (_access(req=True), OWNER, Verdict.VISIBLE, ""),
        (_access(req=True, nda=True), CREATOR, Verdict.VISIBLE, ""),
        (_access("draft"), OWNER, Verdict.VISIBLE, ""),
        (_access("archived", "private", nda=True), INVESTOR, Verdict.VISIBLE, ""),
        (_access("draft"), CREATOR, Verdict.NOT_FOUND, NOT_FOUND),
        (_access("draft"), ANON, Verdict.NOT_FOUND, NOT_FOUND),
        (_access(visibility="private"), ANON, Verdict.NOT_FOUND, NOT_FOUND),
        (_access(visibility="investors_only"), ANON, Verdict.NOT_FOUND, NOT_FOUND),
        (_access(visibility="private"), INVESTOR, Verdict.FORBIDDEN, PRIVATE),
        (_access(visibility="investors_only"), CREATOR, Verdict.FORBIDDEN, INVESTORS_ONLY),
        (_access(visibility="investors_only"), INVESTOR, Verdict.LOCKED, ""),
        (_access(visibility="investors_only"), Viewer(4, "production"), Verdict.LOCKED, ""),
    ],
)
def test_decision(access: Access, viewer: Viewer, verdict: Verdict, message: str) -> None:
    d = decide(access, viewer)
    assert (d.verdict, d.message) == (verdict, message)
    assert d.sees == (verdict in (Verdict.VISIBLE, Verdict.LOCKED))
    assert d.shows_protected == (verdict is Verdict.VISIBLE)


def test_owner_only_decision() -> None:
    assert decide_owner(_access("draft"), OWNER).verdict is Verdict.VISIBLE
    assert decide_owner(_access(), CREATOR) == decide_owner(_access(nda=True), INVESTOR)
    assert decide_owner(_access(), CREATOR).message == OWNER_ONLY
    assert decide_owner(_access(visibility="private"), CREATOR).message == PRIVATE
    assert decide_owner(_access("draft"), CREATOR).verdict is Verdict.NOT_FOUND


# -- REST and media refuse in the decision's words ----------------------------------------------


async def test_rest_and_media_refuse_in_the_same_words(client, register, expect, auth_headers):
    _, owner = await register(client, "creator")
    _, other = await register(client, "creator")
    _, investor = await register(client, "investor")

    async def pitch(**fields: object) -> int:
        body = {"title": "Access", "status": "published", **fields}
        resp = await client.post("/api/pitches", json=body, headers=auth_headers(owner))
        return int((await expect(resp, 201))["data"]["id"])

    private = await pitch(visibility="private")
    investors = await pitch(visibility="investors_only")
    draft = await pitch(status="draft")
    public = await pitch()

    async def refused(path: str, token: str | None, status: int, message: str, method: str = "GET") -> None:
        headers = auth_headers(token) if token else {}
        body: dict[str, object] | None = {"title": "x"} if method == "PUT" else None
        resp = await client.request(method, path, json=body, headers=headers)
        err = await expect(resp, status)
        assert err["error"]["message"] == message, (path, err)

    for path in ("/api/pitches/{}", "/api/pitches/{}/media"):
        await refused(path.format(private), other, 403, PRIVATE)
        await refused(path.format(private), investor, 403, PRIVATE)
        await refused(path.format(investors), other, 403, INVESTORS_ONLY)
        await refused(path.format(draft), other, 404, NOT_FOUND)
        await refused(path.format(private), None, 404, NOT_FOUND)
        await refused(path.format(investors), None, 404, NOT_FOUND)
    # Only the owner changes a pitch or its media; others are refused in one wording too.
    await refused(f"/api/pitches/{public}", other, 403, OWNER_ONLY, "PUT")
    await refused(f"/api/pitches/{public}/media/1", other, 403, OWNER_ONLY, "DELETE")
    await refused(f"/api/pitches/{private}", other, 403, PRIVATE, "PUT")
    await refused(f"/api/pitches/{private}/media/1", other, 403, PRIVATE, "DELETE")
    await refused(f"/api/pitches/{draft}/media/1", other, 404, NOT_FOUND, "DELETE")
