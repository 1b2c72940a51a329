"""The replayer: accounts through the API, sessions on the lean client, actions on the stream's clock.

One process drives every copy (``--scale``) it is given; ``run_replay`` in loadtest/runner.py
spreads copies over worker processes and merges what each returns (``Stats.to_json``).

What it proves: every subscriber checks each room's ``seq`` (1, 2, 3, ... per room) and counts
gaps and duplicates; a session the server drops is reconnected and resubscribes with
``since``/``epoch``, so a recovered gap is not a gap, and an unrecoverable one is counted apart.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from pitchey.protocol import (
    SUBPROTOCOL,
    Command,
    Ping,
    PresenceQuery,
    ProtocolError,
    SendMessage,
    ServerEvent,
    Subscribe,
    Typing,
    Unsubscribe,
    decode_event,
    encode_command,
    parse_room,
)

from .stream import NDA_REF_RE, PITCH_REF_RE, ROOM_RE, Action, Stream
from .wsclient import Refused, WsClient, connect

LATENCY_MAX_US = 60_000_000
SAMPLES_PER_SECOND = 400
REPLY_TIMEOUT = 15.0
# Frames that answer a command: an `ack` carries the message's seq, but the room event with that
# seq is the delivery (it comes to the sender too), so only room events are checked.
_REPLIES = frozenset({"ack", "error", "subscribed", "unsubscribed", "presence", "pong", "connected"})


class SetupError(Exception):
    """The target cannot be used: unreachable, or it refused an account or a login (exit 2)."""


def new_histogram() -> Any:
    return HdrHistogram(1, LATENCY_MAX_US, 3)


@dataclass(slots=True)
class Options:
    url: str
    speed: float = 1.0  # 0: as fast as possible
    scale: int = 1
    settle: float = 5.0
    setup_concurrency: int = 32
    run_id: str = field(default_factory=lambda: os.urandom(4).hex())
    tokens: dict[str, str] | None = None  # alias -> bearer token, instead of registering


@dataclass(slots=True)
class Bucket:
    """One second of the run, for the report's charts."""

    actions: int = 0
    deliveries: int = 0
    errors: int = 0
    max_us: int = 0
    samples: list[int] = field(default_factory=list)
    seen: int = 0


