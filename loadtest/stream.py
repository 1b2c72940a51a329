"""The stream file: JSON lines, versioned (docs/replay.md).

Line 1 is the header (format, version, source, start time, the actors as aliases with their
portal, the pitches with their owner's alias); every other line is one client action at a time
offset: a session connect/disconnect, a ``pitchey.v1`` command, or a REST call. Real ids never
appear: pitches are written ``{p1}`` and NDA requests ``{nda:p1:i7}`` (the request of actor
``i7`` on pitch ``p1``), resolved by the replayer against the accounts it creates.

The REST calls and commands a file may hold are a closed list, and a path is only a path: a
file cannot make the replayer call anything but the target's own API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal

import orjson

FORMAT: Final = "pitchey-stream"
VERSION: Final = 1
PORTALS: Final = ("creator", "investor", "production")
WS_TYPES: Final = ("subscribe", "unsubscribe", "message", "typing", "presence", "ping")

_ALIAS: Final = r"[a-z][a-z0-9_-]{0,39}"
ALIAS_RE: Final = re.compile(_ALIAS)
PITCH_REF_RE: Final = re.compile(r"\{(" + _ALIAS + r")\}")
NDA_REF_RE: Final = re.compile(r"\{nda:(" + _ALIAS + r"):(" + _ALIAS + r")\}")
ROOM_RE: Final = re.compile(r"pitch:\{(" + _ALIAS + r")\}")

# The REST calls a stream may replay: method and path pattern (placeholders as above).
REST_CALLS: Final[dict[str, tuple[str, re.Pattern[str]]]] = {
    "view": ("GET", re.compile(r"/api/pitches/\{(" + _ALIAS + r")\}")),
    "like": ("POST", re.compile(r"/api/pitches/\{(" + _ALIAS + r")\}/like")),
    "unlike": ("DELETE", re.compile(r"/api/pitches/\{(" + _ALIAS + r")\}/like")),
    "nda_request": ("POST", re.compile(r"/api/ndas/request")),
    "nda_approve": ("POST", re.compile(r"/api/ndas/\{nda:(" + _ALIAS + r"):(" + _ALIAS + r")\}/approve")),
    "nda_reject": ("POST", re.compile(r"/api/ndas/\{nda:(" + _ALIAS + r"):(" + _ALIAS + r")\}/reject")),
}


class StreamError(ValueError):
    """A file the replayer refuses: where and why."""

    def __init__(self, line: int, reason: str, source: str = "") -> None:
        self.line = line
        self.reason = reason
        where = f"{source}:" if source else ""
        super().__init__(f"{where}line {line}: {reason}")


@dataclass(frozen=True, slots=True)
class Actor:
    alias: str
    portal: str


@dataclass(frozen=True, slots=True)
class PitchSpec:
    alias: str
    owner: str


@dataclass(frozen=True, slots=True)
class Header:
    source: str
    started_at: str
    actors: dict[str, Actor]
    pitches: dict[str, PitchSpec]
    version: int = VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "source": self.source,
            "startedAt": self.started_at,
            "actors": [{"alias": a.alias, "portal": a.portal} for a in self.actors.values()],
            "pitches": [{"alias": p.alias, "owner": p.owner} for p in self.pitches.values()],
        }


ActionKind = Literal["connect", "disconnect", "ws", "rest"]


@dataclass(frozen=True, slots=True)
class Action:
    """One client action. ``name`` is what reports count it as: ``connect``, ``disconnect``, the
    command type (``message``, ``subscribe``, ...) or the REST call's name (``like``, ``view``...)."""

    t: float
    actor: str
    kind: ActionKind
    name: str
    ws: dict[str, Any] | None = None
    method: str = ""
    path: str = ""
    body: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": round(self.t, 4), "actor": self.actor}
        if self.kind in ("connect", "disconnect"):
            out["session"] = self.kind
        elif self.kind == "ws":
            out["ws"] = self.ws
        else:
            rest: dict[str, Any] = {"method": self.method, "path": self.path}
            if self.body is not None:
                rest["body"] = self.body
            out["rest"] = rest
        return out

    # -- constructors used by the recorders and the synthetic profiles -----------------------

    @staticmethod
    def session(t: float, actor: str, what: Literal["connect", "disconnect"]) -> Action:
        return Action(t, actor, what, what)

    @staticmethod
    def command(t: float, actor: str, type_: str, pitch: str, text: str | None = None) -> Action:
        ws: dict[str, Any] = {"type": type_, "room": f"pitch:{{{pitch}}}"}
        if text is not None:
            ws["data"] = {"text": text}
        return Action(t, actor, "ws", type_, ws=ws)

    @staticmethod
    def rest(t: float, actor: str, name: str, pitch: str, requester: str | None = None) -> Action:
        method = REST_CALLS[name][0]
        body: dict[str, Any] | None = None
        if name in ("view", "like", "unlike"):
            path = f"/api/pitches/{{{pitch}}}" + ("" if name == "view" else "/like")
        elif name == "nda_request":
            path = "/api/ndas/request"
            body = {"pitchId": f"{{{pitch}}}", "message": "Requesting access for the replay"}
        else:
            assert requester is not None
            path = f"/api/ndas/{{nda:{pitch}:{requester}}}/{name.removeprefix('nda_')}"
            body = {}
        return Action(t, actor, "rest", name, method=method, path=path, body=body)


