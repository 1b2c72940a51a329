"""A value that passes validation but PostgreSQL refuses is the caller's error, never a 500.

Validation is meant to refuse everything the database would (tests/test_hostile_input.py); this
is the net under it. The tests add a constraint the API does not know about to the real schema,
then send a request that passes validation and breaks it: the answer is the envelope with a stable
code (422 for a refused value, 409 for a conflict with a stored row), the log line names the
SQLSTATE and the constraint but not the value, and the next request is served normally.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
import pytest
from conftest import expect_envelope
from realtime_helpers import bearer, make_pitch, user

SECRET_TITLE = "Refused title 7f3a"


@pytest.fixture
async def constrained(db_conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    # Constraints the API's schemas know nothing of; dropped again whatever the test does (the
    # schema is shared by every test of the session).
    await db_conn.execute(
        f"ALTER TABLE pitches ADD CONSTRAINT test_refused_title CHECK (title <> '{SECRET_TITLE}') NOT VALID"
    )
    await db_conn.execute(
        "CREATE UNIQUE INDEX test_unique_logline ON pitches (logline) WHERE logline LIKE 'dup %'"
    )
    try:
        yield db_conn
    finally:
        await db_conn.execute("ALTER TABLE pitches DROP CONSTRAINT IF EXISTS test_refused_title")
        await db_conn.execute("DROP INDEX IF EXISTS test_unique_logline")


async def test_a_value_the_database_refuses_is_422_and_a_duplicate_409(make_client, constrained, caplog):
    client = await make_client()
    _, token = await user(client, "creator")
    caplog.set_level(logging.WARNING, logger="pitchey")

    resp = await client.post(
        "/api/pitches",
        json={"title": SECRET_TITLE, "status": "published", "visibility": "public"},
        headers=bearer(token),
    )
    body = await expect_envelope(resp, 422, "VALIDATION_ERROR")
    assert "refused" in body["error"]["message"]
    line = next(r.getMessage() for r in caplog.records if "database refused" in r.getMessage())
    assert "sqlstate=23514" in line and "constraint=test_refused_title" in line
    assert SECRET_TITLE not in caplog.text  # the value may be private: never logged

    first = await make_pitch(client, token, title="First", logline="dup line")
    assert first["id"] > 0
    resp = await client.post(
        "/api/pitches",
        json={"title": "Second", "logline": "dup line", "status": "published", "visibility": "public"},
        headers=bearer(token),
    )
    await expect_envelope(resp, 409, "CONFLICT")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    # Nothing half-written, and the server goes on.
    assert await constrained.fetchval("SELECT count(*) FROM pitches") == 1
    assert (await make_pitch(client, token, title="Third"))["title"] == "Third"