class Stats:
    """Everything one process measures; JSON-able, so worker processes can return it."""

    def __init__(self) -> None:
        self.planned = 0
        self.setup_seconds = 0.0
        self.by_kind: dict[str, list[int]] = {}  # name -> [sent, acked, failed]
        self.errors: Counter[str] = Counter()
        self.close_codes: Counter[str] = Counter()
        self.reconnects = 0
        self.recovered = 0
        self.unrecovered = 0
        self.sessions_opened = 0
        self.sessions_failed = 0
        self.sessions_open = 0
        self.bad_frames = 0
        self.deliveries = 0
        self.hist = new_histogram()
        self.raw_latency: dict[int, int] = {}
        self._ts = ("", 0.0)
        self.t0 = time.monotonic()
        self.timeline: dict[int, Bucket] = {}
        self.rooms: dict[str, list[int]] = {}  # room -> [subscribers, deliveries, gaps, duplicates]
        self.per_subscriber: list[int] = []
        self.anomalies: list[dict[str, Any]] = []
        self.rnd = random.Random()  # noqa: S311 - reservoir sampling, not a secret

    def bucket(self) -> Bucket:
        sec = int(time.monotonic() - self.t0)
        b = self.timeline.get(sec)
        if b is None:
            b = self.timeline[sec] = Bucket()
        return b

    def kind(self, name: str) -> list[int]:
        k = self.by_kind.get(name)
        if k is None:
            k = self.by_kind[name] = [0, 0, 0]
        return k

    def sent(self, name: str) -> None:
        self.kind(name)[0] += 1
        self.bucket().actions += 1

    def acked(self, name: str) -> None:
        self.kind(name)[1] += 1

    def failed(self, name: str, code: str) -> None:
        self.kind(name)[2] += 1
        self.error(code)

    def error(self, code: str) -> None:
        self.errors[code] += 1
        self.bucket().errors += 1

    def latency(self, us: int) -> None:
        us = min(max(us, 1), LATENCY_MAX_US)
        # Three significant digits, as the histogram keeps them, so the dict stays small.
        if us >= 1_000_000:
            us -= us % 10_000
        elif us >= 100_000:
            us -= us % 1000
        elif us >= 10_000:
            us -= us % 100
        elif us >= 1000:
            us -= us % 10
        # Counted here, put into the HDR histogram at the end: a dict increment costs a tenth of
        # record_value, and at 10,000 sessions this runs for every frame.
        self.raw_latency[us] = self.raw_latency.get(us, 0) + 1
        b = self.bucket()
        b.deliveries += 1
        b.seen += 1
        b.max_us = max(b.max_us, us)
        if len(b.samples) < SAMPLES_PER_SECOND:
            b.samples.append(us)
        else:
            j = self.rnd.randrange(b.seen)
            if j < SAMPLES_PER_SECOND:
                b.samples[j] = us

    def histogram(self) -> Any:
        for us, n in self.raw_latency.items():
            self.hist.record_value(us, n)
        self.raw_latency.clear()
        return self.hist

    def epoch(self, ts: str) -> float:
        """The server's timestamp as epoch seconds; one event reaches many subscribers with the
        same timestamp in a row, so the last one is kept."""
        last, value = self._ts
        if ts != last:
            value = datetime.fromisoformat(ts).timestamp()
            self._ts = (ts, value)
        return value

    @property
    def sent_total(self) -> int:
        return sum(k[0] for k in self.by_kind.values())

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "setupSeconds": round(self.setup_seconds, 2),
            "byKind": self.by_kind,
            "errors": dict(self.errors),
            "closeCodes": dict(self.close_codes),
            "reconnects": self.reconnects,
            "recovered": self.recovered,
            "unrecovered": self.unrecovered,
            "sessionsOpened": self.sessions_opened,
            "sessionsFailed": self.sessions_failed,
            "badFrames": self.bad_frames,
            "deliveries": self.deliveries,
            "hist": base64.b64encode(self.histogram().encode()).decode() if self.raw_latency else "",
            "timeline": {
                str(s): [b.actions, b.deliveries, b.errors, b.max_us, b.samples]
                for s, b in sorted(self.timeline.items())
            },
            "rooms": self.rooms,
            "perSubscriber": self.per_subscriber,
            "anomalies": self.anomalies,
        }


@dataclass(slots=True)
class RoomState:
    last: int
    epoch: str | None
    deliveries: int = 0
    gaps: int = 0
    duplicates: int = 0


