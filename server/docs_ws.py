"""`GET /ws/docs/{pitchId}/{docName}`: the y-websocket transport of co-edited documents.

Authentication as for `/ws` (cookie on the same origin, one-time ticket, bearer subprotocol);
every other refusal is a close code after the upgrade, because a browser cannot read an upgrade's
HTTP status (docs/protocol.md lists the codes). The socket's writer is the same `WsSession` as on
`/ws` (one writer per socket: data, heartbeat, close; bounded queue, 4009; closed on revocation
with 4001 and on restart with 1012); this module adds only what a document connection is: binary
y-protocol messages decoded here (protocol/yjs.py) and handed, in order, to the document's actor
(rooms/docs.py), awaiting each, so a fast writer is held back by its own socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pykka
from aiohttp import WSMsgType, web

from pitchey.actors import ask as actor_ask
from pitchey.protocol import SUBPROTOCOL, TokenBucket
from pitchey.protocol.yjs import (
    Awareness,
    DocCloseCode,
    MalformedMessage,
    SyncStep2,
    SyncUpdate,
    decode_message,
)
from pitchey.rooms.docs import (
    DocClose,
    DocDenied,
    DocIncoming,
    DocLimits,
    DocMetrics,
    DocOpen,
    DocumentActor,
    DocumentHub,
    document_role,
)
from pitchey.storage.database import StorageError
from pitchey.storage.documents import NAMES

from .auth import Principal
from .settings import Settings
from .state import APP_STATE
from .ws import WsSession, authenticate_ws

log = logging.getLogger("pitchey.docs")

MAX_UPDATE = 1024 * 1024
"""The largest update (or awareness message) accepted: 1 MiB; larger closes with 4013."""
MAX_FRAME = 2 * MAX_UPDATE
"""Frames above this are refused by aiohttp's parser itself (1009)."""


@dataclass
class Documents:
    """The node's document registry, created at startup (set here once the app has started)."""

    hub: DocumentHub | None = None


DOCUMENTS: web.AppKey[Documents] = web.AppKey("pitchey.documents", Documents)


class DocSession:
    """One connection to one document: the socket's writer and who is at the other end."""

    __slots__ = ("__weakref__", "bucket", "session", "user_id", "user_type")

    def __init__(self, session: WsSession, principal: Principal, settings: Settings) -> None:
        self.session = session
        self.user_id = principal.user_id
        self.user_type = principal.user_type
        self.bucket = TokenBucket(settings.doc_update_rate, settings.doc_update_burst)

    def __hash__(self) -> int:
        return id(self)

    def deliver(self, frame: bytes) -> bool:
        return self.session.deliver(frame)

    def close_soon(self, code: int, reason: str) -> None:
        self.session.close_soon(code, reason)

    @property
    def open(self) -> bool:
        return self.session.state.value == "open"


@dataclass
class _Conn:
    ref: pykka.ActorRef[DocumentActor] | None = None
    opened: bool = field(default=False)


