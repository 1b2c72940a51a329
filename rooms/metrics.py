"""Room figures for dashboards (once a second per watched room), the node's Prometheus metrics,
and the operators' global figures (`OpsMetrics`, the `metrics:ops` room and `/api/ops/*`).

Prometheus metrics live in a registry owned by the node, not prometheus_client's global one, so two
apps in one process (tests) do not share counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from redis.exceptions import RedisError

from pitchey.protocol import ErrorCode, RoomName
from pitchey.protocol import events as wire
from pitchey.protocol.rooms import OPS_ROOM
from pitchey.protocol.wsframe import text_frame
from pitchey.storage.database import StorageError

from .backplane import Publication
from .messages import Subscriber, Unwatch

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("pitchey.ops")


class RoomStats:
    """Counters of one room over the current one-second window."""

    __slots__ = ("dropped", "events_in", "events_out", "latencies", "window_start")

    def __init__(self) -> None:
        self.events_in = 0
        self.events_out = 0
        self.dropped = 0
        self.latencies: list[float] = []
        self.window_start = time.monotonic()

    def record_fanout(self, delivered: int, dropped: int, latency: float) -> None:
        self.events_in += 1
        self.events_out += delivered
        self.dropped += dropped
        if len(self.latencies) < 10_000:
            self.latencies.append(latency)

    def take(self, subscribers: int) -> dict[str, Any]:
        """The window's figures, per second, then a new window."""
        now = time.monotonic()
        span = max(now - self.window_start, 1e-6)
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not lat:
                return None
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3)

        figures = {
            "subscribers": subscribers,
            "eventsInPerSec": round(self.events_in / span, 2),
            "eventsOutPerSec": round(self.events_out / span, 2),
            "droppedFrames": self.dropped,
            "fanoutLatencyMs": {
                "p50": pct(0.5),
                "p99": pct(0.99),
                "max": round(lat[-1] * 1000, 3) if lat else None,
            },
            "windowSeconds": round(span, 3),
        }
        self.events_in = self.events_out = self.dropped = 0
        self.latencies = []
        self.window_start = now
        return figures


class NodeMetrics:
    """The node's Prometheus metrics, served at GET /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.connections = Gauge("pitchey_ws_connections", "Open WebSocket sessions", registry=r)
        self.rooms_active = Gauge("pitchey_rooms_active", "Room actors in memory", registry=r)
        self.rooms_activated = Counter("pitchey_rooms_activated", "Room activations", registry=r)
        self.rooms_passivated = Counter(
            "pitchey_rooms_passivated", "Rooms passivated after idling", registry=r
        )
        self.room_restarts = Counter("pitchey_room_restarts", "Rooms restarted after a failure", registry=r)
        self.events = Counter(
            "pitchey_room_events", "Room events received by this node for fan-out", registry=r
        )
        self.frames_out = Counter("pitchey_frames_out", "Event frames queued to sessions", registry=r)
        self.frames_dropped = Counter(
            "pitchey_frames_dropped", "Frames not delivered because the session was gone", registry=r
        )
        self.fanout_seconds = Histogram(
            "pitchey_fanout_seconds",
            "Publish to last subscriber queued, per event",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.slow_consumer_closes = Counter(
            "pitchey_slow_consumer_closes", "Sessions closed for not keeping up", registry=r
        )
        self.commands = Counter("pitchey_ws_commands", "Client commands received", ["type"], registry=r)
        self.recoveries = Counter(
            "pitchey_recoveries",
            "Subscribes that sent since/epoch, by outcome (recovered: every missed event replayed; "
            "lost: the gap was no longer held, the client reloads)",
            ["outcome"],
            registry=r,
        )
        for outcome in ("recovered", "lost"):
            self.recoveries.labels(outcome)  # present (at 0) from the start: alerts divide by them
        self.subscriptions = Gauge(
            "pitchey_ws_subscriptions",
            "Room subscriptions of open sessions (dashboards excluded)",
            registry=r,
        )

    def record_recovery(self, since: int | None, recovered: bool) -> None:
        """A subscribe was answered; only one that asked for a replay (sent `since`) has an outcome."""
        if since is not None:
            self.recoveries.labels("recovered" if recovered else "lost").inc()


# -- the operators' global figures ----------------------------------------------------------------

OPS_NODES_KEY = "pitchey:ops:nodes"
"""Redis hash: node name -> that node's last report (JSON). Each node writes its own field once a
second and reads them all, so every node can answer with the merge."""
NODE_STALE_SECONDS = 5.0
"""A report older than this is a node that stopped (crashed or drained): left out, then removed."""
ROOMS_PER_NODE = 200
"""Rooms a node reports (the busiest); events of the rest are reported as one remainder."""
TOP_ROOMS = 20
OPERATORS_ONLY = "Operators only: ask an administrator to run `pitchey operator add`"

#: An operator check for many users at once (storage/operators.py: OperatorStore.which).
OperatorCheck = Callable[[Iterable[int]], Awaitable[set[int]]]


class OpsSession(Subscriber, Protocol):
    """What OpsMetrics needs of a live session (server/ws.py: WsSession)."""

    watching: set[RoomName]

    @property
    def rooms(self) -> Collection[RoomName]: ...


def _total(metric: MetricWrapperBase) -> float:
    """A counter's value (summed over its labels), through prometheus_client's public collect()."""
    return sum(s.value for m in metric.collect() for s in m.samples if s.name.endswith("_total"))


def _by_label(metric: MetricWrapperBase, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in metric.collect():
        for s in m.samples:
            if s.name.endswith("_total"):
                out[s.labels[label]] = out.get(s.labels[label], 0.0) + s.value
    return out


def _buckets(histogram: Histogram) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of each bucket, ascending, the last one +Inf."""
    pairs = [
        (float(s.labels["le"]), s.value)
        for m in histogram.collect()
        for s in m.samples
        if s.name.endswith("_bucket")
    ]
    return sorted(pairs)


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile of a cumulative histogram, interpolated inside its bucket exactly as
    Prometheus' histogram_quantile() does (so /ops and a Grafana panel agree); None when empty."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound  # beyond the largest finite bucket: its bound is all we know
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def _rate(count: float, seconds: float) -> float:
    return round(count / max(seconds, 1e-6), 2)


