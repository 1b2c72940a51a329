"""The Hub: this node's registry of live room actors.

It activates a room on first use, passivates it after an idle period (the Durable Objects
hibernation analogue), restarts one that failed and hands its sessions over, hands publications
from the backplane straight to the room's fan-out (no message: an event never waits behind the
commands in the room's inbox), and ticks room metrics once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pykka

from pitchey.actors import ask as actor_ask
from pitchey.protocol import RoomName
from pitchey.protocol.models import NotificationKind
from pitchey.storage.database import Database
from pitchey.storage.messages import MessageStore
from pitchey.storage.ndas import NdaStore
from pitchey.storage.notifications import Notification, NotificationStore
from pitchey.storage.pitches import PitchStore
from pitchey.storage.rooms import RoomStore

from .backplane import Backplane, Broker, ClusterMetrics, PresenceManager, Publication
from .messages import (
    Ask,
    EmitMetrics,
    EvictUser,
    InvestmentSettled,
    Notify,
    Passivate,
    ProjectChanged,
    Rebase,
    Resync,
)
from .metrics import NodeMetrics
from .readcache import NoReadCache, ReadCache
from .room import Room, room_class

R = TypeVar("R")

#: Told of a failed room (`Hub.failure_hook`): its name and the exception, if known.
FailureHook = Callable[[str, BaseException | None], None]

log = logging.getLogger("pitchey.rooms")

PASSIVATION_CONCURRENCY = 4  # snapshot saves at once; well under the database pool
PRESENCE_KEEPALIVE = 5.0  # seconds; the backplane's presence entries live 20 s unrenewed


class Hub:
    def __init__(
        self,
        db: Database,
        backplane: Backplane,
        *,
        idle_timeout: float = 60.0,
        metrics: NodeMetrics | None = None,
        read_cache: ReadCache | None = None,
        post_batch: int = 256,
    ) -> None:
        self.backplane = backplane
        # Most posts a pitch room stores in one commit (1: a commit per post, the un-coalesced
        # path the roomrate bench keeps as its baseline); PITCHEY_ROOM_POST_BATCH in the settings.
        self.post_batch = post_batch
        # The three seams of the backplane (rooms/backplane.py), named for what rooms use them for.
        self.broker: Broker = backplane
        self.presence_manager: PresenceManager = backplane
        self.cluster_metrics: ClusterMetrics = backplane
        self.read_cache: ReadCache = read_cache if read_cache is not None else NoReadCache()
        self.pitches = PitchStore(db)
        self.ndas = NdaStore(db)
        self.room_store = RoomStore(db)
        self.notifications = NotificationStore(db)
        self.messages = MessageStore(db)
        self.idle_timeout = idle_timeout
        self.metrics = metrics or NodeMetrics()
        self._rooms: dict[str, Room] = {}
        self._watched: set[str] = set()
        self._passivating: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.passivation_slots = asyncio.Semaphore(PASSIVATION_CONCURRENCY)
        # Told of every failed room (its name, the exception) before it is replaced: the server
        # installs error reporting here (server/observability.py), so rooms import none of it.
        self.failure_hook: FailureHook | None = None
        backplane.listen(self._on_publication)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._sweep_idle(), name="hub-sweeper"))
        self._tasks.append(asyncio.create_task(self._tick_metrics(), name="hub-metrics"))
        self._tasks.append(asyncio.create_task(self._keep_presence(), name="hub-presence"))

    async def stop(self) -> None:
        """Passivate every room (snapshots saved), then stop the background tasks."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for name, room in list(self._rooms.items()):
            room.subscribers.clear()
            room.watchers = None
            with contextlib.suppress(Exception):
                await actor_ask(room.actor_ref, Passivate(), timeout=5)
            if self._rooms.get(name) is room:
                del self._rooms[name]
                with contextlib.suppress(pykka.ActorDeadError):
                    room.actor_ref.stop(block=False)
        self.metrics.rooms_active.set(0)

    # -- addressing rooms ------------------------------------------------------------------

    def ref(self, room: RoomName) -> pykka.ActorRef[Room]:
        """The live actor of a room, activating it if needed (its state loads before any message).

        Rooms are addressed by the `RoomName` parsed once at the edge (a command, a route's path
        id), never by a string parsed again here."""
        live = self._rooms.get(str(room))
        if live is None or live.actor_stopped.is_set():
            ref = room_class(room).start(self, room)  # adopts itself, see adopt()
            self.metrics.rooms_activated.inc()
            self.metrics.rooms_active.set(len(self._rooms))
            return ref
        return live.actor_ref

    def adopt(self, room: Room) -> None:
        """Called by a room's constructor: the hub owns the room object, not just a ref."""
        self._rooms[room.name] = room

    def tell(self, room: RoomName, message: object) -> None:
        try:
            self.ref(room).tell(message)
        except pykka.ActorDeadError:
            self._rooms.pop(str(room), None)
            self.ref(room).tell(message)

    async def ask(self, room: RoomName, message: Ask[R], timeout: float | None = 30.0) -> R:
        """Ask a room and await its typed answer without blocking the loop; retried once if the
        room passivated or failed between lookup and delivery."""
        try:
            answer = await actor_ask(self.ref(room), message, timeout=timeout)
        except pykka.ActorDeadError:
            self._rooms.pop(str(room), None)
            answer = await actor_ask(self.ref(room), message, timeout=timeout)
        # The room's handler for an Ask[R] returns an R (rooms/room.py); actors are untyped.
        return cast("R", answer)

    async def notify(
        self,
        user_id: int,
        kind: NotificationKind,
        title: str,
        body: str | None = None,
        data: dict[str, object] | None = None,
    ) -> Notification:
        """Store a notification for a user and announce it live in their `user:` room."""
        return await self.ask(RoomName.user(user_id), Notify(kind, title, body, data))

    async def investment_settled(self, pitch_id: int, investors: int) -> None:
        """Announce a settled investment in the pitch's room (`investment_update`)."""
        await self.ask(RoomName.pitch(pitch_id), InvestmentSettled(investors))

    async def project_changed(self, project_id: int, what: str, user_id: int) -> None:
        """Announce a committed change of a production project in its `project:` room."""
        await self.ask(RoomName.project(project_id), ProjectChanged(what, user_id))

    async def evict_user(self, room: RoomName, user_id: int, message: str) -> int:
        """Drop a user's sessions from a room, if it is active on this node (an inactive room has
        no subscribers here; their next subscribe is authorized afresh and refused)."""
        if not self.is_active(str(room)):
            return 0
        return await self.ask(room, EvictUser(user_id, message))

    def active_rooms(self) -> int:
        return len(self._rooms)

    def is_active(self, name: str) -> bool:
        return name in self._rooms

    def room_snapshot(self, name: str) -> dict[str, Any] | None:
        """Live figures of an active room, read without a message (loop thread, no mutation);
        None when the room is not in memory."""
        room = self._rooms.get(name)
        if room is None or room.actor_stopped.is_set():
            return None
        return {
            "room": name,
            "subscribers": len(room.subscribers),
            "presence": room.presence_list(),
            "watchers": len(room.watchers or ()),
        }

    def _on_publication(self, pub: Publication) -> None:
        """Every room event reaching this node, in each room's seq order, on the loop: from the
        publishing room's turn in process, from the subscription reader with Redis. Fanned out
        here and now, outside the room's turns (Room.fan_out says what that may touch): with Redis
        the publishing node used to queue it behind the room's pending posts, and its subscribers
        waited longer than the other node's (docs/benchmarks.md, issue 16)."""
        self.metrics.events.inc()  # every room event reaching this node, whoever published it
        room = self._rooms.get(pub.room)
        if room is not None:
            room.fan_out(pub)

    # -- called by rooms (on the loop, from inside their handlers) -------------------------

    def is_idle(self, room: Room) -> bool:
        return time.monotonic() - room.last_active >= self.idle_timeout or self._closing

    def passivation_over(self, name: str) -> None:
        """A room finished handling its Passivate (asleep now, or staying awake)."""
        self._passivating.discard(name)

    def room_passivated(self, room: Room) -> None:
        if self._rooms.get(room.name) is room:
            del self._rooms[room.name]
            self.metrics.rooms_passivated.inc()
            self.metrics.rooms_active.set(len(self._rooms))

    def room_failed(self, room: Room) -> None:
        """Replace a failed room with a fresh one loaded from storage; its sessions get a resync."""
        if self._rooms.get(room.name) is not room:
            return  # already replaced
        log.error("room %s failed; restarting it from its persisted state", room.name)
        if self.failure_hook is not None:
            # Called from the room's except block (Room.on_receive, on_failure): the exception
            # being handled is the one that broke it.
            try:
                self.failure_hook(room.name, sys.exc_info()[1])
            except Exception:
                log.warning("the room failure hook failed", exc_info=True)
        del self._rooms[room.name]
        subscribers = tuple(room.subscribers)
        watchers = tuple(room.watchers or ())
        room.subscribers.clear()
        room.presence.clear()
        room.watchers = None
        with contextlib.suppress(pykka.ActorDeadError):
            room.actor_ref.stop(block=False)
        self.metrics.room_restarts.inc()
        if self._closing:
            return
        self.tell(room.room, Resync(subscribers, watchers))

    def rebase(self, name: str) -> None:
        """The backplane switched streams for a room (Redis lost or back): resync its sessions."""
        room = self._rooms.get(name)
        # Synchronously, before the new stream's first publication can be fanned out: from here
        # the room holds its events until the Rebase turn has told its sessions the new position.
        if room is not None and room.stream_switched():
            with contextlib.suppress(pykka.ActorDeadError):
                room.actor_ref.tell(Rebase())

    def watched(self, name: str, on: bool) -> None:
        if on:
            self._watched.add(name)
        else:
            self._watched.discard(name)

    # -- background ------------------------------------------------------------------------

    async def _sweep_idle(self) -> None:
        interval = max(0.05, min(self.idle_timeout / 4, 15.0))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for name, room in list(self._rooms.items()):
                # A read on the loop thread, not a mutation: cheaper than a message per room.
                if (
                    name not in self._passivating
                    and not room.subscribers
                    and not room.watchers
                    and now - room.last_active >= self.idle_timeout
                ):
                    # One Passivate in flight per room: 10,000 rooms waiting for a save slot
                    # must not get another one each on every sweep.
                    self._passivating.add(name)
                    with contextlib.suppress(pykka.ActorDeadError):
                        room.actor_ref.tell(Passivate())

    async def _keep_presence(self) -> None:
        """Renew this node's presence in the backplane; there, users of nodes that stopped
        renewing (crashed) are announced as gone."""
        while True:
            await asyncio.sleep(PRESENCE_KEEPALIVE)
            rooms = {
                name: room.presence_counts()
                for name, room in list(self._rooms.items())
                if room.presence and room.announces_presence
            }
            if rooms:
                try:
                    await self.presence_manager.keepalive(rooms)
                except Exception:
                    log.warning("presence keepalive failed", exc_info=True)

    async def _tick_metrics(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                watched = await self.cluster_metrics.metrics_rooms(set(self._watched))
            except Exception:
                log.warning("could not read watched rooms", exc_info=True)
                watched = set(self._watched)
            for name in watched:
                room = self._rooms.get(name)
                if room is not None:
                    with contextlib.suppress(pykka.ActorDeadError):
                        room.actor_ref.tell(EmitMetrics())