@dataclass(slots=True)
class Stream:
    header: Header
    actions: list[Action] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.name] = out.get(a.name, 0) + 1
        return out

    @property
    def duration(self) -> float:
        return self.actions[-1].t if self.actions else 0.0


# -- writing -----------------------------------------------------------------------------------


def dump_lines(stream: Stream) -> Iterator[bytes]:
    yield orjson.dumps(stream.header.to_json()) + b"\n"
    for a in stream.actions:
        yield orjson.dumps(a.to_json()) + b"\n"


def write_stream(stream: Stream, path: str | Path) -> None:
    with open(path, "wb") as f:
        f.writelines(dump_lines(stream))


# -- reading -----------------------------------------------------------------------------------


def read_stream(path: str | Path) -> Stream:
    with open(path, "rb") as f:
        return parse_stream(f, source=str(path))


def parse_stream(lines: IO[bytes] | Iterable[bytes | str], source: str = "") -> Stream:
    """Parse and check a whole file; the first problem raises StreamError with its line."""
    header: Header | None = None
    actions: list[Action] = []
    last_t = 0.0
    n = 0
    for n, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise StreamError(n, f"not valid JSON ({exc})", source) from None
        if not isinstance(obj, dict):
            raise StreamError(n, "a line must be a JSON object", source)
        try:
            if header is None:
                header = _header(obj)
                continue
            action = _action(obj, header)
        except ValueError as exc:
            raise StreamError(n, str(exc), source) from None
        if action.t < last_t:
            raise StreamError(n, f"time goes backwards ({action.t} after {last_t})", source)
        last_t = action.t
        actions.append(action)
    if header is None:
        raise StreamError(max(n, 1), "empty file: no header line", source)
    return Stream(header, actions)


def _str(obj: dict[str, Any], key: str, what: str = "header") -> str:
    v = obj.get(key)
    if not isinstance(v, str):
        raise ValueError(f"{what}: '{key}' must be a string")
    return v


def _header(obj: dict[str, Any]) -> Header:
    if obj.get("format") != FORMAT:
        raise ValueError(f"not a stream file: the header's 'format' must be {FORMAT!r}")
    version = obj.get("version")
    if type(version) is not int or version < 1:
        raise ValueError("header: 'version' must be a positive integer")
    if version > VERSION:
        raise ValueError(
            f"format version {version} is newer than this pitchey reads ({VERSION}); upgrade pitchey"
        )
    actors: dict[str, Actor] = {}
    raw_actors = obj.get("actors")
    if not isinstance(raw_actors, list):
        raise ValueError("header: 'actors' must be a list")
    for a in raw_actors:
        if not isinstance(a, dict):
            raise ValueError("header: each actor must be an object")
        alias, portal = _str(a, "alias", "actor"), _str(a, "portal", "actor")
        if not ALIAS_RE.fullmatch(alias):
            raise ValueError(f"actor alias {alias!r}: lowercase letters, digits, '-', '_' (max 40)")
        if portal not in PORTALS:
            raise ValueError(f"actor {alias}: portal must be one of {', '.join(PORTALS)}")
        if alias in actors:
            raise ValueError(f"actor {alias} is declared twice")
        actors[alias] = Actor(alias, portal)
    pitches: dict[str, PitchSpec] = {}
    raw_pitches = obj.get("pitches", [])
    if not isinstance(raw_pitches, list):
        raise ValueError("header: 'pitches' must be a list")
    for p in raw_pitches:
        if not isinstance(p, dict):
            raise ValueError("header: each pitch must be an object")
        alias, owner = _str(p, "alias", "pitch"), _str(p, "owner", "pitch")
        if not ALIAS_RE.fullmatch(alias) or alias in pitches:
            raise ValueError(f"pitch alias {alias!r} is invalid or declared twice")
        if owner not in actors or actors[owner].portal != "creator":
            raise ValueError(f"pitch {alias}: owner {owner!r} is not a creator among the actors")
        pitches[alias] = PitchSpec(alias, owner)
    return Header(
        source=_str(obj, "source"),
        started_at=_str(obj, "startedAt"),
        actors=actors,
        pitches=pitches,
        version=version,
    )


