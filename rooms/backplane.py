"""The backplane: what rooms share with the other nodes, as three seams (as Centrifuge separates
its broker and its presence manager).

- `Broker`: where a room's events get their order, their history and their way to every node.
  `publish` assigns the next gapless `seq` of a room, appends the event to the room's bounded
  history and hands it to every node that listens. `recover` answers "what did I miss since seq N
  of epoch E" with all of it or nothing, never a part. It also keeps the node's interest in rooms
  (`attach`/`detach`) and the history a passivating room hands over (`release`/`restore`).
- `PresenceManager`: who is in a room across all nodes, and the `user_joined`/`user_left` events
  of its transitions.
- `ClusterMetrics`: the live figures of watched rooms, merged across nodes.

The in-process implementation serves one node; a Redis one (several nodes) implements the same
three, so rooms and sessions do not change when it arrives. The hub holds each seam under its own
name (`hub.broker`, `hub.presence_manager`, `hub.cluster_metrics`), so a room's code says which it uses.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from pitchey.protocol import events
from pitchey.protocol.events import Event, encode_event, utc_timestamp
from pitchey.protocol.wsframe import text_frame
from pitchey.storage.rooms import RoomSnapshot


@dataclass(frozen=True, slots=True)
class Publication:
    """One room event, encoded once: `frame` is the complete WebSocket frame every subscriber gets."""

    room: str
    seq: int
    epoch: str
    type: str
    frame: bytes
    published_at: float  # time.monotonic() when published, for fan-out latency


@dataclass(frozen=True, slots=True)
class Recovery:
    seq: int
    epoch: str
    recovered: bool
    frames: list[bytes]


Listener = Callable[[Publication], None]


class Broker(Protocol):
    def listen(self, listener: Listener) -> None:
        """Register the node's delivery callback: called on the event loop with every
        publication of the rooms this node is attached to, in each room's seq order. In process
        that is inside `publish` (the publishing room's turn); with Redis, from the subscription
        reader, for the publishing node too (one order on every node). The hub fans out from
        the callback itself, so a listener must not await (rooms/room.py: Room.fan_out)."""

    async def publish(self, room: str, event: Event) -> Publication: ...

    async def publish_many(self, room: str, batch: Sequence[Event]) -> list[Publication]:
        """Publish several events of one room, in order and with consecutive seqs, as one step
        (with Redis: one script call, one round trip): what a room turn that stored a batch of
        posts in one commit announces."""

    async def recover(self, room: str, since: int | None, epoch: str | None) -> Recovery: ...

    async def attach(self, room: str) -> None:
        """This node now has subscribers in `room` (a Redis backplane subscribes to it). When it
        returns, every publication after it reaches the listener: a position `recover` reads
        afterwards is one the listener continues from without a gap."""

    async def detach(self, room: str) -> None: ...

    async def release(self, room: str) -> RoomSnapshot | None:
        """The room is passivating: hand back what must be saved and forget it (None: kept)."""

    async def restore(self, room: str, snapshot: RoomSnapshot) -> None: ...

    async def close(self) -> None: ...


class PresenceManager(Protocol):
    async def presence_update(
        self, room: str, user_id: int, user_type: str, local_tabs: int
    ) -> Publication | None:
        """This node now has `local_tabs` sessions of the user in the room. Publishes
        `user_joined`/`user_left` when the user's presence across all nodes starts or ends."""

    async def presence(self, room: str, local: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Who is in the room on every node (`local` is this node's view)."""

    async def keepalive(self, rooms: dict[str, dict[int, tuple[int, str]]]) -> None:
        """Periodic: this node still holds these users (`{room: {user: (tabs, type)}}`); also
        announces `user_left` for users of nodes that stopped renewing theirs."""


class ClusterMetrics(Protocol):
    async def metrics_rooms(self, local: set[str]) -> set[str]:
        """Rooms watched by a dashboard on any node (`local`: watched on this one)."""

    async def metrics_merge(self, room: str, figures: dict[str, Any]) -> dict[str, Any]:
        """Report this node's figures for a room and return them merged across nodes."""


DocDeliver = Callable[[bytes, bytes], None]
"""Hands a document's relayed (kind, payload) to its actor: `u` update, `a` awareness, `k` a
user to recheck, `r` catch up from the database (the relay may have lost messages)."""


class DocRelay(Protocol):
    """Co-edited documents (rooms/docs.py) between nodes: binary updates and awareness, with no
    seq and no history (a CRDT needs every update, not one order, and PostgreSQL holds them all),
    to the nodes that have the document open. The publishing node does not hear its own."""

    async def doc_attach(self, key: str, deliver: DocDeliver) -> None: ...

    async def doc_detach(self, key: str) -> None: ...

    async def doc_publish(self, key: str, kind: bytes, payload: bytes) -> None: ...


class Backplane(Broker, PresenceManager, ClusterMetrics, DocRelay, Protocol):
    """One implementation of all four seams (in-process, or Redis)."""


@dataclass(frozen=True, slots=True)
class HistoryLimits:
    max_events: int = 1000
    max_age: float = 600.0


class _Stream:
    """One room's position and recent history: (seq, wall time, frame) triples."""

    __slots__ = ("epoch", "history", "seq")

    def __init__(self, epoch: str, seq: int = 0) -> None:
        self.epoch = epoch
        self.seq = seq
        self.history: deque[tuple[int, float, bytes]] | None = None


def new_epoch() -> str:
    return secrets.token_hex(4)


class InProcessBackplane:
    """Single-node backplane: streams live in this process, delivery is a direct call."""

    def __init__(self, limits: HistoryLimits | None = None, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits or HistoryLimits()
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._listeners: list[Listener] = []
        self._present: dict[str, set[int]] = {}

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _stream(self, room: str) -> _Stream:
        stream = self._streams.get(room)
        if stream is None:
            stream = self._streams[room] = _Stream(new_epoch())
        return stream

    def _prune(self, stream: _Stream, now: float) -> None:
        history = stream.history
        if not history:
            return
        cutoff = now - self.limits.max_age
        while history and history[0][1] < cutoff:
            history.popleft()

    async def publish(self, room: str, event: Event) -> Publication:
        stream = self._stream(room)
        stream.seq += 1
        now = self._clock()
        frame = text_frame(
            encode_event(event.type, room=room, seq=stream.seq, data=event.data, timestamp=utc_timestamp())
        )
        if self.limits.max_events > 0:
            if stream.history is None:
                stream.history = deque(maxlen=self.limits.max_events)
            stream.history.append((stream.seq, now, frame))
            self._prune(stream, now)
        pub = Publication(room, stream.seq, stream.epoch, event.type, frame, time.monotonic())
        for listener in self._listeners:
            listener(pub)
        return pub

    async def publish_many(self, room: str, batch: Sequence[Event]) -> list[Publication]:
        return [await self.publish(room, event) for event in batch]

    async def recover(self, room: str, since: int | None, epoch: str | None) -> Recovery:
        stream = self._stream(room)
        if since is None or epoch is None:
            # No epoch, no proof the client's seq belongs to this stream: never replay on a guess.
            return Recovery(stream.seq, stream.epoch, False, [])
        if epoch != stream.epoch or since > stream.seq:
            return Recovery(stream.seq, stream.epoch, False, [])
        if since == stream.seq:
            return Recovery(stream.seq, stream.epoch, True, [])
        self._prune(stream, self._clock())
        history = stream.history
        # Everything after `since` must still be held, or nothing is replayed.
        if not history or history[0][0] > since + 1:
            return Recovery(stream.seq, stream.epoch, False, [])
        frames = [frame for seq, _, frame in history if seq > since]
        return Recovery(stream.seq, stream.epoch, True, frames)

    async def presence_update(
        self, room: str, user_id: int, user_type: str, local_tabs: int
    ) -> Publication | None:
        present = self._present.setdefault(room, set())
        if local_tabs > 0 and user_id not in present:
            present.add(user_id)
            return await self.publish(room, events.user_joined(user_id, user_type))
        if local_tabs <= 0 and user_id in present:
            present.discard(user_id)
            if not present:
                del self._present[room]
            return await self.publish(room, events.user_left(user_id))
        return None

    async def presence(self, room: str, local: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return local  # one node: its view is the whole room

    async def keepalive(self, rooms: dict[str, dict[int, tuple[int, str]]]) -> None:
        return None

    async def metrics_rooms(self, local: set[str]) -> set[str]:
        return local

    async def metrics_merge(self, room: str, figures: dict[str, Any]) -> dict[str, Any]:
        return figures

    async def attach(self, room: str) -> None:
        return None

    async def detach(self, room: str) -> None:
        return None

    async def release(self, room: str) -> RoomSnapshot | None:
        stream = self._streams.pop(room, None)
        if stream is None:
            return None
        self._prune(stream, self._clock())
        items = [[seq, ts, frame.decode("latin-1")] for seq, ts, frame in stream.history or ()]
        return RoomSnapshot(stream.epoch, stream.seq, orjson.dumps(items))

    async def restore(self, room: str, snapshot: RoomSnapshot) -> None:
        if room in self._streams:
            return
        stream = _Stream(snapshot.epoch, snapshot.seq)
        items = orjson.loads(snapshot.history) if snapshot.history else []
        if items and self.limits.max_events > 0:
            stream.history = deque(
                ((int(s), float(t), str(f).encode("latin-1")) for s, t, f in items),
                maxlen=self.limits.max_events,
            )
        self._streams[room] = stream

    # One node: a document has one actor here, there is nobody to relay to.
    async def doc_attach(self, key: str, deliver: DocDeliver) -> None:
        return None

    async def doc_detach(self, key: str) -> None:
        return None

    async def doc_publish(self, key: str, kind: bytes, payload: bytes) -> None:
        return None

    def forget(self, room: str) -> None:
        """Lose a room's history (tests and crash simulation): the next publish starts a new epoch."""
        self._streams.pop(room, None)

    async def close(self) -> None:
        self._streams.clear()
