"""What actors/asyncio_actor.py takes from pykka beyond its documented extension hooks, pinned.

AsyncioActor extends pykka through the hooks pykka documents for implementors of new actor types
(`_create_actor_inbox`, `_create_future`, `_start_actor_loop`). Its stop message, its futures'
sentinel and its view of the running loop are its own; what it still takes from pykka's
internals is below: the envelopes pykka's ActorRef puts in an inbox, the internals it overrides or
calls, and the attributes of the initialisers it skips. pyproject pins pykka to the minor series
these pass with; a pykka that changes any of them fails here, by name, before it fails in a room.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from importlib import metadata

import pykka
from pykka import Actor, Future
from pykka._envelope import Envelope
from pykka.messages import ProxyCall, ProxyGetAttr, ProxySetAttr

from pitchey.actors import AsyncioActor, AsyncioActorRef


def test_the_pinned_series():
    major, minor, *_ = metadata.version("pykka").split(".")
    assert (int(major), int(minor)) == (4, 5), "update pyproject's pykka pin and this test together"


def test_envelopes_carry_message_and_reply_to():
    env = Envelope("msg", reply_to=None)
    assert env.message == "msg" and env.reply_to is None


def test_the_proxy_messages_exist():
    for proxy_message in (ProxyCall, ProxyGetAttr, ProxySetAttr):
        assert inspect.isclass(proxy_message)


def test_the_extension_hooks_and_overridden_internals_exist():
    # Documented hooks for implementors of new actor types...
    for hook in ("_create_actor_inbox", "_create_future", "_start_actor_loop"):
        assert callable(getattr(Actor, hook)), hook
    # ...and the internals AsyncioActor overrides or calls (its own loop replaces pykka's).
    for internal in ("_handle_receive", "_handle_failure"):
        assert callable(getattr(Actor, internal)), internal
    assert "message" in inspect.signature(Actor._handle_receive).parameters


def test_every_way_pykka_stops_an_actor_is_overridden():
    # pykka's Actor.stop() and ActorRef.stop() send its private _ActorStop; AsyncioActor and its
    # ref override both to send their own stop message, which is all its loop recognises.
    assert AsyncioActor.stop is not Actor.stop
    assert AsyncioActorRef.stop is not pykka.ActorRef.stop


def _assigned(init: Callable[..., None]) -> set[str]:
    return set(re.findall(r"self\.(\w+)\s*(?::[^=\n]*)?=(?!=)", inspect.getsource(init)))


def test_skipped_initialisers_set_only_what_asyncio_actor_sets_itself():
    # AsyncioActor and AsyncioFuture skip pykka's __init__ (a threading.Event, a sentinel per
    # future) and set what they use themselves; pykka adding an attribute would leave it unset.
    assert _assigned(Actor.__init__) <= {"actor_urn", "actor_inbox", "_actor_ref", "actor_stopped"}
    assert _assigned(Future.__init__) <= {"_get_hook", "_get_hook_result"}
