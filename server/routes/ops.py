"""The operators' endpoints (`/api/ops/*`, the data of the web app's /ops) and the start of
`OpsMetrics`, which feeds them and the `metrics:ops` room.

Operators are a role on top of any portal, granted from the command line only (`pitchey operator
add|remove EMAIL`, the `operators` table). Every data endpoint reads the table: a removal holds at
the next request; live `metrics:ops` subscriptions lose it within a second (rooms/metrics.py).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from pitchey.protocol import ProtocolError, parse_room
from pitchey.rooms.metrics import OPERATORS_ONLY, OpsMetrics
from pitchey.storage.operators import OperatorStore

from ..api import Api, Call
from ..errors import Forbidden, NotFound
from ..schemas.ops import OpsOverview, OpsRoom, OpsStatus
from ..state import APP_STATE

api = Api()


class NotAnOperator(Forbidden):
    default_message = OPERATORS_ONLY


def _ops(call: Call[Any, Any]) -> OpsMetrics:
    ops = call.state.realtime.sessions.ops
    assert ops is not None, "ops metrics not started"
    return ops


async def require_operator(call: Call[Any, Any]) -> None:
    """403 unless the caller is an operator now (read from the table on every request)."""
    if not await OperatorStore(call.state.database).is_operator(call.user.user_id):
        raise NotAnOperator()


@api.route(
    "GET",
    "/api/ops/status",
    response=OpsStatus,
    tags=("ops",),
    summary="Whether the caller is an operator (any signed-in account may ask; /ops shows its "
    "refusal from this)",
)
async def ops_status(call: Call[Any, Any]) -> OpsStatus:
    operator = await OperatorStore(call.state.database).is_operator(call.user.user_id)
    return OpsStatus(operator=operator, node=_ops(call).node)


@api.route(
    "GET",
    "/api/ops/overview",
    response=OpsOverview,
    tags=("ops",),
    errors=(NotAnOperator,),
    summary="Operators: the platform's live figures, merged across nodes, per node, and the "
    "busiest rooms (the data of the `metrics:ops` room's frames, for a first paint)",
)
async def ops_overview(call: Call[Any, Any]) -> OpsOverview:
    await require_operator(call)
    ops = _ops(call)
    figures = ops.latest if ops.latest is not None else await ops.tick()
    return OpsOverview.model_validate(figures)


class RoomNotFound(NotFound):
    default_message = "No such room"


@api.route(
    "GET",
    "/api/ops/rooms/{kind:pitch|user|project}/{id}",
    response=OpsRoom,
    tags=("ops",),
    errors=(NotAnOperator, RoomNotFound),
    summary="Operators: one room's subscribers and watchers on this node and who is present on "
    "every node (its rates are live in `metrics:<kind>:<id>`)",
)
async def ops_room(call: Call[Any, Any]) -> OpsRoom:
    await require_operator(call)
    try:
        room = parse_room(f"{call.request.match_info['kind']}:{call.path_id()}")
    except ProtocolError:
        raise RoomNotFound() from None
    hub = call.state.realtime.hub
    name = str(room)
    snapshot = hub.room_snapshot(name)
    local: list[dict[str, Any]] = snapshot["presence"] if snapshot is not None else []
    presence = await hub.presence_manager.presence(name, local)
    return OpsRoom.model_validate(
        {
            "room": name,
            "active": snapshot is not None,
            "subscribers": snapshot["subscribers"] if snapshot is not None else 0,
            "watchers": snapshot["watchers"] if snapshot is not None else 0,
            "presence": presence,
        }
    )


def node_name(port: int) -> str:
    """How /ops names this node: host and port, and a tag that tells two processes apart."""
    return f"{socket.gethostname()}:{port}#{os.getpid() % 10000:04d}{secrets.token_hex(1)}"


def setup_ops(app: web.Application) -> None:
    """Start the operators' figures after the realtime part (its hub and sessions) and stop them
    before it. Install after `realtime.setup_realtime`."""
    state = app[APP_STATE]

    async def context(app: web.Application) -> AsyncIterator[None]:
        realtime = state.realtime
        ops = OpsMetrics(
            realtime.hub,
            realtime.sessions.sessions,
            OperatorStore(state.database).which,
            node=node_name(state.settings.port),
            redis=state.cluster.redis if state.cluster is not None else None,
        )
        realtime.sessions.ops = ops
        await ops.start()
        yield
        await ops.stop()
        realtime.sessions.ops = None

    app.cleanup_ctx.append(context)
