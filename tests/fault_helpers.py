"""Machinery for the fault tests (tests/test_faults.py): real `pitchey serve` processes, real
clients, and the checker that decides whether a room's stream survived a fault intact.

`Node`          one `pitchey serve` subprocess (own session, stdout/stderr in files), started
                with the environment of `node_env`; `wait_healthy`, `kill` (SIGKILL), `terminate`
                (SIGTERM), `wait_exit`, and `tail()` of its logs for assertion messages.
`NodeSet`       the nodes of one test, so a fixture can kill every one of them in teardown and
                `logs()` can show all their tails when an assertion fails.
`Rest`          a small aiohttp client for the REST calls the tests need (register, pitch, ...).
`RoomClient`    a WebSocket client subscribed to one room that records every sequenced room
                frame and every `subscribed` answer, and, when its socket closes, reconnects to
                the next node of its list and re-subscribes with `since=<last seq>` and the epoch,
                as docs/protocol.md tells clients to. It can also post messages and collect acks.
`check_streams` the checker: per client, seqs strictly +1 with no gap or duplicate across
                reconnects; the same (seq, type, data) at every seq on every client; every acked
                message seen by every client at its acked seq.
`SeparatePostgres`  an embedded PostgreSQL of the test's own (pgserver), stopped and started
                again with pg_ctl, so the session's server is never touched.

Everything waits with a deadline; nothing sleeps and hopes. Only loopback addresses are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import WSMsgType

from pitchey.protocol import decode_event

SUBPROTOCOL = "pitchey.v1"
GENEROUS = "100000/minute"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_env(database_url: str, data_dir: Path, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a node: this process's, minus any operator settings, plus the test's.

    Generous limits (the tests measure faults, not rate limiting), a short database timeout so
    an unreachable database shows within the tests' bounds, one shared data dir (the JWT secret
    file lives there, so a token from one node works on every node).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PITCHEY_") and k not in ("DATABASE_URL", "JWT_SECRET", "REDIS_URL")
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "PITCHEY_DATA_DIR": str(data_dir),
            "PITCHEY_ARGON2_PROFILE": "cheapest",
            "PITCHEY_AUTH_IP_LIMIT": GENEROUS,
            "PITCHEY_LOGIN_FAILURE_LIMIT": GENEROUS,
            "PITCHEY_WRITE_IP_LIMIT": GENEROUS,
            "PITCHEY_WRITE_USER_LIMIT": GENEROUS,
            "PITCHEY_WS_RATE": "1000",
            "PITCHEY_WS_BURST": "1000",
            "PITCHEY_DB_TIMEOUT": "2",
            "PITCHEY_DB_POOL_MIN": "1",
            "PITCHEY_DB_POOL_MAX": "8",
            "PITCHEY_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def tail_file(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no file)"
    return "\n".join(text.splitlines()[-lines:])


class Node:
    """One `pitchey serve` process on a free loopback port; its output goes to files."""

    def __init__(self, name: str, env: dict[str, str], logs: Path, port: int | None = None) -> None:
        self.name = name
        self.env = env
        self.logs = logs
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.stdout_path = logs / f"{name}.out"
        self.stderr_path = logs / f"{name}.err"

    def start(self) -> Node:
        """Start (or restart, same port, logs appended) the process."""
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is running"
        self.runs += 1
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            marker = f"\n===== {self.name} run {self.runs} =====\n".encode()
            out.write(marker)
            err.write(marker)
            out.flush()
            err.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pitchey.server.cli", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C of pytest does not reach it; we stop it
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        return (
            f"--- {self.name} stderr (tail)\n{tail_file(self.stderr_path, lines)}\n"
            f"--- {self.name} stdout (tail)\n{tail_file(self.stdout_path, 10)}"
        )

    async def wait_healthy(self, timeout: float = 40.0) -> float:
        """Poll /health until 200; the seconds it took. Fails early if the process exits."""
        started = time.monotonic()
        deadline = started + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise AssertionError(
                        f"{self.name} exited with {self.proc and self.proc.returncode}\n{self.tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                    async with http.get(
                        self.base + "/health", timeout=aiohttp.ClientTimeout(total=2)
                    ) as resp:
                        if resp.status == 200:
                            return time.monotonic() - started
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not healthy within {timeout}s\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL (as a crash): no close frames, no cleanup, sockets reset by the kernel."""
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self) -> None:
        """SIGTERM: the graceful stop of `pitchey serve`."""
        assert self.proc is not None and self.alive(), f"{self.name} is not running"
        self.proc.send_signal(signal.SIGTERM)

    async def wait_exit(self, timeout: float) -> int:
        """The exit code, waited for without blocking the loop; fails after `timeout`."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} still running {timeout}s later\n{self.tail()}")
            await asyncio.sleep(0.05)
        return int(self.proc.returncode)


class NodeSet:
    """The nodes of one test: started together, all killed at teardown, logs for failures."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.nodes: list[Node] = []

    def add(self, name: str, env: dict[str, str]) -> Node:
        node = Node(name, env, self.logs)
        self.nodes.append(node)
        return node

    async def start(self, *nodes: Node, timeout: float = 40.0) -> None:
        """Start nodes at once (the first migrates, the others wait on its advisory lock)."""
        for n in nodes:
            n.start()
        await asyncio.gather(*(n.wait_healthy(timeout) for n in nodes))

    def logs_text(self, lines: int = 40) -> str:
        return "\n".join(n.tail(lines) for n in self.nodes)

    def kill_all(self) -> None:
        for n in self.nodes:
            with contextlib.suppress(Exception):
                n.kill()


