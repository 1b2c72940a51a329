"""schemathesis against the live OpenAPI document, with ALL its checks (not only "no 5xx"): every
route, generated and mutated inputs (bad ones included), for each portal's token and anonymously.

What must hold, check by check (`--checks all`): no 5xx; every status, body, content type and
header the document declares (`status_code_conformance`, `response_schema_conformance`, ...); a
request the schema refuses is refused (`negative_data_rejection`) and one it allows is not answered
422/400 (`positive_data_acceptance`: the document carries every limit the server enforces); an
undeclared method is 405 with an exact `Allow`; no auth is ignored; a deleted object is gone.

How the run reaches the handlers:
- the server runs with the write and auth limits raised, so generated writes are not all 429;
- objects exist before the run (`seed`): pitches (public, NDA-protected, draft), NDAs, follows,
  messages, a project with an expense, a resource with a booking... with small ids that the
  generated ids hit, and the stateful phase follows the links schemathesis infers from the
  document (a created pitch's id into `GET /api/pitches/{id}`, ...);
- each signed-in run skips `POST /api/auth/logout` (it would revoke the run's own token; the
  anonymous run covers it).

Deterministic: `--generation-deterministic` (the same cases every run, no example database), one
worker. Bounded: `MAX_EXAMPLES` per operation in the examples/coverage/fuzzing run, then the
stateful run (about five minutes for the four portals on a busy 2-core machine).
`SCHEMATHESIS_MAX_EXAMPLES=50 pytest tests/test_api_schema.py` runs a deeper sweep.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_foundation_ops import child_env, free_port, http, pitchey_cmd

PORTALS = ("creator", "investor", "production")
PASSWORD = "password-123"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"))
STATEFUL_EXAMPLES = 300
CONFIG = Path(__file__).with_name("schemathesis.toml")
RAISED = "1000000/minute"


def schemathesis_cmd() -> list[str]:
    """This interpreter's schemathesis (a dev dependency), never whatever is first on PATH."""
    return [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG)]


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
            # Raised for the run: generated writes must reach the handlers, not the limiter.
            PITCHEY_AUTH_IP_LIMIT=RAISED,
            PITCHEY_LOGIN_FAILURE_LIMIT=RAISED,
            PITCHEY_WRITE_IP_LIMIT=RAISED,
            PITCHEY_WRITE_USER_LIMIT=RAISED,
            PITCHEY_LOG_LEVEL="WARNING",
        ),
        stdout=logs,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
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


class Seeder:
    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def call(self, who: str | None, method: str, path: str, body: dict | None = None, ok=(200, 201)) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        status, answer = http(method, self.base + path, body, headers)
        assert status in ok, (method, path, status, answer)
        return answer["data"]

    def register(self, name: str, portal: str) -> int:
        data = self.call(
            None,
            "POST",
            f"/api/auth/{portal}/register",
            {"email": f"st-{name}@example.com", "password": PASSWORD, "name": f"Seed {name}"},
        )
        self.tokens[name] = data["token"]
        return int(data["user"]["id"])


