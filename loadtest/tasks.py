"""A stream as per-actor task lists, for engines that run one user object per actor (Locust).

Pure: no I/O, no Locust import, so it is tested on its own (tests/test_replay.py) and the
locustfile stays a thin adapter. Each actor gets its steps in order with their start offsets
(scaled by the speed); a step resolves to one concrete REST call or one ``pitchey.v1`` frame once
the copy's pitch and NDA ids are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pitchey.protocol import (
    Command,
    Ping,
    PresenceQuery,
    SendMessage,
    Subscribe,
    Typing,
    Unsubscribe,
    encode_command,
    parse_room,
)

from .stream import NDA_REF_RE, PITCH_REF_RE, ROOM_RE, Action, Stream


@dataclass(frozen=True, slots=True)
class Step:
    at: float  # seconds after the copy's start, already divided by the speed
    action: Action


@dataclass(slots=True)
class ActorPlan:
    alias: str
    portal: str
    owns: list[str] = field(default_factory=list)  # pitch aliases this actor creates at start
    steps: list[Step] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Resolved:
    """What to send: a REST call (method, path, body) or a frame (bytes) on the actor's socket."""

    kind: str  # "connect", "disconnect", "ws", "rest"
    method: str = ""
    path: str = ""
    body: dict[str, Any] | None = None
    frame: bytes | None = None


def actor_plans(stream: Stream, speed: float = 1.0) -> list[ActorPlan]:
    """One plan per actor; pitch owners first (their pitches must exist before anyone acts)."""
    plans = {a.alias: ActorPlan(a.alias, a.portal) for a in stream.header.actors.values()}
    for p in stream.header.pitches.values():
        plans[p.owner].owns.append(p.alias)
    for a in stream.actions:
        plans[a.actor].steps.append(Step(a.t / speed if speed > 0 else 0.0, a))
    return sorted(plans.values(), key=lambda p: (not p.owns, p.alias))


def nda_wanted(action: Action) -> tuple[str, str] | None:
    """(pitch, requester) of the NDA a decision needs, or None."""
    m = NDA_REF_RE.search(action.path) if action.kind == "rest" else None
    return (m.group(1), m.group(2)) if m else None


def nda_created(action: Action) -> tuple[str, str] | None:
    """(pitch, requester) an NDA request creates; its response's data.id is that NDA's id."""
    if action.name != "nda_request" or action.body is None:
        return None
    m = PITCH_REF_RE.fullmatch(str(action.body.get("pitchId")))
    return (m.group(1), action.actor) if m else None


def resolve(
    action: Action,
    pitches: Mapping[str, int],
    ndas: Mapping[tuple[str, str], int] | None = None,
    command_id: str | None = None,
) -> Resolved:
    """The concrete call: placeholders replaced by this copy's ids. KeyError when an id is unknown."""
    if action.kind in ("connect", "disconnect"):
        return Resolved(action.kind)
    if action.kind == "ws":
        assert action.ws is not None
        type_ = action.ws["type"]
        cmd: Command
        if type_ == "ping":
            cmd = Ping(id=command_id)
        else:
            m = ROOM_RE.fullmatch(action.ws["room"])
            assert m is not None
            room = parse_room(f"pitch:{pitches[m.group(1)]}")
            if type_ == "subscribe":
                cmd = Subscribe(room, id=command_id)
            elif type_ == "unsubscribe":
                cmd = Unsubscribe(room, id=command_id)
            elif type_ == "message":
                cmd = SendMessage(room, str(action.ws["data"]["text"]).strip(), id=command_id)
            elif type_ == "presence":
                cmd = PresenceQuery(room, id=command_id)
            else:
                cmd = Typing(room)
        return Resolved("ws", frame=encode_command(cmd))
    path = PITCH_REF_RE.sub(lambda m: str(pitches[m.group(1)]), action.path)
    wanted = nda_wanted(action)
    if wanted is not None:
        path = NDA_REF_RE.sub(str((ndas or {})[wanted]), path)
    body = None
    if action.body is not None:
        body = {}
        for k, v in action.body.items():
            ref = PITCH_REF_RE.fullmatch(v) if isinstance(v, str) else None
            body[k] = pitches[ref.group(1)] if ref else v
    return Resolved("rest", method=action.method, path=path, body=body)
