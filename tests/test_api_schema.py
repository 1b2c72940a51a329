"""Schemathesis against the live OpenAPI document: every route, generated and mutated inputs
(bad ones included), for each portal's token and anonymously. No answer may be a 5xx, and every
answer must match the schema the document declares for it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_foundation_ops import child_env, free_port, http, pitchey_cmd

PORTALS = ("creator", "investor", "production")


def schemathesis_cmd() -> list[str]:
    """This interpreter's schemathesis (a dev dependency), never whatever is first on PATH."""
    return [sys.executable, "-m", "schemathesis.cli"]


@pytest.fixture
def live_server(clean_db, tmp_path):
    port = free_port()
    logs = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [*pitchey_cmd(), "serve", "--port", str(port)],
        env=child_env(
            PITCHEY_DATA_DIR=str(tmp_path / "data"),
            DATABASE_URL=clean_db,
            PITCHEY_ARGON2_PROFILE="cheapest",
            PITCHEY_AUTH_IP_LIMIT="100000/minute",
            PITCHEY_WRITE_IP_LIMIT="100000/minute",
            PITCHEY_WRITE_USER_LIMIT="100000/minute",
            PITCHEY_LOG_LEVEL="WARNING",
        ),
        stdout=logs,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    import time

    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "server exited early"
        try:
            if http("GET", base + "/health")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.1)
    yield base, logs
    proc.terminate()
    proc.wait(20)
    logs.close()


def test_no_5xx_and_every_answer_matches_the_schema(live_server):
    base, logs = live_server
    tokens = {}
    for portal in PORTALS:
        status, body = http(
            "POST",
            f"{base}/api/auth/{portal}/register",
            {"email": f"st-{portal}@example.com", "password": "password-123"},
        )
        assert status == 201, body
        tokens[portal] = body["data"]["token"]
    # A published pitch so routes with ids have something real to reach.
    status, body = http(
        "POST",
        f"{base}/api/pitches",
        {"title": "Schema", "status": "published", "genre": "Drama"},
        {"Authorization": f"Bearer {tokens['creator']}"},
    )
    assert status == 201, body
    runs = [[f"Authorization: Bearer {tokens[p]}"] for p in PORTALS] + [[]]
    for headers in runs:
        cmd = [
            *schemathesis_cmd(),
            "run",
            f"{base}/api/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            "8",
            "--seed",
            "7",
            "--request-timeout",
            "15",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
        ]
        for h in headers:
            cmd += ["-H", h]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        logs.seek(0)
        assert result.returncode == 0, (
            f"schemathesis found failures ({headers[:1] and headers[0][:40]}):\n"
            f"{result.stdout[-6000:]}\n--- server log\n{logs.read()[-4000:]}"
        )
