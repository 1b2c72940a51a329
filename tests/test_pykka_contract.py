"""What actors/asyncio_actor.py takes from pykka, pinned: documented extension hooks and public API only.

AsyncioActor extends pykka through the hooks pykka documents for implementors of new actor types
(`_create_actor_inbox`, `_create_future`, `_start_actor_loop`), the public methods of `ActorRef`
and `Future` (which its ref and future override), and the public proxy messages of
`pykka.messages`. Its envelopes, stop message, loop, proxy dispatch and failure path are its own.
The scans below fail, by name, if the module starts using a private pykka name again; the rest
pins the public shapes it relies on. pyproject pins pykka to the minor series these pass with.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pykka
import pykka.messages
import pytest
from pykka import Actor, ActorRef, Future
from pykka.messages import ProxyCall, ProxyGetAttr, ProxySetAttr

import pitchey.actors.asyncio_actor as asyncio_actor
from pitchey.actors import AsyncioActor, AsyncioActorRef, AsyncioFuture

HOOKS = {"_create_actor_inbox", "_create_future", "_start_actor_loop"}
MODULE = ast.parse(Path(inspect.getfile(asyncio_actor)).read_text())


def _pykka_private_names() -> set[str]:
    """Every single-underscore name the pykka classes AsyncioActor extends or calls define or set."""
    names: set[str] = set()
    for cls in (Actor, ActorRef, Future, pykka.ActorRegistry):
        names |= {n for n in vars(cls) if n.startswith("_") and not n.startswith("__")}
        names |= set(re.findall(r"self\.(_[a-z]\w*)", inspect.getsource(cls)))
    return names


def _our_names() -> set[str]:
    """Every name, attribute and string (e.g. a __slots__ entry) in actors/asyncio_actor.py."""
    found: set[str] = set()
    for node in ast.walk(MODULE):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.alias):
            found.add(node.name)
    return found


def test_the_pinned_series():
    major, minor, *_ = metadata.version("pykka").split(".")
    assert (int(major), int(minor)) == (4, 5), "update pyproject's pykka pin and this test together"


def test_only_public_pykka_modules_and_names_are_imported():
    for node in ast.walk(MODULE):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pykka"):
                    assert alias.name in {"pykka", "pykka.messages"}, alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pykka"):
            assert node.module in {"pykka", "pykka.messages"}, node.module
            public = (
                set(pykka.__all__)
                if node.module == "pykka"
                else {"ProxyCall", "ProxyGetAttr", "ProxySetAttr"}
            )
            for alias in node.names:
                assert alias.name in public, f"{node.module}.{alias.name}"


def test_no_private_pykka_name_is_used_or_overridden_but_the_documented_hooks():
    private = _pykka_private_names()
    # The scan sees pykka's internals (a sanity check that it would catch them)...
    assert {"_handle_receive", "_handle_failure", "_actor_ref", "_get_hook", "_actor_weakref"} <= private
    assert private >= HOOKS
    # ...and the module uses none of them except the hooks pykka documents for implementors.
    assert (_our_names() & private) - HOOKS == set()
    assert "Envelope" not in _our_names()  # pykka's private envelope: ours is _Envelope
    assert "_ActorStop" not in _our_names()


def test_the_extension_hooks_are_documented_for_implementors():
    for hook in sorted(HOOKS):
        assert callable(getattr(Actor, hook)), hook
        assert "implementors of new actor types" in (inspect.getdoc(getattr(Actor, hook)) or ""), hook
        assert hook in vars(AsyncioActor), f"AsyncioActor must implement {hook}"


def test_pykka_internals_are_neither_overridden_nor_reached():
    # The internals an earlier AsyncioActor overrode: now inherited untouched and never called
    # (the scan above), because its own loop never enters pykka's.
    for internal in ("_handle_receive", "_handle_failure", "_actor_loop", "_stop"):
        assert getattr(AsyncioActor, internal) is getattr(Actor, internal), internal


def test_the_proxy_messages_are_public_with_the_fields_read():
    assert {"ProxyCall", "ProxyGetAttr", "ProxySetAttr"} <= set(vars(pykka.messages))
    for proxy_message in (ProxyCall, ProxyGetAttr, ProxySetAttr):
        assert inspect.isclass(proxy_message)
    assert ProxyCall._fields == ("attr_path", "args", "kwargs")
    assert ProxyGetAttr._fields == ("attr_path",)
    assert ProxySetAttr._fields == ("attr_path", "value")


def test_every_way_a_ref_sends_is_overridden():
    # pykka's ActorRef.tell/ask/stop put pykka's private Envelope (and stop message) in the inbox;
    # AsyncioActorRef overrides all three with its own, and proxies send through the ref's
    # public ask/tell, so nothing of pykka's ever reaches an AsyncioActor's inbox.
    for sender in ("tell", "ask", "stop"):
        assert getattr(AsyncioActorRef, sender) is not getattr(ActorRef, sender), sender
    assert AsyncioActor.stop is not Actor.stop
    assert AsyncioActorRef.stop is not pykka.ActorRef.stop


def test_proxies_send_through_the_refs_public_methods():
    source = inspect.getsource(pykka.ActorProxy)
    assert ".actor_ref.ask(" in source or "actor_ref.ask(" in source
    assert "actor_inbox" not in source


def _assigned(init: Callable[..., None]) -> set[str]:
    return set(re.findall(r"self\.(\w+)\s*(?::[^=\n]*)?=(?!=)", inspect.getsource(init)))


def _reads_no_private_state(func: Callable[..., object]) -> bool:
    return not re.search(r"self\._[a-z]", textwrap.dedent(inspect.getsource(func)))


def test_skipped_initialisers_set_only_what_asyncio_actor_sets_itself():
    # AsyncioActor and AsyncioFuture do not call pykka's __init__ (a threading.Event and a plain
    # ActorRef per actor, a sentinel per future). pykka documents Actor.__init__ as setting
    # actor_urn, actor_inbox and actor_ref (plus the documented actor_stopped); AsyncioActor sets
    # those itself and overrides the actor_ref property, so pykka's private _actor_ref is never
    # read. pykka adding an attribute would leave it unset: this fails first.
    assert _assigned(Actor.__init__) <= {"actor_urn", "actor_inbox", "_actor_ref", "actor_stopped"}
    assert _assigned(Future.__init__) <= {"_get_hook", "_get_hook_result"}
    assert "actor_ref" in vars(AsyncioActor)
    assert isinstance(inspect.getattr_static(Actor, "actor_ref"), property)


def test_inherited_members_read_only_public_state():
    # What AsyncioActor and AsyncioFuture inherit rather than override must not read the private
    # state the skipped initialisers would have set.
    for name, member in vars(Actor).items():
        if callable(member) and name not in vars(AsyncioActor) and not name.startswith("_"):
            assert _reads_no_private_state(member), f"Actor.{name}"
    assert _reads_no_private_state(Actor.__str__)
    for name, member in vars(Future).items():
        if callable(member) and name not in vars(AsyncioFuture) and not name.startswith("__"):
            assert _reads_no_private_state(member), f"Future.{name}"


@pytest.mark.parametrize("name", ["map", "filter", "join", "reduce"])
def test_derived_futures_are_made_from_the_public_api(name: str):
    # Future.map & co. build the derived future with self.__class__() and set_get_hook(): both
    # ours on an AsyncioFuture.
    source = inspect.getsource(getattr(Future, name))
    assert "self.__class__()" in source
    assert "set_get_hook(" in source
