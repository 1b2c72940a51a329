"""The real-time part of the app: hub, backplane, sessions, tickets; `/ws`, `/metrics`, tickets."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pitchey.protocol import CloseCode
from pitchey.rooms.backplane import Backplane, HistoryLimits, InProcessBackplane
from pitchey.rooms.hub import Hub
from pitchey.rooms.metrics import NodeMetrics
from pitchey.rooms.redis_backplane import RedisBackplane

from .api import Api, Call, client_ip
from .cluster import Cluster, share_cache
from .errors import Forbidden
from .schemas import Schema
from .state import APP_STATE
from .ws import SessionRegistry, TicketStore, websocket_handler

log = logging.getLogger("pitchey.server")


@dataclass
class Realtime:
    hub: Hub
    backplane: Backplane
    tickets: TicketStore
    sessions: SessionRegistry = field(default_factory=SessionRegistry)
    draining: bool = False


class WsTicket(Schema):
    ticket: str
    expires_in: int
    url: str


api = Api()


@api.route(
    "GET",
    "/api/ws/token",
    response=WsTicket,
    tags=("realtime",),
    summary="A one-time ticket (60 s) to open /ws?ticket=... where headers cannot be set",
)
async def ws_ticket(call: Call[Any, Any]) -> WsTicket:
    realtime = call.state.realtime
    ticket = await realtime.tickets.issue(call.user)
    return WsTicket(ticket=ticket, expires_in=int(realtime.tickets.ttl), url=f"/ws?ticket={ticket}")


async def metrics_handler(request: web.Request) -> web.StreamResponse:
    """Prometheus metrics: with PITCHEY_METRICS_TOKEN set, bearer-protected; else loopback only."""
    state = request.app[APP_STATE]
    token = state.settings.metrics_token
    if token is not None:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
            raise Forbidden("Metrics need the metrics token")
    else:
        try:
            # The client's address, not the peer's: behind a local reverse proxy every peer is
            # loopback, which would make the metrics public.
            peer = client_ip(request, state.settings.trust_proxy)
            loopback = ipaddress.ip_address(peer).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise Forbidden("Metrics are served to loopback only unless a token is configured")
    realtime = state.realtime
    realtime.hub.metrics.rooms_active.set(realtime.hub.active_rooms())
    body = generate_latest(realtime.hub.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def setup_realtime(app: web.Application, backplane: Backplane | None = None) -> None:
    """Install /ws and /metrics, and start/stop the hub with the app."""
    state = app[APP_STATE]
    settings = state.settings
    app.router.add_get("/ws", websocket_handler, name="ws")
    app.router.add_get("/metrics", metrics_handler, name="metrics")

    async def context(app: web.Application) -> AsyncIterator[None]:
        limits = HistoryLimits(settings.room_history_size, settings.room_history_seconds)
        redis_plane: RedisBackplane | None = None
        if backplane is not None:
            plane: Backplane = backplane
        elif settings.redis_url:
            plane = redis_plane = RedisBackplane(settings.redis_url, limits)
        else:
            plane = InProcessBackplane(limits)
        cluster: Cluster | None = None
        if settings.redis_url:
            cluster = Cluster(settings.redis_url)
            share_cache(state, cluster)
            await cluster.start(state.revocations)
            state.cluster = cluster
        # After share_cache: rooms invalidate the cache every node reads.
        hub = Hub(
            state.database,
            plane,
            idle_timeout=settings.room_idle_timeout,
            metrics=NodeMetrics(),
            read_cache=state.cache,
            post_batch=settings.room_post_batch,
        )
        if redis_plane is not None:
            redis_plane.on_resync = hub.rebase
            await redis_plane.start()
            state.readiness["redis"] = redis_plane.readiness
        realtime = Realtime(
            hub,
            plane,
            TicketStore(settings.ws_ticket_ttl, redis=cluster.redis if cluster is not None else None),
        )
        state.live = realtime
        state.revocations.subscribe(realtime.sessions.revoked)
        await hub.start()
        yield
        await hub.stop()
        await plane.close()
        if cluster is not None:
            await cluster.close()

    async def drain(app: web.Application) -> None:
        realtime = state.live
        if realtime is None:
            return
        realtime.draining = True
        log.info("draining %d WebSocket sessions", len(realtime.sessions.sessions))
        await realtime.sessions.close_all(
            CloseCode.SERVICE_RESTART, "Server restarting", timeout=min(5.0, settings.shutdown_timeout)
        )

    app.cleanup_ctx.append(context)
    app.on_shutdown.append(drain)
