"""Record a stream: from a live server's rooms (a signed-in observer) or from the database.

Either way real ids become aliases (``c1``, ``i7``, ``p2``), emails never enter the file, and
message texts are replaced by filler of the same length unless ``keep_text`` (then any email
address in them is still replaced).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from pitchey.protocol import SUBPROTOCOL, ProtocolError, Subscribe, decode_event, encode_command, parse_room

from .stream import Action, Actor, Header, PitchSpec, Stream
from .wsclient import Refused, WsClient, connect

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit "
PREFIX = {"creator": "c", "investor": "i", "production": "pc"}


class RecordError(Exception):
    """Recording cannot start: unreachable server, refused token, bad room (exit 2)."""


def redact(text: str, keep_text: bool) -> str:
    if keep_text:
        return EMAIL_RE.sub("someone@example.com", text)
    n = max(1, min(4000, len(text.strip())))
    return (FILLER * (n // len(FILLER) + 1))[:n].strip() or "x"


class Recorder:
    """Turns observed or stored events into actions of aliased actors, keeping each actor's
    session state (connected, rooms) consistent so the stream replays as it happened."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.started = datetime.now(UTC)
        self.actors: dict[int, Actor] = {}
        self.pitches: dict[int, PitchSpec] = {}
        self.owners: dict[int, str] = {}
        self.counts: dict[str, int] = {}
        self.connected: set[str] = set()
        self.rooms: dict[str, set[str]] = {}
        self.actions: list[Action] = []
        self.ndas: set[tuple[str, str]] = set()

    def actor(self, user_id: int, portal: str) -> str:
        a = self.actors.get(user_id)
        if a is None:
            prefix = PREFIX.get(portal, "i")
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            a = self.actors[user_id] = Actor(f"{prefix}{self.counts[prefix]}", portal)
        return a.alias

    def pitch(self, pitch_id: int, owner_id: int | None = None) -> str:
        p = self.pitches.get(pitch_id)
        if p is None:
            if owner_id is not None:
                owner = self.actor(owner_id, "creator")
            else:  # a live observer does not learn the owner: a stand-in creator owns it
                owner = self.actor(-pitch_id, "creator")
            p = self.pitches[pitch_id] = PitchSpec(f"p{len(self.pitches) + 1}", owner)
        return p.alias

    def join(self, t: float, alias: str, pitch: str) -> None:
        if alias not in self.connected:
            self.connected.add(alias)
            self.actions.append(Action.session(t, alias, "connect"))
        rooms = self.rooms.setdefault(alias, set())
        if pitch not in rooms:
            rooms.add(pitch)
            self.actions.append(Action.command(t, alias, "subscribe", pitch))

    def leave(self, t: float, alias: str, pitch: str) -> None:
        rooms = self.rooms.get(alias, set())
        if pitch in rooms:
            rooms.discard(pitch)
            self.actions.append(Action.command(t, alias, "unsubscribe", pitch))
        if not rooms and alias in self.connected:
            self.connected.discard(alias)
            self.actions.append(Action.session(t, alias, "disconnect"))

    def message(self, t: float, alias: str, pitch: str, text: str) -> None:
        self.join(t, alias, pitch)
        self.actions.append(Action.command(t, alias, "message", pitch, text))

    def rest(self, t: float, alias: str, name: str, pitch: str, requester: str | None = None) -> None:
        if name == "nda_request":
            self.ndas.add((pitch, alias))
        elif name in ("nda_approve", "nda_reject"):
            if requester is None or (pitch, requester) not in self.ndas:
                return  # its request is outside the window: the replayer could not decide it
            self.ndas.discard((pitch, requester))
        self.actions.append(Action.rest(t, alias, name, pitch, requester))

    def finish(self, t: float) -> Stream:
        for alias in sorted(self.connected):
            self.actions.append(Action.session(t, alias, "disconnect"))
        actors = {a.alias: a for a in self.actors.values()}
        pitches = {p.alias: p for p in self.pitches.values()}
        started = self.started.isoformat(timespec="seconds").replace("+00:00", "Z")
        self.actions.sort(key=lambda a: a.t)
        return Stream(Header(self.source, started, actors, pitches), self.actions)


# -- from the database ---------------------------------------------------------------------------


