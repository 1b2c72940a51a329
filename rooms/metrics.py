"""Room figures for dashboards (once a second per watched room) and the node's Prometheus metrics.

Prometheus metrics live in a registry owned by the node, not prometheus_client's global one, so two
apps in one process (tests) do not share counters.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