def _node_figures(report: dict[str, Any]) -> dict[str, Any]:
    """A node's wire figures (OpsNodeFigures) from its report."""
    span = report["window"]
    p99 = bucket_quantile(0.99, [(b, c) for b, c in zip(report["bounds"], report["buckets"], strict=True)])
    return {
        "node": report["node"],
        "connections": report["connections"],
        "subscribers": report["subscribers"],
        "watchers": report["watchers"],
        "activeRooms": report["activeRooms"],
        "eventsPerSec": _rate(report["events"], span),
        "deliveriesPerSec": _rate(report["deliveries"], span),
        "slowConsumerCloses": report["slow"],
        "slowConsumerClosesTotal": report["slowTotal"],
        "recovered": report["recovered"],
        "recoveryLost": report["lost"],
        "recoveredTotal": report["recoveredTotal"],
        "recoveryLostTotal": report["lostTotal"],
        "fanoutP99Ms": None if p99 is None else round(p99 * 1000, 3),
        "windowSeconds": round(span, 3),
    }


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Every node's report -> OpsMetricsData: the merge, each node, and the busiest rooms.

    Counts add up across nodes, except events: with several nodes a room's event reaches every
    node that has subscribers in it, so a room's rate is the largest any node saw (as for one
    room's metrics), and the platform's is the sum over rooms. Fan-out p99 comes from the nodes'
    histogram buckets added together, not from averaging percentiles."""
    reports = sorted(reports, key=lambda r: str(r["node"]))
    nodes = [_node_figures(r) for r in reports]
    rooms: dict[str, list[float]] = {}  # room -> [subscribers, events/s, nodes with subscribers]
    other_events = 0.0
    for r in reports:
        for name, subs, count in r["rooms"]:
            entry = rooms.setdefault(name, [0, 0.0, 0])
            entry[0] += subs
            entry[1] = max(entry[1], count / max(r["window"], 1e-6))
            entry[2] += 1 if subs else 0
        other_events += r["eventsOther"] / max(r["window"], 1e-6)
    bounds = reports[0]["bounds"] if reports else []
    summed = [sum(r["buckets"][i] for r in reports if r["bounds"] == bounds) for i in range(len(bounds))]
    p99 = bucket_quantile(0.99, list(zip(bounds, summed, strict=True)))

    def add(field: str) -> Any:
        return sum(n[field] for n in nodes)

    cluster = {
        "connections": add("connections"),
        "subscribers": add("subscribers"),
        "watchers": add("watchers"),
        "activeRooms": add("activeRooms"),
        "eventsPerSec": round(sum(e[1] for e in rooms.values()) + other_events, 2),
        "deliveriesPerSec": round(add("deliveriesPerSec"), 2),
        "slowConsumerCloses": add("slowConsumerCloses"),
        "slowConsumerClosesTotal": add("slowConsumerClosesTotal"),
        "recovered": add("recovered"),
        "recoveryLost": add("recoveryLost"),
        "recoveredTotal": add("recoveredTotal"),
        "recoveryLostTotal": add("recoveryLostTotal"),
        "fanoutP99Ms": None if p99 is None else round(p99 * 1000, 3),
        "windowSeconds": max((n["windowSeconds"] for n in nodes), default=0.0),
    }
    busiest = sorted(rooms.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:TOP_ROOMS]
    return {
        "cluster": cluster,
        "nodes": nodes,
        "rooms": [
            {"room": name, "subscribers": int(e[0]), "eventsPerSec": round(e[1], 2), "nodes": int(e[2])}
            for name, e in busiest
        ],
    }


class OpsMetrics:
    """The operators' view of the platform, computed once a second on every node.

    Each node samples its own figures (from its Prometheus metrics, its sessions and the events
    reaching its rooms), reports them to Redis when there is one, reads every node's report, and
    sends the merge to the operators watching `metrics:ops` on this node. It also keeps who watches
    what by operator privilege and takes it away, within a second, from whoever is no longer one.
    """

    def __init__(
        self,
        hub: Hub,
        sessions: Collection[OpsSession],
        operators: OperatorCheck,
        *,
        node: str,
        redis: Any = None,
        interval: float = 1.0,
    ) -> None:
        self.hub = hub
        self.sessions = sessions
        self.operators = operators
        self.node = node
        self.redis = redis
        self.interval = interval
        self.watchers: set[OpsSession] = set()
        # Rooms' metrics watched only because the watcher is an operator (not the owner).
        self.privileged: dict[OpsSession, set[RoomName]] = {}
        self.latest: dict[str, Any] | None = None
        self._events: Tally[str] = Tally()
        self._task: asyncio.Task[None] | None = None
        self._redis_ok = True
        self._last_at = time.monotonic()
        self._last = self._counters()
        hub.broker.listen(self._on_publication)
        hub.metrics.subscriptions.set_function(lambda: float(sum(len(s.rooms) for s in self.sessions)))

    # -- sampling --------------------------------------------------------------------------

    def _on_publication(self, pub: Publication) -> None:
        self._events[pub.room] += 1

    def _counters(self) -> dict[str, Any]:
        m = self.hub.metrics
        rec = _by_label(m.recoveries, "outcome")
        return {
            "deliveries": _total(m.frames_out),
            "slow": _total(m.slow_consumer_closes),
            "recovered": rec.get("recovered", 0.0),
            "lost": rec.get("lost", 0.0),
            "buckets": _buckets(m.fanout_seconds),
        }

    def sample(self) -> dict[str, Any]:
        """This node's report for the window since the last sample (and a new window)."""
        now = time.monotonic()
        span = max(now - self._last_at, 1e-6)
        current, last = self._counters(), self._last
        self._last_at, self._last = now, current
        events, self._events = self._events, Tally()
        subscribers: Tally[str] = Tally()
        watchers = 0
        for s in list(self.sessions):
            subscribers.update(str(r) for r in s.rooms)
            watchers += len(s.watching)
        watchers += len(self.watchers)
        names = set(subscribers) | set(events)
        busiest = sorted(names, key=lambda n: (-subscribers[n], -events[n], n))[:ROOMS_PER_NODE]
        bounds = [b for b, _ in current["buckets"]]
        deltas = [c - p for (_, c), (_, p) in zip(current["buckets"], last["buckets"], strict=True)]
        return {
            "node": self.node,
            "at": time.time(),
            "window": span,
            "connections": len(self.sessions),
            "subscribers": sum(subscribers.values()),
            "watchers": watchers,
            "activeRooms": self.hub.active_rooms(),
            "events": sum(events.values()),
            "eventsOther": sum(events.values()) - sum(events[n] for n in busiest),
            "rooms": [[n, subscribers[n], events[n]] for n in busiest],
            "deliveries": current["deliveries"] - last["deliveries"],
            "slow": int(current["slow"] - last["slow"]),
            "slowTotal": int(current["slow"]),
            "recovered": int(current["recovered"] - last["recovered"]),
            "lost": int(current["lost"] - last["lost"]),
            "recoveredTotal": int(current["recovered"]),
            "lostTotal": int(current["lost"]),
            # +Inf does not survive JSON: the last bound is implied.
            "bounds": [b if math.isfinite(b) else 1e300 for b in bounds],
            "buckets": deltas,
        }

    async def _exchange(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        """Write this node's report, read everyone's (this node's alone without Redis)."""
        if self.redis is None:
            return [report]
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(OPS_NODES_KEY, self.node, orjson.dumps(report))
                pipe.expire(OPS_NODES_KEY, 60)
                pipe.hgetall(OPS_NODES_KEY)
                result = await pipe.execute()
        except (RedisError, OSError) as exc:
            if self._redis_ok:
                log.warning("ops figures of other nodes unavailable (%s): showing this node's", exc)
            self._redis_ok = False
            return [report]
        self._redis_ok = True
        reports, stale = [report], []
        for key, raw in result[-1].items():
            name = key.decode() if isinstance(key, bytes) else str(key)
            if name == self.node:
                continue
            other = orjson.loads(raw)
            if time.time() - float(other.get("at", 0)) > NODE_STALE_SECONDS:
                stale.append(name)
            else:
                reports.append(other)
        if stale:
            with contextlib.suppress(RedisError, OSError):
                await self.redis.hdel(OPS_NODES_KEY, *stale)
        return reports

    async def tick(self) -> dict[str, Any]:
        """One window: sample, exchange, merge, send to this node's watchers, re-check operators."""
        merged = merge_reports(await self._exchange(self.sample()))
        self.latest = merged
        if self.watchers:
            frame = text_frame(wire.metrics(RoomName.ops(), merged))
            for s in list(self.watchers):
                if not s.deliver(frame):
                    self.watchers.discard(s)
        await self.recheck()
        return merged

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:
                log.warning("ops figures failed this second", exc_info=True)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ops-metrics")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self.redis.hdel(OPS_NODES_KEY, self.node)  # gone now, not in 5 s

    # -- who watches (called by the session, server/ws.py) ---------------------------------

    async def is_operator(self, user_id: int) -> bool:
        return user_id in await self.operators((user_id,))

    async def may_watch(self, session: OpsSession) -> bool:
        """Whether the session's user may watch any room's metrics (an operator); False when the
        database cannot say (the refusal the room gave stands)."""
        try:
            return await self.is_operator(session.user_id)
        except StorageError:
            return False

    async def watch(self, session: OpsSession, cid: Any) -> None:
        """Subscribe a session to `metrics:ops`: operators only."""
        try:
            allowed = await self.is_operator(session.user_id)
        except StorageError:
            unavailable = wire.error_frame(ErrorCode.UNAVAILABLE, "Try again shortly", id=cid, room=OPS_ROOM)
            session.deliver(text_frame(unavailable))
            return
        if not allowed:
            session.deliver(
                text_frame(wire.error_frame(ErrorCode.FORBIDDEN, OPERATORS_ONLY, id=cid, room=OPS_ROOM))
            )
            return
        self.watchers.add(session)
        session.deliver(
            text_frame(wire.subscribed(OPS_ROOM, id=cid, seq=0, epoch="", recovered=False, presence=[]))
        )
        if self.latest is not None:  # figures at once, not after the next tick
            session.deliver(text_frame(wire.metrics(RoomName.ops(), self.latest)))

    def unwatch(self, session: OpsSession, cid: Any) -> bool:
        """Unsubscribe from `metrics:ops`; False when the session was not watching it."""
        if session not in self.watchers:
            return False
        self.watchers.discard(session)
        session.deliver(text_frame(wire.unsubscribed(OPS_ROOM, cid)))
        return True

    def privileged_watch(self, session: OpsSession, room: RoomName) -> None:
        """The session watches `room`'s metrics only because it is an operator's."""
        self.privileged.setdefault(session, set()).add(room)

    def forget(self, session: OpsSession) -> None:
        """The session is gone (its room watches are left by the session itself)."""
        self.watchers.discard(session)
        self.privileged.pop(session, None)

    async def recheck(self) -> None:
        """Take the global room and privileged room metrics from sessions whose user is no longer
        an operator (`pitchey operator remove`): an `error` FORBIDDEN, then `unsubscribed`."""
        for s, rooms in list(self.privileged.items()):
            rooms.intersection_update(s.watching)  # unwatched meanwhile
            if not rooms:
                del self.privileged[s]
        users = {s.user_id for s in self.watchers} | {s.user_id for s in self.privileged}
        if not users:
            return
        try:
            still = await self.operators(users)
        except StorageError:
            return  # checked again next second
        gone = "You are no longer an operator"
        for s in [s for s in self.watchers if s.user_id not in still]:
            self.watchers.discard(s)
            s.deliver(text_frame(wire.error_frame(ErrorCode.FORBIDDEN, gone, room=OPS_ROOM)))
            s.deliver(text_frame(wire.unsubscribed(OPS_ROOM)))
        for s, rooms in [(s, r) for s, r in self.privileged.items() if s.user_id not in still]:
            del self.privileged[s]
            for room in rooms:
                s.watching.discard(room)
                self.hub.tell(room.target, Unwatch(s))
                s.deliver(text_frame(wire.error_frame(ErrorCode.FORBIDDEN, gone, room=str(room))))
                s.deliver(text_frame(wire.unsubscribed(room)))
