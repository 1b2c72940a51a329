"""Synthetic streams, for when nothing is recorded yet (docs/replay.md, "Profiles").

Deterministic for a given seed, so two runs of a profile replay the same actions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from .stream import Action, Actor, Header, PitchSpec, Stream

CHAT = (
    "Love the logline.",
    "What is the budget range?",
    "Who is attached to direct?",
    "Is the lead cast yet?",
    "Great deck, following.",
    "Would like to see the pilot script.",
)


def _header(profile: str, creators: int, investors: int, pitches: int) -> Header:
    actors = {f"c{i}": Actor(f"c{i}", "creator") for i in range(1, creators + 1)}
    actors.update({f"i{i}": Actor(f"i{i}", "investor") for i in range(1, investors + 1)})
    specs = {f"p{i}": PitchSpec(f"p{i}", f"c{(i - 1) % creators + 1}") for i in range(1, pitches + 1)}
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Header(source=f"synthetic:{profile}", started_at=now, actors=actors, pitches=specs)


def launch(investors: int = 2000, duration: float = 60.0, seed: int = 1) -> Stream:
    """One creator publishes a pitch; `investors` arrive over `duration` in three waves, each one
    subscribes, views, likes (60 %), chats (20 %), asks for an NDA (10 %; the creator decides two
    seconds later, approving four in five); one in ten leaves before the end."""
    rnd = random.Random(seed)  # noqa: S311 - a repeatable load shape, not a secret
    header = _header("launch", 1, investors, 1)
    acts: list[Action] = [Action.session(0.0, "c1", "connect"), Action.command(0.0, "c1", "subscribe", "p1")]
    arrive_until = duration * 0.8
    waves = (0.05, 0.35, 0.65)
    for i in range(1, investors + 1):
        a = f"i{i}"
        centre = waves[i % 3] * duration
        t = min(arrive_until, max(0.01, rnd.gauss(centre, duration * 0.06)))
        acts.append(Action.session(t, a, "connect"))
        acts.append(Action.command(t + 0.05, a, "subscribe", "p1"))
        acts.append(Action.rest(t + 0.3 + rnd.random(), a, "view", "p1"))
        if rnd.random() < 0.6:
            acts.append(Action.rest(t + 1.0 + rnd.random() * 3, a, "like", "p1"))
        if rnd.random() < 0.2:
            acts.append(Action.command(t + 2 + rnd.random() * 5, a, "message", "p1", rnd.choice(CHAT)))
        if rnd.random() < 0.1:
            tr = t + 1.5 + rnd.random() * 3
            acts.append(Action.rest(tr, a, "nda_request", "p1"))
            decision = "nda_approve" if rnd.random() < 0.8 else "nda_reject"
            acts.append(Action.rest(tr + 2.0, "c1", decision, "p1", requester=a))
        tl = t + 8 + rnd.random() * duration * 0.2
        if rnd.random() < 0.1 and tl <= duration:
            acts.append(Action.command(tl, a, "unsubscribe", "p1"))
            acts.append(Action.session(tl + 0.05, a, "disconnect"))
    return _finish(header, acts, duration)


def chat(investors: int = 200, duration: float = 60.0, seed: int = 1, pitches: int = 4) -> Stream:
    """Busy rooms: `investors` spread over `pitches` rooms (one creator each), all connected from
    the start, each sending a message every ~10 s: a fan-out test of the message path."""
    rnd = random.Random(seed)  # noqa: S311
    header = _header("chat", pitches, investors, pitches)
    acts: list[Action] = []
    for c in range(1, pitches + 1):
        acts += [Action.session(0.0, f"c{c}", "connect"), Action.command(0.0, f"c{c}", "subscribe", f"p{c}")]
    for i in range(1, investors + 1):
        a, p = f"i{i}", f"p{(i - 1) % pitches + 1}"
        t = rnd.random() * min(5.0, duration / 4)
        acts += [Action.session(t, a, "connect"), Action.command(t + 0.05, a, "subscribe", p)]
        t += 1 + rnd.random() * 10
        while t < duration:
            acts.append(Action.command(t, a, "message", p, rnd.choice(CHAT)))
            t += 5 + rnd.random() * 10
    return _finish(header, acts, duration)


def browse(investors: int = 1000, duration: float = 60.0, seed: int = 1, pitches: int = 20) -> Stream:
    """Catalogue traffic: investors come and go over `duration`, each viewing three pitches (and
    watching the first one's room), liking a third of what they view; no chat."""
    rnd = random.Random(seed)  # noqa: S311
    header = _header("browse", max(1, pitches // 5), investors, pitches)
    acts: list[Action] = []
    for i in range(1, investors + 1):
        a = f"i{i}"
        t = rnd.random() * duration * 0.7
        seen = rnd.sample(sorted(header.pitches), k=min(3, pitches))
        acts += [Action.session(t, a, "connect"), Action.command(t + 0.05, a, "subscribe", seen[0])]
        for k, p in enumerate(seen):
            acts.append(Action.rest(t + 0.5 + 2 * k, a, "view", p))
            if rnd.random() < 0.33:
                acts.append(Action.rest(t + 1.0 + 2 * k, a, "like", p))
        acts.append(Action.session(min(duration, t + 10 + rnd.random() * 10), a, "disconnect"))
    return _finish(header, acts, duration)


def _finish(header: Header, acts: list[Action], duration: float) -> Stream:
    # Stable sort: an actor's actions at the same time keep their order (subscribe after connect).
    acts.sort(key=lambda x: x.t)
    return Stream(header, acts)


PROFILES: dict[str, Callable[..., Stream]] = {"launch": launch, "chat": chat, "browse": browse}