class Session:
    """One actor's WebSocket session in one copy: sends its commands, checks every frame."""

    def __init__(self, label: str, token: str, ws_url: str, stats: Stats, run: Replay) -> None:
        self.label = label
        self.token = token
        self.ws_url = ws_url
        self.base = ""
        self.stats = stats
        self.run = run
        self.conn: WsClient | None = None
        self.pending: dict[str, asyncio.Future[ServerEvent]] = {}
        self.rooms: dict[str, RoomState] = {}
        self.wanted: set[str] = set()  # pitch rooms subscribed, resubscribed after a reconnect
        self.recovering: set[str] = set()  # rooms resubscribed with since/epoch, answer pending
        self.ids = itertools.count(1)
        self.leaving = False
        self.total_deliveries = 0
        self.reconnecting: asyncio.Task[None] | None = None

    # -- frames in -------------------------------------------------------------------------------

    def on_text(self, raw: bytes) -> None:
        now = time.time()
        try:
            ev = decode_event(raw)
        except ProtocolError:
            self.stats.bad_frames += 1
            return
        fut = self.pending.pop(str(ev.id), None) if ev.id is not None else None
        if fut is not None and not fut.done():
            fut.set_result(ev)
        elif ev.type.value == "error":
            self.stats.error(str((ev.data or {}).get("code", "ERROR")))
        t = ev.type.value
        room = ev.room
        if room is None:
            return
        if t == "subscribed":
            self._subscribed(room, ev.data or {})
        elif t == "unsubscribed":
            self._flush(room)
        elif ev.seq is not None and t not in _REPLIES:
            st = self.rooms.get(room)
            if st is None:
                return
            seq = ev.seq
            if seq <= st.last:
                st.duplicates += 1
            else:
                if seq > st.last + 1:
                    st.gaps += seq - st.last - 1
                st.last = seq
            st.deliveries += 1
            self.total_deliveries += 1
            self.stats.deliveries += 1
            self.stats.latency(int((now - self.stats.epoch(ev.timestamp)) * 1_000_000))

    def _subscribed(self, room: str, data: dict[str, Any]) -> None:
        seq = int(data.get("seq", 0))
        st = self.rooms.get(room)
        if st is not None and data.get("resync"):
            # The room restarted on the server: fill what we missed, as docs/protocol.md says.
            if st.last < seq:
                asyncio.get_running_loop().create_task(self._resubscribe(room, st))
            return
        asked = room in self.recovering
        self.recovering.discard(room)
        if st is not None and asked and data.get("recovered"):
            return  # the replayed events follow and continue our sequence
        if st is not None:
            # A fresh position: after a refused recovery (counted), or the user room that every
            # new connection joins afresh. What was counted so far is kept, and counting restarts.
            if asked:
                self.stats.unrecovered += 1
            self._flush(room)
        self.rooms[room] = RoomState(seq, data.get("epoch"))

    def _flush(self, room: str) -> None:
        """Fold a room's counts into the run's when we leave it (or lose its history)."""
        st = self.rooms.pop(room, None)
        if st is None:
            return
        # Pitch rooms by name; the one-per-user rooms as one line (anomalies still name the room).
        key = room if room.startswith("pitch:") else room.split(":", 1)[0] + ":*"
        r = self.stats.rooms.get(key)
        if r is None:
            r = self.stats.rooms[key] = [0, 0, 0, 0]
        r[0] += 1
        r[1] += st.deliveries
        r[2] += st.gaps
        r[3] += st.duplicates
        if st.gaps or st.duplicates:
            self.stats.anomalies.append(
                {"subscriber": self.label, "room": room, "gaps": st.gaps, "duplicates": st.duplicates}
            )

    def finish(self) -> None:
        for room in list(self.rooms):
            self._flush(room)
        self.stats.per_subscriber.append(self.total_deliveries)

    # -- connection ------------------------------------------------------------------------------

    async def open(self) -> None:
        self.leaving = False
        self.conn = await connect(
            self.ws_url, [SUBPROTOCOL, f"bearer.{self.token}"], self.on_text, self._on_close
        )
        self.stats.sessions_open += 1

    def _on_close(self, code: int | None) -> None:
        self.stats.sessions_open -= 1
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("closed"))
        self.pending.clear()
        if self.leaving:
            return
        self.stats.close_codes[str(code) if code is not None else "1006 (lost)"] += 1
        if code not in (4001, 1000) and not self.run.stopping.is_set():
            self.reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        for attempt in range(1, 6):
            await asyncio.sleep(0.2 * attempt + random.random() * 0.3)  # noqa: S311
            if self.run.stopping.is_set() or self.leaving:
                return
            # As protocol.md advises after 1012: try the next node (one URL: the same one again).
            bases = self.run.bases
            self.base = bases[(bases.index(self.base) + 1) % len(bases)] if self.base in bases else bases[0]
            self.ws_url = _ws_url(self.base)
            try:
                await self.open()
            except (OSError, Refused, TimeoutError):
                continue
            self.stats.reconnects += 1
            for room in list(self.wanted):
                st = self.rooms.get(room)
                if st is not None:
                    await self._resubscribe(room, st)
            return
        self.stats.error("RECONNECT_FAILED")

    async def _resubscribe(self, room: str, st: RoomState) -> None:
        self.recovering.add(room)
        try:
            ev = await self.request(Subscribe(parse_room(room), since=st.last, epoch=st.epoch, id=self._id()))
        except (ConnectionError, TimeoutError):
            return
        if ev.type.value == "subscribed" and (ev.data or {}).get("recovered"):
            self.stats.recovered += 1

    def close(self) -> None:
        """A deliberate disconnect: what this session counted is folded in; a later connect of
        the same actor starts afresh (and is no recovery)."""
        self.leaving = True
        if self.conn is not None and not self.conn.closed:
            self.conn.close(1000)
        for room in list(self.rooms):
            self._flush(room)
        self.wanted.clear()

    # -- commands out ----------------------------------------------------------------------------

    def _id(self) -> str:
        return f"{self.label}.{next(self.ids)}"

    async def request(self, cmd: Command) -> ServerEvent:
        if self.conn is None or not self.conn.open:
            raise ConnectionError("not connected")
        assert cmd.id is not None
        fut: asyncio.Future[ServerEvent] = asyncio.get_running_loop().create_future()
        self.pending[str(cmd.id)] = fut
        if not self.conn.send_text(encode_command(cmd)):
            self.pending.pop(str(cmd.id), None)
            raise ConnectionError("not connected")
        async with asyncio.timeout(REPLY_TIMEOUT):
            return await fut

    def send(self, cmd: Command) -> bool:
        return self.conn is not None and self.conn.send_text(encode_command(cmd))