async def record_db(
    dsn: str, since: datetime | None, until: datetime | None, keep_text: bool = False
) -> Stream:
    from pitchey.storage.database import Database, StorageUnavailable
    from pitchey.storage.recording import stored_events

    try:
        db = await Database.connect(dsn, min_size=1, max_size=1)
    except StorageUnavailable as exc:
        raise RecordError(f"database unavailable: {exc}") from None
    try:
        events = await stored_events(db, since, until)
    finally:
        await db.close()
    rec = Recorder("db")
    if since is not None:
        rec.started = since
    elif events:
        rec.started = events[0].at
    t = 0.0
    for e in events:
        t = max(0.0, (e.at - rec.started).total_seconds())
        pitch = rec.pitch(e.pitch_id, e.pitch_owner_id)
        alias = rec.actor(e.user_id, e.user_type)
        if e.kind == "message":
            rec.message(t, alias, pitch, redact(e.text or "x", keep_text))
        elif e.kind in ("nda_approve", "nda_reject"):
            requester = rec.actors.get(e.requester_id or 0)
            rec.rest(t, alias, e.kind, pitch, requester.alias if requester else None)
        else:
            rec.rest(t, alias, e.kind, pitch)
    return rec.finish(t)


# -- from a live server --------------------------------------------------------------------------


async def record_live(
    url: str,
    token: str,
    rooms: list[str],
    duration: float,
    keep_text: bool = False,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> Stream:
    """Observe `rooms` for `duration` seconds (Ctrl-C, or `stop`, ends it early); the stream."""
    base = url.rstrip("/")
    names = []
    for r in rooms:
        try:
            room = parse_room(r)
        except ProtocolError:
            raise RecordError(f"not a room: {r!r}") from None
        if room.kind != "pitch":
            raise RecordError(f"only pitch rooms can be recorded live, not {r}")
        names.append(str(room))
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
            http.get(base + "/api/user/profile", headers={"Authorization": f"Bearer {token}"}) as resp,
        ):
            body: Any = await resp.json(content_type=None)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise RecordError(f"cannot reach {base}: {exc}") from None
    if resp.status != 200:
        raise RecordError(f"the server refused PITCHEY_TOKEN: HTTP {resp.status}")
    me = int(body["data"]["id"])

    rec = Recorder("live:" + ",".join(names))
    t0 = time.monotonic()
    done = stop or asyncio.Event()
    pending: dict[str, asyncio.Future[Any]] = {}

    def now() -> float:
        return round(time.monotonic() - t0, 4)

    def on_text(raw: bytes) -> None:
        try:
            ev = decode_event(raw)
        except ProtocolError:
            return
        fut = pending.pop(str(ev.id), None) if ev.id is not None else None
        if fut is not None and not fut.done():
            fut.set_result(ev)
        room = ev.room or ""
        if not room.startswith("pitch:"):
            return
        data: dict[str, Any] = ev.data if isinstance(ev.data, dict) else {}
        pitch = rec.pitch(int(room.split(":", 1)[1]))
        t = now()
        kind = ev.type.value
        if kind == "subscribed":
            for p in data.get("presence") or []:
                if int(p["userId"]) != me:
                    rec.join(t, rec.actor(int(p["userId"]), str(p.get("userType", "investor"))), pitch)
            return
        uid = data.get("userId")
        if not isinstance(uid, int) or uid == me:
            return
        alias = rec.actor(uid, str(data.get("userType") or "investor"))
        if kind == "user_joined":
            rec.join(t, alias, pitch)
        elif kind == "user_left":
            rec.leave(t, alias, pitch)
        elif kind == "message":
            rec.message(t, alias, pitch, redact(str(data.get("text") or "x"), keep_text))
        elif kind == "view_update":
            rec.rest(t, alias, "view", pitch)
        elif kind == "like_update":
            rec.rest(t, alias, "like" if data.get("liked", True) else "unlike", pitch)

    def on_close(code: int | None) -> None:
        done.set()

    ws_url = ("wss" if base.startswith("https") else "ws") + base[base.index("://") :] + "/ws"
    try:
        conn: WsClient = await connect(ws_url, [SUBPROTOCOL, f"bearer.{token}"], on_text, on_close)
    except Refused as exc:
        raise RecordError(f"the server refused the observer's WebSocket: HTTP {exc.status}") from None
    except (OSError, TimeoutError) as exc:
        raise RecordError(f"cannot reach {ws_url}: {exc}") from None
    loop = asyncio.get_running_loop()
    try:
        for i, name in enumerate(names):
            fut: asyncio.Future[Any] = loop.create_future()
            pending[f"r{i}"] = fut
            conn.send_text(encode_command(Subscribe(parse_room(name), id=f"r{i}")))
            async with asyncio.timeout(15):
                ev = await fut
            if ev.type.value == "error":
                raise RecordError(f"cannot observe {name}: {ev.data.get('code')} {ev.data.get('message')}")
        if ready is not None:
            ready.set()  # every room is observed from here on
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, done.set)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration):
                await done.wait()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        conn.close()
    return rec.finish(now())
