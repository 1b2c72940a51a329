"""`pitchey record` and `pitchey replay` against real `pitchey serve` processes (docs/replay.md).

1. A live room recorded on one server, replayed on another: the report's counts equal the file's,
   0 gaps, 0 duplicates; the same traffic recorded from the database.
2. A replay spread over two nodes on Redis: 0 gaps, 0 duplicates.
3. The synthetic launch profile at small scale, over two worker processes; JSON and HTML reports.
4. Refusals: a malformed file (with its line), a newer version, a path that is a URL, an unreachable
   server and a refused login or token (exit 2).
5. The stream-to-tasks logic the Locust file runs on, without Locust.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fault_helpers import Node, NodeSet, Rest, free_port, node_env, open_ws

from pitchey.loadtest import synthetic
from pitchey.loadtest.record import record_live
from pitchey.loadtest.stream import VERSION, StreamError, parse_stream, read_stream, write_stream
from pitchey.loadtest.tasks import actor_plans, nda_created, nda_wanted, resolve

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[NodeSet]:
    ns = NodeSet(tmp_path / "logs")
    yield ns
    ns.kill_all()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def pitchey(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str, str]:
    """Run the real CLI in a child process; (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pitchey.server.cli",
        *args,
        cwd=ROOT,
        env=env or {k: v for k, v in os.environ.items() if not k.startswith("PITCHEY_")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def replay(*args: str, report: Path) -> dict[str, Any]:
    code, out, err = await pitchey("replay", *args, "--quiet", "--report", str(report), "--settle", "2")
    assert code == 0, f"exit {code}\n{out}\n{err}"
    return load(report)


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def assert_clean(report: dict[str, Any]) -> None:
    assert report["correctness"]["gaps"] == 0, report["correctness"]
    assert report["correctness"]["duplicates"] == 0, report["correctness"]
    assert report["actions"]["sent"] == report["actions"]["planned"], report["actions"]
    assert report["actions"]["acked"] == report["actions"]["sent"], (report["actions"], report["errors"])
    assert report["errors"] == {}, report["errors"]


async def start(nodes: NodeSet, name: str, dsn: str, tmp_path: Path, redis_url: str | None = None) -> Node:
    node = nodes.add(name, node_env(dsn, tmp_path / f"data-{name}", redis_url))
    await nodes.start(node)
    return node


async def test_a_live_room_recorded_on_one_server_replays_on_another(fresh_database, nodes, http, tmp_path):
    source, target = await asyncio.gather(fresh_database(), fresh_database())
    a = await start(nodes, "a", source, tmp_path)
    b = await start(nodes, "b", target, tmp_path)
    rest = Rest(http)
    _, creator = await rest.register(a.base, "creator")
    pitch = await rest.pitch(a.base, creator)
    _, observer = await rest.register(a.base, "investor")
    investors = [await rest.register(a.base, "investor") for _ in range(3)]

    stop, ready = asyncio.Event(), asyncio.Event()
    recording = asyncio.create_task(
        record_live(a.base, observer, [f"pitch:{pitch}"], 60, stop=stop, ready=ready)
    )
    await asyncio.wait_for(ready.wait(), 15)  # the observer is subscribed
    sockets = []
    for i, (_, token) in enumerate(investors):
        ws = await open_ws(http, a.ws_url, token)
        sockets.append(ws)
        await ws.send_json({"type": "subscribe", "room": f"pitch:{pitch}", "id": "s"})
        await ws.send_json(
            {"type": "message", "room": f"pitch:{pitch}", "id": "m", "data": {"text": f"hi {i}"}}
        )
        status, _ = await rest.call("GET", f"{a.base}/api/pitches/{pitch}", token)
        assert status == 200
        if i < 2:
            status, _ = await rest.call("POST", f"{a.base}/api/pitches/{pitch}/like", token, json={})
            assert status == 200
    await asyncio.sleep(2.0)  # every event reached the observer (generous: a busy shared machine)
    for ws in sockets:
        await ws.close()
    await asyncio.sleep(0.5)
    stop.set()
    stream = await recording

    counts = stream.counts()
    assert counts["message"] == 3 and counts["like"] == 2 and counts["view"] == 3, counts
    assert counts["connect"] == counts["disconnect"] == 3 and counts["subscribe"] == 3, counts
    path = tmp_path / "live.jsonl"
    write_stream(stream, path)
    text = path.read_text()
    assert "@" not in text and "hi 0" not in text  # no email, message texts replaced by filler
    assert read_stream(path).counts() == counts

    report = await replay(str(path), "--url", b.base, "--speed", "max", report=tmp_path / "r.json")
    assert_clean(report)
    assert {k: v["sent"] for k, v in report["actions"]["byKind"].items()} == counts
    # Every subscriber saw every event of the room while it was in it.
    assert report["deliveries"]["total"] > 0 and report["sessions"]["opened"] == 3

    # The same traffic, from the database (found as `pitchey serve` finds it: DATABASE_URL).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PITCHEY_")}
    env.update(DATABASE_URL=source, PITCHEY_DATA_DIR=str(tmp_path / "data-a"))
    code, _, err = await pitchey("record", "--from-db", "-o", str(tmp_path / "db.jsonl"), env=env)
    assert code == 0, err
    from_db = read_stream(tmp_path / "db.jsonl")
    db_counts = from_db.counts()
    assert db_counts["message"] == 3 and db_counts["like"] == 2 and db_counts["view"] == 3, db_counts
    assert "@" not in (tmp_path / "db.jsonl").read_text()
    report = await replay(
        str(tmp_path / "db.jsonl"), "--url", b.base, "--speed", "max", report=tmp_path / "d.json"
    )
    assert_clean(report)


async def test_a_replay_over_two_nodes_on_redis_has_no_gap(fresh_database, redis_url, nodes, tmp_path):
    dsn = await fresh_database()
    env = node_env(dsn, tmp_path / "data", redis_url)
    one, two = nodes.add("one", env), nodes.add("two", env)
    await nodes.start(one, two)
    stream = synthetic.chat(investors=12, duration=4, pitches=2)
    write_stream(stream, tmp_path / "chat.jsonl")
    report = await replay(
        str(tmp_path / "chat.jsonl"),
        "--url",
        f"{one.base},{two.base}",
        "--speed",
        "2x",
        report=tmp_path / "r.json",
    )
    assert_clean(report)
    # Each room's subscribers sat on both nodes and all saw every message.
    assert report["deliveries"]["total"] >= stream.counts()["message"] * 6

    # Node two stops (SIGTERM: 1012) halfway through a replay: its sessions move to node one and
    # recover every room with since/epoch; still no gap, no duplicate.
    slow = synthetic.chat(investors=12, duration=8, pitches=2, seed=2)
    write_stream(slow, tmp_path / "slow.jsonl")
    run = asyncio.create_task(
        pitchey(
            "replay", str(tmp_path / "slow.jsonl"), "--url", f"{one.base},{two.base}", "--quiet",
            "--report", str(tmp_path / "k.json"), "--settle", "2",
        )
    )  # fmt: skip
    await asyncio.sleep(4.0)
    two.terminate()
    code, out, err = await run
    assert code == 0, f"{out}\n{err}"
    report = load(tmp_path / "k.json")
    assert report["correctness"]["gaps"] == 0 and report["correctness"]["duplicates"] == 0, report
    assert report["closeCodes"].get("1012", 0) >= 1 and report["reconnects"] >= 1, report
    assert report["recoveries"] == {"recovered": report["reconnects"], "unrecovered": 0}, report


async def test_the_synthetic_launch_profile_at_small_scale(fresh_database, nodes, tmp_path):
    node = await start(nodes, "solo", await fresh_database(), tmp_path)
    html = tmp_path / "r.html"
    report = await replay(
        "--synthetic", "launch", "--investors", "20", "--duration", "6", "--speed", "3x",
        "--scale", "2", "--workers", "2", "--url", node.base, "--html", str(html),
        report=tmp_path / "r.json",
    )  # fmt: skip
    assert_clean(report)
    planned = len(synthetic.launch(investors=20, duration=6).actions) * 2
    assert report["actions"]["planned"] == planned and report["workers"] == 2
    assert report["sessions"]["opened"] == 2 * 21
    assert report["latencyMs"]["count"] == report["deliveries"]["total"] > 0
    assert 0 < report["latencyMs"]["p50"] <= report["latencyMs"]["p99"] <= report["latencyMs"]["max"]
    assert report["timeline"] and report["schema"] == "pitchey-replay-report"
    page = html.read_text()
    assert page.count("<svg") == 2 and "<script" not in page and 'src="http' not in page  # self-contained

    # Ctrl-C (SIGINT) halfway: the run stops cleanly and still writes its report.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pitchey.server.cli", "replay", "--synthetic", "launch", "--investors", "10",
        "--duration", "60", "--url", node.base, "--quiet", "--report", str(tmp_path / "int.json"),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await asyncio.sleep(4.0)  # on a busy machine the setup may still be running: stopping works then too
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    stopped = load(tmp_path / "int.json")
    assert stopped["interrupted"] is True and stopped["actions"]["sent"] < stopped["actions"]["planned"]
    assert stopped["correctness"]["gaps"] == 0 and b"interrupted" in out

    # A refused login: a token file whose tokens the server does not accept.
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({a: "not-a-token" for a in ("c1", *(f"i{i}" for i in range(1, 4)))}))
    small = tmp_path / "small.jsonl"
    write_stream(synthetic.launch(investors=3, duration=2), small)
    code, _, err = await pitchey("replay", str(small), "--url", node.base, "--tokens", str(tokens), "--quiet")
    assert code == 2 and "login refused" in err, err
    # And an observer whose token is refused.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PITCHEY_")}
    env["PITCHEY_TOKEN"] = "not-a-token"
    code, _, err = await pitchey(
        "record", "--url", node.base, "--rooms", "pitch:1", "-o", str(tmp_path / "x"), env=env
    )
    assert code == 2 and "refused PITCHEY_TOKEN" in err, err


def _file(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def act(t: float = 0, **what: Any) -> dict[str, Any]:
    return {"t": t, "actor": "i1", **what}


HEADER = {
    "format": "pitchey-stream",
    "version": VERSION,
    "source": "test",
    "startedAt": "2026-12-01T00:00:00Z",
    "actors": [{"alias": "c1", "portal": "creator"}, {"alias": "i1", "portal": "investor"}],
    "pitches": [{"alias": "p1", "owner": "c1"}],
}


@pytest.mark.parametrize(
    ("lines", "line", "reason"),
    [
        ([HEADER, {"t": 0, "actor": "i1", "session": "connect"}, "{not json"], 3, "not valid JSON"),
        ([{**HEADER, "version": VERSION + 1}], 1, f"format version {VERSION + 1} is newer"),
        ([{**HEADER, "format": "other"}], 1, "not a stream file"),
        ([HEADER, {"t": 0, "actor": "zz", "session": "connect"}], 2, "unknown actor"),
        ([HEADER, act(2, session="connect"), act(1, session="disconnect")], 3, "time goes backwards"),
        (
            [HEADER, act(rest={"method": "GET", "path": "http://evil.example/api/pitches/{p1}"})],
            2,
            "never URLs",
        ),
        (
            [HEADER, act(rest={"method": "POST", "path": "/api/auth/logout"})],
            2,
            "not a call the replayer makes",
        ),
        ([HEADER, act(ws={"type": "subscribe", "room": "pitch:{p9}"})], 2, "unknown pitch"),
        ([HEADER, act(ws={"type": "message", "room": "pitch:{p1}", "data": {"text": ""}})], 2, "1-4000"),
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_reason(tmp_path, lines, line, reason):
    with pytest.raises(StreamError) as err:
        read_stream(_file(tmp_path, *lines))
    assert err.value.line == line and reason in err.value.reason, str(err.value)


async def test_the_cli_refuses_bad_input_with_exit_2(tmp_path):
    bad = _file(tmp_path, HEADER, "[1, 2]")
    code, _, err = await pitchey("replay", str(bad), "--url", "http://127.0.0.1:9")
    assert code == 2 and "line 2" in err and "JSON object" in err, err
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({**HEADER, "version": 99}) + "\n")
    code, _, err = await pitchey("replay", str(newer), "--url", "http://127.0.0.1:9")
    assert code == 2 and "line 1" in err and "newer" in err, err
    good = tmp_path / "good.jsonl"
    write_stream(synthetic.launch(investors=2, duration=2), good)
    code, _, err = await pitchey("replay", str(good), "--url", f"http://127.0.0.1:{free_port()}", "--quiet")
    assert code == 2 and "cannot reach" in err, err
    code, _, err = await pitchey("replay", str(good), "--url", "http://127.0.0.1:9/api/other")
    assert code == 2 and "--url" in err, err


def test_the_stream_becomes_per_actor_tasks_for_locust():
    stream = synthetic.launch(investors=40, duration=10, seed=3)
    plans = actor_plans(stream, speed=10)
    assert plans[0].alias == "c1" and plans[0].owns == ["p1"]  # owners first: pitches exist first
    assert sum(len(p.steps) for p in plans) == len(stream.actions)
    for p in plans:
        assert [s.at for s in p.steps] == sorted(s.at for s in p.steps)
        assert all(s.action.actor == p.alias for s in p.steps)
        assert p.steps[0].action.kind == "connect" or p.alias == "c1"
    assert max(s.at for p in plans for s in p.steps) == pytest.approx(stream.duration / 10)
    created = {nda_created(a) for a in stream.actions} - {None}
    wanted = {nda_wanted(a) for a in stream.actions} - {None}
    assert wanted and wanted == created  # every decision waits for a request in the stream
    ids = {w: 100 + n for n, w in enumerate(sorted(created))}  # type: ignore[arg-type]
    decision = next(a for a in stream.actions if nda_wanted(a))
    call = resolve(decision, {"p1": 7}, ids)
    assert call.kind == "rest" and call.method == "POST"
    assert call.path == f"/api/ndas/{ids[nda_wanted(decision)]}/{decision.name.removeprefix('nda_')}"
    request = next(a for a in stream.actions if a.name == "nda_request")
    assert resolve(request, {"p1": 7}).body == {"pitchId": 7, "message": "Requesting access for the replay"}
    message = next(a for a in stream.actions if a.name == "message")
    frame = json.loads(resolve(message, {"p1": 7}, command_id="x.1").frame or b"")
    assert frame["type"] == "message" and frame["room"] == "pitch:7" and frame["id"] == "x.1"
    with pytest.raises(KeyError):
        resolve(message, {})


def test_synthetic_profiles_parse_back(tmp_path):
    for name, make in synthetic.PROFILES.items():
        stream = make(investors=15, duration=8)
        write_stream(stream, tmp_path / f"{name}.jsonl")
        again = read_stream(tmp_path / f"{name}.jsonl")
        assert again.counts() == stream.counts() and again.header.source == f"synthetic:{name}"
    with pytest.raises(StreamError):
        parse_stream([b""])