class Copy:
    """One copy of the stream's world: its accounts, pitches and NDA ids."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.users: dict[str, tuple[int, str]] = {}
        self.pitches: dict[str, int] = {}
        self.ndas: dict[tuple[str, str], asyncio.Future[int]] = {}

    def nda(self, pitch: str, requester: str) -> asyncio.Future[int]:
        key = (pitch, requester)
        fut = self.ndas.get(key)
        if fut is None:
            fut = self.ndas[key] = asyncio.get_running_loop().create_future()
        return fut


class Replay:
    """Replays `copies` of a stream against one target."""

    def __init__(self, stream: Stream, opts: Options, copies: list[int], stats: Stats | None = None) -> None:
        self.stream = stream
        self.opts = opts
        self.copies = [Copy(k) for k in copies]
        self.stats = stats or Stats()
        self.stopping = asyncio.Event()
        # Several comma-separated URLs are the nodes of one cluster: sessions (and their actors'
        # REST calls) are spread round-robin over them, setup goes to the first.
        self.bases = [u.strip().rstrip("/") for u in opts.url.split(",") if u.strip()]
        self.base = self.bases[0]
        self.sessions: list[Session] = []
        self.http: aiohttp.ClientSession | None = None
        self.ready = False
        self.t_start = 0.0
        self.stats.planned = len(stream.actions) * len(copies)

    # -- REST ------------------------------------------------------------------------------------

    async def call(
        self, method: str, path: str, token: str | None = None, body: Any = None, base: str | None = None
    ) -> tuple[int, Any]:
        """One API call; the path is a path of the target (checked by the stream parser), joined
        to one of the given bases only, so nothing in a file can send a request elsewhere."""
        assert self.http is not None and path.startswith("/") and not path.startswith("//")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = (base or self.base) + path
        async with self.http.request(method, url, json=body, headers=headers) as resp:
            try:
                payload = await resp.json(content_type=None)
            except ValueError:
                payload = None
            return resp.status, payload

    async def check_target(self) -> None:
        for base in self.bases:
            try:
                status, _ = await self.call("GET", "/health", base=base)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise SetupError(f"cannot reach {base}: {exc}") from None
            if status != 200:
                raise SetupError(f"{base}/health answered HTTP {status}: is this a pitchey server?")

    async def _register(self, copy: Copy, alias: str, portal: str, password: str) -> None:
        if self.opts.tokens is not None:
            token = self.opts.tokens.get(f"{alias}#{copy.index}") or self.opts.tokens.get(alias)
            if token is None:
                raise SetupError(f"the token file has no token for actor {alias}")
            status, body = await self.call("GET", "/api/user/profile", token)
            if status != 200:
                raise SetupError(f"login refused for {alias}: HTTP {status} {_code(body)}")
            copy.users[alias] = (int(body["data"]["id"]), token)
            return
        email = f"replay-{self.opts.run_id}-{copy.index}-{alias}@example.com"
        status, body = await self.call(
            "POST", f"/api/auth/{portal}/register", body={"email": email, "password": password}
        )
        if status != 201:
            hint = (
                " (raise PITCHEY_AUTH_IP_LIMIT on the target for big runs; docs/replay.md)"
                if status == 429
                else ""
            )
            raise SetupError(f"registration refused for {alias}: HTTP {status} {_code(body)}{hint}")
        copy.users[alias] = (int(body["data"]["user"]["id"]), str(body["data"]["token"]))

    async def setup(self) -> None:
        """Accounts and pitches for every copy, before the clock starts."""
        password = "replay-" + os.urandom(12).hex()
        sem = asyncio.Semaphore(self.opts.setup_concurrency)

        async def one(copy: Copy, alias: str, portal: str) -> None:
            async with sem:
                await self._register(copy, alias, portal, password)

        jobs = [one(c, a.alias, a.portal) for c in self.copies for a in self.stream.header.actors.values()]
        await _gather_or_fail(jobs)

        async def pitch(copy: Copy, alias: str, owner: str) -> None:
            async with sem:
                token = copy.users[owner][1]
                status, body = await self.call(
                    "POST",
                    "/api/pitches",
                    token,
                    {"title": f"Replay {alias}", "status": "published", "visibility": "public"},
                )
                if status != 201:
                    raise SetupError(f"creating pitch {alias} was refused: HTTP {status} {_code(body)}")
                copy.pitches[alias] = int(body["data"]["id"])

        await _gather_or_fail(
            [pitch(c, p.alias, p.owner) for c in self.copies for p in self.stream.header.pitches.values()]
        )

    # -- the run ---------------------------------------------------------------------------------

    async def run(self) -> Stats:
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=256)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            self.http = http
            await self.check_target()
            t_setup = time.monotonic()
            await self.setup()
            self.stats.setup_seconds = time.monotonic() - t_setup
            self.ready = True
            self.stats.t0 = time.monotonic()
            self.t_start = time.monotonic()
            by_actor: dict[tuple[int, str], list[Action]] = {}
            for c in self.copies:
                for a in self.stream.actions:
                    by_actor.setdefault((c.index, a.actor), []).append(a)
            copies = {c.index: c for c in self.copies}
            tasks = [
                asyncio.create_task(self._actor(copies[k], alias, acts))
                for (k, alias), acts in by_actor.items()
            ]
            stop_wait = asyncio.create_task(self.stopping.wait())
            try:
                await asyncio.wait([*tasks, stop_wait], return_when=asyncio.FIRST_COMPLETED)
                while not self.stopping.is_set() and not all(t.done() for t in tasks):
                    await asyncio.wait([*tasks, stop_wait], return_when=asyncio.FIRST_COMPLETED)
                if not self.stopping.is_set():
                    await self._settle()
            finally:
                self.stopping.set()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                stop_wait.cancel()
                for s in self.sessions:
                    s.close()
                    if s.reconnecting is not None:
                        s.reconnecting.cancel()
                    s.finish()
                await asyncio.sleep(0.1)
        return self.stats

    async def _settle(self) -> None:
        """Wait for the last deliveries: until none arrived for a second (at most `settle` s)."""
        deadline = time.monotonic() + self.opts.settle
        last = -1
        while time.monotonic() < deadline and not self.stopping.is_set():
            if self.stats.deliveries == last:
                return
            last = self.stats.deliveries
            await asyncio.sleep(1.0)

    def stop(self) -> None:
        self.stopping.set()

    async def _actor(self, copy: Copy, alias: str, actions: list[Action]) -> None:
        speed = self.opts.speed
        token = copy.users[alias][1]
        base = self.bases[len(self.sessions) % len(self.bases)]
        session = Session(f"{alias}#{copy.index}", token, _ws_url(base), self.stats, self)
        session.base = base
        self.sessions.append(session)
        for a in actions:
            if speed > 0:
                delay = self.t_start + a.t / speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            if self.stopping.is_set():
                return
            self.stats.sent(a.name)
            try:
                code = await self._do(copy, session, a)
            except TimeoutError:  # first: TimeoutError is an OSError
                code = "TIMEOUT"
            except (aiohttp.ClientError, OSError) as exc:
                # Our socket was not open for a command; anything else names what broke.
                not_open = a.kind == "ws" and type(exc) is ConnectionError
                code = "NOT_CONNECTED" if not_open else f"NETWORK_{type(exc).__name__}"
            if code is None:
                self.stats.acked(a.name)
            else:
                self.stats.failed(a.name, code)

    async def _do(self, copy: Copy, s: Session, a: Action) -> str | None:
        """Perform one action; None when it was acknowledged, else the error code."""
        if a.kind == "connect":
            try:
                await s.open()
            except Refused as exc:
                self.stats.sessions_failed += 1
                return f"HTTP_{exc.status}"
            self.stats.sessions_opened += 1
            return None
        if a.kind == "disconnect":
            s.close()
            return None
        if a.kind == "ws":
            return await self._command(copy, s, a)
        return await self._rest(copy, s, a)

    async def _command(self, copy: Copy, s: Session, a: Action) -> str | None:
        assert a.ws is not None
        type_ = a.ws["type"]
        if type_ == "ping":
            cmd: Command = Ping(id=s._id())
        else:
            m = ROOM_RE.fullmatch(a.ws["room"])
            assert m is not None
            room = parse_room(f"pitch:{copy.pitches[m.group(1)]}")
            if type_ == "subscribe":
                cmd = Subscribe(room, id=s._id())
            elif type_ == "unsubscribe":
                cmd = Unsubscribe(room, id=s._id())
            elif type_ == "message":
                cmd = SendMessage(room, str(a.ws["data"]["text"]).strip(), id=s._id())
            elif type_ == "presence":
                cmd = PresenceQuery(room, id=s._id())
            else:
                return None if s.send(Typing(room)) else "NOT_CONNECTED"
        ev = await s.request(cmd)
        if ev.type.value == "error":
            return str((ev.data or {}).get("code", "ERROR"))
        if isinstance(cmd, Subscribe):
            s.wanted.add(str(cmd.room))
        elif isinstance(cmd, Unsubscribe):
            s.wanted.discard(str(cmd.room))
        return None

    async def _rest(self, copy: Copy, s: Session, a: Action) -> str | None:
        path = PITCH_REF_RE.sub(lambda m: str(copy.pitches[m.group(1)]), a.path)
        if NDA_REF_RE.search(path):
            m = NDA_REF_RE.search(path)
            assert m is not None
            async with asyncio.timeout(REPLY_TIMEOUT):
                nda_id = await asyncio.shield(copy.nda(m.group(1), m.group(2)))
            path = NDA_REF_RE.sub(str(nda_id), path)
        body = None
        if a.body is not None:
            body = {
                k: (
                    copy.pitches[ref.group(1)]
                    if isinstance(v, str) and (ref := PITCH_REF_RE.fullmatch(v))
                    else v
                )
                for k, v in a.body.items()
            }
        status, payload = await self.call(a.method, path, s.token, body, base=s.base)
        if 200 <= status < 300:
            if a.name == "nda_request":
                ref = PITCH_REF_RE.fullmatch(str((a.body or {}).get("pitchId")))
                assert ref is not None
                fut = copy.nda(ref.group(1), a.actor)
                if not fut.done():
                    fut.set_result(int(payload["data"]["id"]))
            return None
        return _code(payload) or f"HTTP_{status}"


def _ws_url(base: str) -> str:
    return ("wss" if base.startswith("https") else "ws") + base[base.index("://") :] + "/ws"


def _code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code", ""))
    return ""


async def _gather_or_fail(jobs: list[Any]) -> None:
    tasks = [asyncio.ensure_future(j) for j in jobs]
    try:
        await asyncio.gather(*tasks)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise SetupError(f"the target stopped answering during setup: {exc}") from None
    finally:
        for t in tasks:
            t.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