def seed(base: str) -> dict[str, str]:
    """Objects for the generated ids to find (the first ids of each table), made through the API."""
    s = Seeder(base)
    ids = {
        name: s.register(name, portal)
        for name, portal in (
            ("creator", "creator"),
            ("investor", "investor"),
            ("production", "production"),
            ("creator2", "creator"),
            ("production2", "production"),
        )
    }
    public = s.call(
        "creator",
        "POST",
        "/api/pitches",
        {"title": "Public", "status": "published", "genre": "Drama", "budget": "1250.00", "logline": "L"},
    )["id"]
    protected = s.call(
        "creator",
        "POST",
        "/api/pitches",
        {"title": "Protected", "status": "published", "genre": "Drama", "requireNda": True, "synopsis": "S"},
    )["id"]
    s.call("creator", "POST", "/api/pitches", {"title": "Draft"})
    s.call("creator2", "POST", "/api/pitches", {"title": "Other", "status": "published", "genre": "Comedy"})
    # NDAs: one approved (production), one pending (investor).
    approved = s.call("production", "POST", "/api/ndas/request", {"pitchId": protected})["id"]
    s.call("creator", "POST", f"/api/ndas/{approved}/approve", {})
    s.call("investor", "POST", "/api/ndas/request", {"pitchId": protected, "message": "Please"})
    # Follows, likes, saves, messages (and the notifications they cause).
    s.call("investor", "POST", "/api/follows", {"userId": ids["creator"]})
    s.call("creator", "POST", "/api/follows", {"userId": ids["investor"]})
    s.call("production", "POST", "/api/follows", {"userId": ids["creator"]})
    s.call("investor", "POST", f"/api/pitches/{public}/like", {})
    s.call("investor", "POST", f"/api/pitches/{public}/save", {})
    s.call("investor", "POST", "/api/messages/send", {"recipientId": ids["creator"], "content": "Hello"})
    s.call("creator", "POST", "/api/messages/send", {"recipientId": ids["investor"], "content": "Hi"})
    s.call("investor", "POST", "/api/investments/create", {"pitchId": public, "amount": "100.00"})
    # Production: a project with a budget line and an expense, a resource booked on it, a team.
    project = s.call(
        "production",
        "POST",
        "/api/production/projects",
        {
            "title": "Project",
            "pitchId": public,
            "budget": "5000.00",
            "budgetLines": [{"category": "Equipment", "allocated": "1000.00"}],
        },
    )
    line = project["budgetLines"][0]["id"]
    project = project["id"]
    s.call(
        "production",
        "POST",
        f"/api/production/projects/{project}/expenses",
        {"budgetLineId": line, "amount": "10.00"},
    )
    resource = s.call(
        "production",
        "POST",
        "/api/production/resources",
        {"name": "Camera", "kind": "equipment", "costPerDay": "100.00"},
    )["id"]
    s.call(
        "production",
        "POST",
        f"/api/production/resources/{resource}/allocations",
        {"projectId": project, "startDate": "2027-01-04", "endDate": "2027-01-08"},
    )
    s.call(
        "production",
        "POST",
        "/api/production/team",
        {"email": "st-production2@example.com", "role": "viewer"},
    )
    return s.tokens


def summary(output: str) -> str:
    """The run's figures: cases generated, failures per check."""
    lines = [
        line for line in output.splitlines() if re.search(r"generated|❌|🚫|failures?,|passed in|Seed:", line)
    ]
    return "\n".join(lines[-20:])


def run_schemathesis(
    base: str, headers: list[str], exclude: list[str], *, phases: str, max_examples: int
) -> subprocess.CompletedProcess[str]:
    cmd = [
        *schemathesis_cmd(),
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-examples",
        str(max_examples),
        "--generation-deterministic",  # the same cases every run (and no example database)
        "--workers",
        "1",
        "--request-timeout",
        "15",
        "--no-color",
    ]
    for h in headers:
        cmd += ["-H", h]
    for path in exclude:
        cmd += ["--exclude-path", path]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("portal", ["anonymous", *PORTALS])
def test_every_check_passes(live_server, portal):
    base, logs = live_server
    tokens = seed(base)
    if portal == "anonymous":
        headers: list[str] = []
        exclude: list[str] = []
    else:
        headers = [f"Authorization: Bearer {tokens[portal]}"]
        exclude = ["/api/auth/logout"]
    # Two runs: the per-operation phases with few examples each (the coverage phase alone sends
    # every boundary and mutation it derives), then the stateful phase with many: its scenarios
    # are chains along the links it infers (a created pitch's id into the calls that take one),
    # cheap, and they stop once nothing new is found.
    for phases, examples in (("examples,coverage,fuzzing", MAX_EXAMPLES), ("stateful", STATEFUL_EXAMPLES)):
        result = run_schemathesis(base, headers, exclude, phases=phases, max_examples=examples)
        print(f"schemathesis ({portal}, {phases}):\n{summary(result.stdout)}")
        logs.seek(0)
        assert result.returncode == 0, (
            f"schemathesis found failures ({portal}, {phases}):\n{result.stdout[-12000:]}\n"
            f"--- stderr\n{result.stderr[-2000:]}\n--- server log\n{logs.read()[-4000:]}"
        )


async def test_a_multipart_part_header_the_parser_refuses_is_400(make_client, register, auth_headers):
    """Found by the run above: a control byte in a part's name made aiohttp's multipart parser
    raise past the upload handlers (500); it is a malformed body (400), for media and avatars."""
    client = await make_client()
    _, token = await register(client, "creator")
    resp = await client.post("/api/pitches", json={"title": "T"}, headers=auth_headers(token))
    pitch = (await resp.json())["data"]["id"]
    body = b'--b\r\nContent-Disposition: form-data; name="\x06\n"\r\n\r\nx\r\n--b--\r\n'
    headers = {**auth_headers(token), "Content-Type": "multipart/form-data; boundary=b"}
    for method, path in (("POST", f"/api/pitches/{pitch}/media"), ("PUT", "/api/user/avatar")):
        resp = await client.request(method, path, data=body, headers=headers)
        assert resp.status == 400, (path, await resp.text())
        error = (await resp.json())["error"]
        assert (error["code"], error["message"][:9]) == ("VALIDATION_ERROR", "Malformed")