# ------------------------------------------------------------------------------------------
# REST
# ------------------------------------------------------------------------------------------


class Rest:
    """The REST calls of the fault tests, over one aiohttp session (no cookies kept)."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self._n = 0

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        method: str,
        url: str,
        token: str | None = None,
        json: Any = None,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        h = {**(self.auth(token) if token else {}), **(headers or {})}
        async with self.http.request(
            method, url, json=json, headers=h, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            body = await resp.json(content_type=None)
            return resp.status, body

    async def register(self, base: str, portal: str = "creator") -> tuple[int, str]:
        """(user id, token) of a new account of `portal`."""
        self._n += 1
        email = f"{portal}{self._n}-{os.urandom(4).hex()}@example.com"
        status, body = await self.call(
            "POST",
            f"{base}/api/auth/{portal}/register",
            json={"email": email, "password": "fault tests pw 1"},
        )
        assert status == 201, body
        return int(body["data"]["user"]["id"]), str(body["data"]["token"])

    async def pitch(self, base: str, token: str, **fields: Any) -> int:
        body = {"title": "Fault pitch", "status": "published", "visibility": "public", **fields}
        status, got = await self.call("POST", f"{base}/api/pitches", token, json=body)
        assert status == 201, got
        return int(got["data"]["id"])


# ------------------------------------------------------------------------------------------
# The recording, reconnecting room client
# ------------------------------------------------------------------------------------------


async def open_ws(http: aiohttp.ClientSession, url: str, token: str) -> aiohttp.ClientWebSocketResponse:
    """A plain WebSocket with the bearer subprotocol (for tests that read frame by frame)."""
    return await http.ws_connect(
        url,
        protocols=(SUBPROTOCOL, f"bearer.{token}"),
        heartbeat=None,
        timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
    )


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> Any:
    """The next text frame, parsed and validated; ConnectionError if the socket closed."""
    msg = await ws.receive(timeout=timeout)
    if msg.type != WSMsgType.TEXT:
        raise ConnectionError(f"socket closed ({msg})")
    decode_event(msg.data)
    return orjson.loads(msg.data)


@dataclass
class Subscription:
    """One `subscribed` answer the client got: asked (since, epoch), answered what."""

    node: str
    asked_since: int | None
    asked_epoch: str | None
    seq: int
    epoch: str
    recovered: bool
    resync: bool
    at: float  # time.monotonic()
    index: int  # how many room frames the client had recorded before it

    @property
    def base(self) -> int:
        """The seq the frames that follow continue from."""
        if self.recovered and self.asked_since is not None:
            return self.asked_since
        return self.seq


@dataclass
class CloseRecord:
    node: str
    code: int | None
    at: float


@dataclass
class RoomClient:
    """A WebSocket client of one room that survives node faults the way the protocol says.

    `frames` holds every sequenced frame of the room (type is not `ack`), in arrival order, as
    (seq, type, data). `subs` the `subscribed` answers (first subscribe, re-subscribes, server
    resyncs). On a close it records the code, then connects to the next node in `urls` (the same
    one again only if it is the only one) and re-subscribes with the last seq and the epoch.
    """

    name: str
    http: aiohttp.ClientSession
    token: str
    room: str
    urls: list[tuple[str, str]]  # (node name, ws url), in failover order
    reconnect: bool = True
    reconnect_delay: float = 0.0  # a client's backoff before its first reconnect attempt
    frames: list[tuple[int, str, Any]] = field(default_factory=list)
    subs: list[Subscription] = field(default_factory=list)
    closes: list[CloseRecord] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    pongs: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    last_seq: int | None = None
    epoch: str | None = None
    node_index: int = 0
    ws: aiohttp.ClientWebSocketResponse | None = None
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: int = 0
    _pending_sub: tuple[int | None, str | None] | None = None

    @property
    def node(self) -> str:
        return self.urls[self.node_index][0]

    async def start(self, timeout: float = 10.0) -> Subscription:
        """Connect to the first node, subscribe, and keep reading in the background."""
        await asyncio.wait_for(self._connect_and_subscribe(), timeout)
        self._task = asyncio.create_task(self._run(), name=f"client-{self.name}")
        return self.subs[-1]

    def next_id(self, prefix: str = "c") -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(orjson.dumps(frame).decode())

    async def _connect_and_subscribe(self) -> None:
        name, url = self.urls[self.node_index]
        ws = await self.http.ws_connect(
            url,
            protocols=(SUBPROTOCOL, f"bearer.{self.token}"),
            heartbeat=None,
            autoping=True,
            timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
        )
        self.ws = ws
        # `connected`, then the own user room's `subscribed`.
        hello = await self._receive_json(ws, 5.0)
        assert hello["type"] == "connected", hello
        data: dict[str, Any] = {}
        if self.last_seq is not None and self.epoch is not None:
            data = {"since": self.last_seq, "epoch": self.epoch}
        self._pending_sub = (data.get("since"), data.get("epoch"))
        self._subscribed.clear()
        await self.send(
            {
                "type": "subscribe",
                "room": self.room,
                "id": self.next_id("s"),
                **({"data": data} if data else {}),
            }
        )
        # Frames until our `subscribed` are handled by the same code as later ones.
        deadline = time.monotonic() + 5.0
        while not self._subscribed.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no subscribed from {name} within 5 s")
            msg = await ws.receive(timeout=left)
            if msg.type != WSMsgType.TEXT:
                raise ConnectionError(f"{self.name}: socket closed while subscribing ({msg})")
            self._handle(orjson.loads(msg.data), msg.data)

    @staticmethod
    async def _receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> Any:
        return await receive_json(ws, timeout)

    def _handle(self, f: dict[str, Any], raw: str) -> None:
        try:
            decode_event(raw)  # strict: a malformed server frame is a finding
        except Exception as exc:
            self.problems.append(f"malformed frame {raw[:200]}: {exc}")
        t = f.get("type")
        if t == "pong":
            self.pongs.add(str(f.get("id")))
        elif t == "ack":
            self.acks[str(f.get("id"))] = f
        elif t == "error":
            self.errors.append(f)
        elif t == "subscribed" and f.get("room") == self.room:
            d = f["data"]
            resync = bool(d.get("resync"))
            asked = (None, None) if resync or self._pending_sub is None else self._pending_sub
            if not resync:
                self._pending_sub = None
            sub = Subscription(
                self.node,
                asked[0],
                asked[1],
                int(d["seq"]),
                str(d["epoch"]),
                bool(d["recovered"]),
                resync,
                time.monotonic(),
                len(self.frames),
            )
            self.subs.append(sub)
            self.epoch = sub.epoch
            # After a recovery the replayed frames continue from `since`; otherwise from `seq`.
            self.last_seq = sub.base
            self._subscribed.set()
        elif f.get("room") == self.room and "seq" in f:
            seq = int(f["seq"])
            if self.last_seq is not None and seq != self.last_seq + 1:
                self.problems.append(f"{self.name}: seq {seq} after {self.last_seq} on {self.node}")
            self.frames.append((seq, str(t), f.get("data")))
            self.last_seq = seq
        self._changed.set()

    async def _run(self) -> None:
        while True:
            ws = self.ws
            assert ws is not None
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.TEXT:
                    self._handle(orjson.loads(msg.data), msg.data)
                    continue
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    code = msg.data if msg.type == WSMsgType.CLOSE else ws.close_code
                    if not self._stopping:  # our own close at the end is no finding
                        self.closes.append(CloseRecord(self.node, code, time.monotonic()))
                    with contextlib.suppress(Exception):
                        await ws.close()
                    break
            self._changed.set()
            if self._stopping or not self.reconnect:
                return
            await self._reconnect()

    async def _reconnect(self, timeout: float = 20.0) -> None:
        """Next node first (the one that closed us is likely going away), then round robin."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        await asyncio.sleep(self.reconnect_delay)
        while not self._stopping:
            if len(self.urls) > 1:
                self.node_index = (self.node_index + 1) % len(self.urls)
            try:
                await asyncio.wait_for(self._connect_and_subscribe(), 8.0)
                return
            except (TimeoutError, aiohttp.ClientError, OSError, ConnectionError, AssertionError) as exc:
                if time.monotonic() > deadline:
                    self.problems.append(f"{self.name}: could not reconnect: {exc!r}")
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)

    # -- what tests ask --------------------------------------------------------------------

    async def wait_for(self, cond: Callable[[], bool], timeout: float, what: str) -> float:
        """Wait until `cond()` holds (checked whenever a frame arrives); seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{self.name}: timed out after {timeout}s waiting for "
                    f"{what}; last seq {self.last_seq} on {self.node}, "
                    f"closes {self.closes}, problems {self.problems[:5]}"
                )
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.2))
        return time.monotonic() - started

    async def post(self, text: str, timeout: float = 5.0) -> dict[str, Any]:
        """Send a message and wait for its ack or error frame (returned)."""
        cid = self.next_id("m")
        await self.send({"type": "message", "room": self.room, "id": cid, "data": {"text": text}})
        await self.wait_for(
            lambda: cid in self.acks or any(e.get("id") == cid for e in self.errors),
            timeout,
            f"the answer to message {cid}",
        )
        if cid in self.acks:
            return self.acks[cid]
        return next(e for e in self.errors if e.get("id") == cid)

    async def ping(self, timeout: float = 5.0) -> float:
        cid = self.next_id("p")
        started = time.monotonic()
        await self.send({"type": "ping", "id": cid})
        await self.wait_for(lambda: cid in self.pongs, timeout, f"pong {cid}")
        return time.monotonic() - started

    async def resubscribe(self, since: int, epoch: str, timeout: float = 5.0) -> Subscription:
        """Unsubscribe and subscribe again asking for (since, epoch): the answer."""
        count = len(self.subs)
        await self.send({"type": "unsubscribe", "room": self.room, "id": self.next_id("u")})
        self._pending_sub = (since, epoch)
        await self.send(
            {
                "type": "subscribe",
                "room": self.room,
                "id": self.next_id("s"),
                "data": {"since": since, "epoch": epoch},
            }
        )
        await self.wait_for(
            lambda: any(not s.resync for s in self.subs[count:]), timeout, "the answer to a re-subscribe"
        )
        return next(s for s in self.subs[count:] if not s.resync)

    def texts(self) -> list[str]:
        return [d["text"] for _, t, d in self.frames if t == "message"]

    async def stop(self) -> None:
        self._stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 3)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


@dataclass
class Publisher:
    """Posts `text_prefix-<n>` messages every `interval` seconds through a RoomClient, without
    waiting for acks (so the load is steady); `sent` maps client ids to texts."""

    client: RoomClient
    interval: float = 0.02
    text_prefix: str = "msg"
    sent: dict[str, str] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="publisher")

    async def _run(self) -> None:
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            n += 1
            cid = f"pub{n}"
            text = f"{self.text_prefix}-{n}"
            self.sent[cid] = text
            with contextlib.suppress(Exception):  # a send while reconnecting is just unacked
                await self.client.send(
                    {"type": "message", "room": self.client.room, "id": cid, "data": {"text": text}}
                )
            next_at += self.interval
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.0, next_at - time.monotonic()))

    async def stop(self, settle: float = 5.0) -> None:
        """Stop sending, then wait (bounded) for the answers to what was sent."""
        self._stop.set()
        if self._task is not None:
            await self._task
        c = self.client
        with contextlib.suppress(AssertionError):
            await c.wait_for(
                lambda: all(cid in c.acks or any(e.get("id") == cid for e in c.errors) for cid in self.sent),
                settle,
                "the last acks",
            )

    def acked(self) -> dict[int, str]:
        """seq -> text of every acknowledged message."""
        out: dict[int, str] = {}
        for cid, text in self.sent.items():
            ack = self.client.acks.get(cid)
            if ack is not None:
                out[int(ack["seq"])] = text
        return out


# ------------------------------------------------------------------------------------------
# The checker
# ------------------------------------------------------------------------------------------


@dataclass
class StreamReport:
    clients: int
    frames: dict[str, int]
    first_last: dict[str, tuple[int, int]]
    acked: int
    resubscribes: int
    recovered: int
    replayed: int


def check_streams(
    clients: Iterable[RoomClient],
    acked: dict[int, str] | None = None,
    *,
    require_recovery: bool = True,
    context: str = "",
) -> StreamReport:
    """Assert the room's stream as every client saw it is one gapless, duplicate-free order.

    - each client's seqs run strictly +1 from the position of its first subscription, across
      every reconnect (re-subscribes must answer `recovered: true` when `require_recovery`);
    - at every seq two clients both saw, they saw the same (type, data): one order everywhere;
    - every acknowledged message (seq -> text) is, on every client subscribed before it, a
      `message` with that text.
    """
    clients = list(clients)
    problems: list[str] = []
    by_seq: dict[int, tuple[str, Any, str]] = {}
    resubs = recovered = replayed = 0
    for c in clients:
        problems += c.problems
        if not c.subs:
            problems.append(f"{c.name}: never subscribed")
            continue
        first = c.subs[0]
        expected = list(range(first.base + 1, first.base + 1 + len(c.frames)))
        seqs = [s for s, _, _ in c.frames]
        if seqs != expected:
            gaps = [(a, b) for a, b in itertools.pairwise(seqs) if b != a + 1]
            problems.append(
                f"{c.name}: seqs not contiguous from {first.base + 1}: "
                f"breaks {gaps[:10]}, first {seqs[:3]}, last {seqs[-3:]}"
            )
        for s in c.subs[1:]:
            if s.resync:
                problems.append(f"{c.name}: unexpected resync {s}")
                continue
            resubs += 1
            if s.recovered:
                recovered += 1
                replayed += s.seq - (s.asked_since or 0)
            elif require_recovery:
                problems.append(f"{c.name}: re-subscribe on {s.node} not recovered: {s}")
        for seq, type_, data in c.frames:
            seen = by_seq.get(seq)
            if seen is None:
                by_seq[seq] = (type_, data, c.name)
            elif (seen[0], seen[1]) != (type_, data):
                problems.append(
                    f"seq {seq}: {c.name} saw {type_} {data!r}, {seen[2]} saw {seen[0]} {seen[1]!r}"
                )
    for seq, text in sorted((acked or {}).items()):
        for c in clients:
            if c.subs and seq <= c.subs[0].base:
                continue  # published before this client subscribed
            got = [(t, d) for s, t, d in c.frames if s == seq]
            if not got or got[0][0] != "message" or got[0][1].get("text") != text:
                problems.append(f"{c.name}: acked seq {seq} ({text}) seen as {got}")
                break
    assert not problems, f"{context}\n" + "\n".join(problems[:40])
    return StreamReport(
        clients=len(clients),
        frames={c.name: len(c.frames) for c in clients},
        first_last={c.name: (c.frames[0][0], c.frames[-1][0]) for c in clients if c.frames},
        acked=len(acked or {}),
        resubscribes=resubs,
        recovered=recovered,
        replayed=replayed,
    )


async def wait_all(clients: Iterable[RoomClient], seq: int, timeout: float) -> None:
    """Wait until every client has seen the room up to `seq`."""
    await asyncio.gather(
        *(c.wait_for(lambda c=c: (c.last_seq or 0) >= seq, timeout, f"seq {seq}") for c in clients)
    )


async def timed(coro: Awaitable[Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = await coro
    return result, time.monotonic() - started


# ------------------------------------------------------------------------------------------
# A PostgreSQL of the test's own
# ------------------------------------------------------------------------------------------


class SeparatePostgres:
    """An embedded PostgreSQL (pgserver) only this test uses, so it may be stopped.

    `stop()` is a fast shutdown through pg_ctl (as pgserver runs it: as user `pgserver` when we
    are root); `start_again()` starts the same data directory on the same Unix socket directory,
    so the DSN nodes hold keeps working.
    """

    def __init__(self, pgdata: Path) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        self.pgdata = pgdata
        self.server: Any = pgserver.get_server(pgdata, cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir = info.socket_dir
        self.uri: str = self.server.get_uri()

    def dsn(self, database: str) -> str:
        return str(self.server.get_uri(database=database))

    def _pg_ctl(self, args: list[str], timeout: float = 30.0) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(args, pgdata=self.pgdata, user=self.server.system_user, timeout=timeout)

    def running(self) -> bool:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            os.kill(int(pidfile.read_text().splitlines()[0]), 0)
        except (ProcessLookupError, ValueError, IndexError):
            return False
        return True

    def stop(self) -> None:
        self._pg_ctl(["-w", "-m", "fast", "stop"])

    def start_again(self) -> None:
        self._pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start"]
        )

    def close(self) -> None:
        if self.running():
            with contextlib.suppress(Exception):
                self._pg_ctl(["-w", "-m", "immediate", "stop"])
        with contextlib.suppress(Exception):
            self.server.cleanup()