def _pitch(alias: str, header: Header) -> str:
    if alias not in header.pitches:
        raise ValueError(f"unknown pitch {{{alias}}}")
    return alias


def _action(obj: dict[str, Any], header: Header) -> Action:
    t = obj.get("t")
    if isinstance(t, bool) or not isinstance(t, int | float) or t < 0:
        raise ValueError("'t' must be a non-negative number of seconds")
    actor = _str(obj, "actor", "action")
    if actor not in header.actors:
        raise ValueError(f"unknown actor {actor!r}")
    kinds = [k for k in ("session", "ws", "rest") if k in obj]
    if len(kinds) != 1:
        raise ValueError("an action has exactly one of 'session', 'ws', 'rest'")
    if "session" in obj:
        what = obj["session"]
        if what not in ("connect", "disconnect"):
            raise ValueError("'session' must be 'connect' or 'disconnect'")
        return Action(float(t), actor, what, what)
    if "ws" in obj:
        ws = obj["ws"]
        if not isinstance(ws, dict):
            raise ValueError("'ws' must be a pitchey.v1 command object")
        type_ = ws.get("type")
        if type_ not in WS_TYPES:
            raise ValueError(f"ws: command type must be one of {', '.join(WS_TYPES)}")
        if type_ != "ping":
            m = ROOM_RE.fullmatch(str(ws.get("room")))
            if m is None:
                raise ValueError("ws: 'room' must be 'pitch:{alias}' of a declared pitch")
            _pitch(m.group(1), header)
        if type_ == "message":
            data = ws.get("data")
            text = data.get("text") if isinstance(data, dict) else None
            if not isinstance(text, str) or not 1 <= len(text.strip()) <= 4000:
                raise ValueError("ws: a message needs data.text of 1-4000 characters")
        return Action(float(t), actor, "ws", str(type_), ws=ws)
    rest = obj["rest"]
    if not isinstance(rest, dict):
        raise ValueError("'rest' must be an object with 'method' and 'path'")
    method, path = _str(rest, "method", "rest"), _str(rest, "path", "rest")
    if "://" in path or path.startswith("//") or not path.startswith("/api/"):
        raise ValueError(f"rest: {path!r} is not a path of the API (files hold paths, never URLs)")
    body = rest.get("body")
    if body is not None and not isinstance(body, dict):
        raise ValueError("rest: 'body' must be an object")
    found = next(
        (
            (name, match)
            for name, (m_, pattern) in REST_CALLS.items()
            if m_ == method and (match := pattern.fullmatch(path)) is not None
        ),
        None,
    )
    if found is None:
        raise ValueError(f"rest: {method} {path} is not a call the replayer makes (docs/replay.md)")
    name, match = found
    if name == "nda_request":
        ref = str((body or {}).get("pitchId"))
        m2 = PITCH_REF_RE.fullmatch(ref)
        if m2 is None:
            raise ValueError("rest: an NDA request's body needs pitchId '{alias}'")
        _pitch(m2.group(1), header)
    elif name.startswith("nda_"):
        _pitch(match.group(1), header)
        if match.group(2) not in header.actors:
            raise ValueError(f"unknown actor {match.group(2)!r} in {path}")
    else:
        _pitch(match.group(1), header)
    return Action(float(t), actor, "rest", name, method=method, path=path, body=body)