# -- the routing and HTTP rules the run relies on, pinned one by one (fast, no schemathesis) ----


async def test_static_routes_win_for_every_method_and_405_says_allow(make_client, register, expect):
    client = await make_client()
    _, token = await register(client, "creator")
    hdr = {"Authorization": f"Bearer {token}"}
    for method, path, allow in (
        ("PUT", "/api/pitches/browse", "GET,HEAD"),
        ("DELETE", "/api/pitches/trending", "GET,HEAD"),
        ("PUT", "/api/messages/send", "POST"),
        ("DELETE", "/api/follows/followers", "GET,HEAD"),
        ("OPTIONS", "/api/production/team/projects", "GET,HEAD"),
    ):
        resp = await client.request(method, path, headers=hdr, json={"title": "x"})
        await expect(resp, 405, "METHOD_NOT_ALLOWED")
        assert resp.headers["Allow"] == allow, (method, path, resp.headers.get("Allow"))


async def test_a_path_id_is_ascii_digits_in_bigint_range_else_404(make_client, register, expect):
    client = await make_client()
    _, token = await register(client, "creator")
    hdr = {"Authorization": f"Bearer {token}"}
    for raw in ("abc", "0", "-1", "1.0", "%D9%A1", str(2**63), "9" * 40):
        for method in ("GET", "PUT", "DELETE"):
            resp = await client.request(method, f"/api/pitches/{raw}", headers=hdr, json={"title": "x"})
            await expect(resp, 404, "NOT_FOUND")
    resp = await client.get(f"/api/pitches/{2**63 - 1}", headers=hdr)
    await expect(resp, 404, "NOT_FOUND")  # in range: an id that names nothing


async def test_bodies_need_json_content_type_and_required_ones_are_not_empty(make_client, register, expect):
    client = await make_client()
    _, token = await register(client, "creator")
    hdr = {"Authorization": f"Bearer {token}"}
    for ctype in ("", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded"):
        resp = await client.post(
            "/api/pitches", data=b'{"title": "T"}', headers={**hdr, "Content-Type": ctype}
        )
        await expect(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    resp = await client.post(  # no Content-Type header at all
        "/api/pitches", data=b'{"title": "T"}', headers=hdr, skip_auto_headers=["Content-Type"]
    )
    await expect(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    resp = await client.post(
        "/api/pitches",
        data=b'{"title": "T"}',
        headers={**hdr, "Content-Type": "application/json; charset=utf-8"},
    )
    await expect(resp, 201)
    # Required body, none sent: 422 naming the field; a body-less write (a like) takes none.
    resp = await client.post("/api/pitches", headers=hdr)
    body = await expect(resp, 422, "VALIDATION_ERROR")
    assert body["error"]["details"][0]["field"] == "title"
    resp = await client.put(f"/api/pitches/{2**40}", headers=hdr)
    await expect(resp, 422, "VALIDATION_ERROR")  # "send at least one field": minProperties 1
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["paths"]["/api/pitches"]["post"]["requestBody"]["required"] is True
    assert doc["paths"]["/api/pitches/{id}/like"]["post"]["requestBody"]["required"] is False
    assert doc["components"]["schemas"]["PitchUpdate"]["minProperties"] == 1


async def test_a_repeated_follow_answers_a_declared_status(make_client, register, expect):
    client = await make_client()
    _, token = await register(client, "investor")
    creator, _ = await register(client, "creator")
    hdr = {"Authorization": f"Bearer {token}"}
    first = await expect(await client.post("/api/follows", json={"userId": creator["id"]}, headers=hdr), 201)
    again = await expect(await client.post("/api/follows", json={"userId": creator["id"]}, headers=hdr), 200)
    assert (first["data"]["created"], again["data"]["created"]) == (True, False)
    doc = await (await client.get("/api/openapi.json")).json()
    assert {"200", "201", "403", "404"} <= set(doc["paths"]["/api/follows"]["post"]["responses"])