def _pitch_id(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


async def _open(
    docs: DocumentHub, pitch_id: int, name: str, peer: DocSession
) -> pykka.ActorRef[DocumentActor]:
    """Open the document for this connection; the actor it opened on is the one it talks to
    until it closes (a fresh actor would not know it)."""
    for _ in range(2):
        ref = docs.ref(pitch_id, name)
        try:
            await actor_ask(ref, DocOpen(peer), timeout=30)
            return ref
        except pykka.ActorDeadError:
            continue
    raise pykka.ActorDeadError("document kept stopping")


async def _handle_binary(peer: DocSession, conn: _Conn, data: bytes) -> None:
    try:
        message = decode_message(data)
    except MalformedMessage as exc:
        peer.close_soon(DocCloseCode.MALFORMED, f"Malformed message: {exc}")
        return
    if isinstance(message, (SyncStep2, SyncUpdate, Awareness)):
        size = len(message.payload if isinstance(message, Awareness) else message.update)
        if size > MAX_UPDATE:
            peer.close_soon(DocCloseCode.UPDATE_TOO_LARGE, "Update too large")
            return
        if not peer.bucket.take():
            peer.close_soon(DocCloseCode.RATE_LIMITED, "Too many updates")
            return
    assert conn.ref is not None
    try:
        await actor_ask(conn.ref, DocIncoming(peer, message), timeout=60)
    except pykka.ActorDeadError:
        # The document was restarted (a failure): reconnecting syncs with the fresh copy.
        peer.close_soon(DocCloseCode.SERVICE_RESTART, "Document reloaded")
    except TimeoutError:
        peer.close_soon(DocCloseCode.TRY_AGAIN_LATER, "Try again later")
    except Exception:
        # A bug, not the client's doing: say so (1011) rather than drop the socket unexplained.
        log.exception("document message of user %s failed", peer.user_id)
        peer.close_soon(1011, "Internal error")


async def docs_handler(request: web.Request) -> web.StreamResponse:
    state = request.app[APP_STATE]
    realtime = state.realtime
    principal = await authenticate_ws(request, state, realtime.tickets)  # 401 before the upgrade
    settings = state.settings
    docs = request.app[DOCUMENTS].hub
    ws = web.WebSocketResponse(
        protocols=(SUBPROTOCOL,),
        heartbeat=None,
        autoping=False,
        autoclose=False,
        max_msg_size=MAX_FRAME,
        compress=False,
    )
    await ws.prepare(request)
    transport = request.transport
    assert transport is not None
    session = WsSession(transport, principal, realtime.hub, settings, realtime.sessions.flusher)
    realtime.sessions.add(session)
    peer = DocSession(session, principal, settings)
    gauge = docs.metrics.connections if docs is not None else None
    if gauge is not None:
        gauge.inc()
    conn = _Conn()
    expiry = asyncio.get_running_loop().call_later(
        max(0.0, principal.expires_at - time.time()),
        session.close_soon,
        DocCloseCode.UNAUTHORIZED,
        "Session expired",
    )
    try:
        pitch_id = _pitch_id(request.match_info.get("pitch_id", ""))
        name = request.match_info.get("doc_name", "")
        if realtime.draining or docs is None:
            session.close_soon(DocCloseCode.SERVICE_RESTART, "Server restarting")
        elif pitch_id is None or name not in NAMES:
            session.close_soon(DocCloseCode.NOT_FOUND, "No such document")
        else:
            try:
                await document_role(state.database, pitch_id, principal.user_id, principal.user_type)
                conn.ref = await _open(docs, pitch_id, name, peer)
            except DocDenied as exc:
                session.close_soon(exc.code, exc.message)
            except (StorageError, pykka.ActorDeadError, TimeoutError):
                log.warning("document %s:%s could not be opened", pitch_id, name, exc_info=True)
                session.close_soon(DocCloseCode.TRY_AGAIN_LATER, "Try again later")
            else:
                session.start_heartbeat(settings.ws_heartbeat)
        while True:
            msg = await ws.receive()
            match msg.type:
                case WSMsgType.BINARY:
                    if peer.open and conn.ref is not None:
                        await _handle_binary(peer, conn, msg.data)
                case WSMsgType.TEXT:
                    peer.close_soon(DocCloseCode.MALFORMED, "Binary y-protocol messages only")
                case WSMsgType.PING:
                    session.answer_ping(msg.data)
                case WSMsgType.PONG:
                    session.pong_received()
                case WSMsgType.CLOSE:
                    session.peer_closed(msg.data)
                    break
                case _:
                    break
    finally:
        expiry.cancel()
        session.connection_lost()
        if conn.ref is not None:
            with contextlib.suppress(pykka.ActorDeadError):
                conn.ref.tell(DocClose(peer))
        realtime.sessions.remove(session)
        if gauge is not None:
            gauge.dec()
        session.finished()
    return ws


def setup_docs(app: web.Application) -> None:
    """Install /ws/docs/... and start/stop the node's documents with the app (after the hub:
    documents write the synopsis back through the pitch rooms while passivating)."""
    app.router.add_get("/ws/docs/{pitch_id}/{doc_name}", docs_handler, name="ws-docs")
    holder = Documents()
    app[DOCUMENTS] = holder

    async def context(app: web.Application) -> AsyncIterator[None]:
        state = app[APP_STATE]
        settings = state.settings
        hub = state.realtime.hub
        docs = DocumentHub(
            state.database,
            hub.ask,
            state.realtime.backplane,  # its DocRelay seam: Redis pub/sub across nodes
            limits=DocLimits(
                max_bytes=settings.doc_max_bytes,
                compact_every=settings.doc_compact_every,
                # The rooms' group-commit bound serves documents too (1: a commit per update).
                batch=settings.room_post_batch,
            ),
            idle_timeout=settings.room_idle_timeout,
            metrics=DocMetrics(hub.metrics.registry),
            rooms=hub,  # so a pitch's deletion or an NDA's end reaches its documents at once
        )
        await docs.start()
        holder.hub = docs
        yield
        holder.hub = None
        await docs.stop()

    app.cleanup_ctx.append(context)


__all__ = ["DOCUMENTS", "Documents", "docs_handler", "setup_docs"]
