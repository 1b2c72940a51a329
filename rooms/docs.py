"""Co-edited documents: one actor per open document (a pitch's `synopsis`, `treatment`, `notes`).

A `DocumentActor` holds the document as a pycrdt (Yrs) `Doc`, its connections and their awareness
states. It handles one message at a time (the input gate). An update's turn takes every update
queued right behind it (from other connections: each connection has one message in flight),
checks each on a scratch document, appends them all to PostgreSQL in one statement, one commit,
that also checks each author's role *now* (storage/documents.py: the group commit), and only then
applies, relays (to the other connections and the other nodes) and answers each in order (the
output gate). A sync step 1 is answered in its own turn, after every earlier message of that
connection: its step 2 acknowledges them as stored.

The actors are kept by a `DocumentHub` beside the room `Hub`: activated on first use, passivated
(compacted, the synopsis written back) after the rooms' idle timeout without connections. A pitch
field is never written here: the synopsis goes to the pitch's room actor as the same `UpdatePitch`
message `PUT /api/pitches/{id}` sends, so the cache and the room's subscribers follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

import pykka
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pycrdt import Doc as _Doc
from pycrdt import XmlElement, XmlFragment, XmlText, merge_updates

from pitchey.actors import AsyncioActor
from pitchey.actors import ask as actor_ask
from pitchey.protocol import RoomName
from pitchey.protocol.yjs import (
    EMPTY_UPDATE,
    Awareness,
    AwarenessEntry,
    DocCloseCode,
    MalformedMessage,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    YMessage,
    awareness_message,
    binary_frame,
    decode_awareness,
    encode_awareness,
    sync_step1_message,
    sync_step2_message,
    update_message,
)
from pitchey.storage.collaborators import CollaboratorStore
from pitchey.storage.database import Database, StorageError, StorageUnavailable
from pitchey.storage.documents import NAMES, DocumentGone, DocumentStore
from pitchey.storage.pitches import Pitch, PitchStore

from .access import Verdict, Viewer, decide
from .backplane import DocRelay, InProcessBackplane
from .messages import UpdatePitch

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("pitchey.docs")

Doc = _Doc[Any]  # documents hold shared types of any kind (the XmlFragment `default` here)

FRAGMENT = "default"  # the XmlFragment Tiptap's Collaboration extension binds by default
SEED_CLIENT_ID = 1  # the server's fixed Yjs client for seeding: every node seeds identically
SYNOPSIS_MAX = 20_000  # as PUT /api/pitches/{id} accepts
REMOTE_AWARENESS_TTL = 30.0  # seconds, as y-protocols' outdatedTimeout
MAX_AWARENESS_CLIENTS = 64  # awareness clients one connection may announce
PASSIVATION_CONCURRENCY = 4  # compactions at once when idle documents passivate


# -- the CRDT, without I/O -------------------------------------------------------------------


class BadUpdate(ValueError):
    """Bytes Yjs cannot decode as an update (or a state vector)."""


def _guard(exc: BaseException) -> None:
    # Yrs errors arrive as ValueError; a Rust panic as pyo3's PanicException (a BaseException).
    if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
        raise exc


def check_update(update: bytes) -> None:
    """Refuse an update Yjs cannot decode, on a scratch document: the live one is never touched
    by bytes that would fail half-way."""
    try:
        Doc().apply_update(update)
    except BaseException as exc:
        _guard(exc)
        raise BadUpdate(str(exc)) from None


def load_doc(snapshot: bytes, tail: list[bytes]) -> Doc:
    doc: Doc = Doc()
    doc.get(FRAGMENT, type=XmlFragment)
    for update in (snapshot, *tail):
        if update != EMPTY_UPDATE:
            doc.apply_update(update)
    return doc


def merge(snapshot: bytes, tail: list[bytes]) -> tuple[bytes, bytes]:
    """Fold updates into one snapshot: (its encoded state, its state vector)."""
    doc = load_doc(snapshot, tail)
    return doc.get_update(), doc.get_state()


def diff(doc: Doc, state_vector: bytes) -> bytes:
    try:
        return doc.get_update(state_vector)
    except BaseException as exc:
        _guard(exc)
        raise BadUpdate(str(exc)) from None


def _text_of(node: Any) -> str:
    if isinstance(node, XmlText):
        return "".join(part for part, *_ in node.diff() if isinstance(part, str))
    if isinstance(node, (XmlElement, XmlFragment)):
        children = list(node.children)
        joiner = "\n" if any(isinstance(c, XmlElement) for c in children) else ""
        return joiner.join(_text_of(c) for c in children)
    return ""


def plain_text(doc: Doc) -> str:
    """The document's text: its blocks' text joined by newlines (formatting dropped)."""
    return _text_of(doc.get(FRAGMENT, type=XmlFragment)).strip()


def seed_update(text: str) -> bytes:
    """A document of one paragraph per line, written by the fixed seed client: byte for byte the
    same on every node, so two nodes seeding at once add the same items once."""
    doc: Doc = Doc(client_id=SEED_CLIENT_ID)
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    with doc.transaction():
        for line in text.splitlines():
            paragraph = fragment.children.append(XmlElement("paragraph"))
            if line:
                paragraph.children.append(XmlText(line))
    return doc.get_update()


def _copy_into(target: Any, node: Any) -> None:
    """Append a copy of `node` (from another document) to the integrated `target`'s children."""
    if isinstance(node, XmlText):
        text = target.children.append(XmlText())
        at = 0
        for part, *rest in node.diff():
            if isinstance(part, str):
                text.insert(at, part, rest[0] if rest and rest[0] else None)
                at += len(part)
    elif isinstance(node, XmlElement):
        # pycrdt types the view's __iter__ loosely; it yields (name, value) pairs.
        attributes: dict[str, Any] = dict(cast(Any, node.attributes))
        element = target.children.append(XmlElement(node.tag, attributes))
        for child in node.children:
            _copy_into(element, child)


def restore_update(current: bytes, version: bytes) -> bytes:
    """An ordinary new update that makes the document's content that of `version`: its content
    now is deleted and the version's is inserted anew (history is never rewritten)."""
    scratch: Doc = Doc()
    scratch.apply_update(current)
    before = scratch.get_state()
    old: Doc = Doc()
    old.apply_update(version)
    source = old.get(FRAGMENT, type=XmlFragment)
    target = scratch.get(FRAGMENT, type=XmlFragment)
    with scratch.transaction():
        del target.children[0 : len(target.children)]
        for child in source.children:
            _copy_into(target, child)
    return scratch.get_update(before)


# -- who may open a document -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocRole:
    role: str  # owner, editor, viewer, nda
    pitch_owner: int

    @property
    def can_write(self) -> bool:
        return self.role in ("owner", "editor")


class DocDenied(Exception):
    def __init__(self, code: DocCloseCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def document_role(db: Database, pitch_id: int, user_id: int, user_type: str) -> DocRole:
    """The caller's role on a pitch's documents now, or DocDenied (FORBIDDEN / NOT_FOUND)."""
    access = await PitchStore(db).access(pitch_id, user_id)
    if access is None:
        raise DocDenied(DocCloseCode.NOT_FOUND, "Pitch not found")
    if access.owner_id == user_id:
        return DocRole("owner", access.owner_id)
    role = await CollaboratorStore(db).role(pitch_id, user_id)
    if role is not None:
        return DocRole(role, access.owner_id)
    if access.has_nda:
        return DocRole("nda", access.owner_id)
    if decide(access, Viewer(user_id, user_type)).verdict is Verdict.NOT_FOUND:
        raise DocDenied(DocCloseCode.NOT_FOUND, "Pitch not found")
    raise DocDenied(DocCloseCode.FORBIDDEN, "Only the pitch's owner, collaborators and NDA holders")


# -- messages --------------------------------------------------------------------------------


class DocPeer(Protocol):
    """What a document needs of a connection (server/docs_ws.py: DocSession)."""

    user_id: int
    user_type: str

    def deliver(self, frame: bytes) -> bool: ...

    def close_soon(self, code: int, reason: str) -> None: ...


@dataclass(frozen=True, slots=True)
class DocOpen:
    peer: DocPeer


@dataclass(frozen=True, slots=True)
class DocIncoming:
    peer: DocPeer
    message: YMessage


@dataclass(frozen=True, slots=True)
class DocClose:
    peer: DocPeer


@dataclass(frozen=True, slots=True)
class DocRelayed:
    kind: bytes  # b"u" update, b"a" awareness
    payload: bytes


@dataclass(frozen=True, slots=True)
class DocSave:
    """Compact now and write the synopsis back (every N updates; when the last editor leaves)."""


@dataclass(frozen=True, slots=True)
class DocPassivate:
    pass


@dataclass(frozen=True, slots=True)
class DocRestore:
    """Restore a version as a new update by `user_id` (who must be a writer now). Answers True,
    or False when the database refused the author."""

    user_id: int
    version: bytes


@dataclass(frozen=True, slots=True)
class DocRecheck:
    """A user's role changed (removed, an NDA ended): close their connections that may no longer
    read, with `reason` as the close reason."""

    user_id: int
    reason: str = "Access removed"


@dataclass(frozen=True, slots=True)
class DocPitchDeleted:
    """The pitch was deleted: every connection closes at once (4004)."""


# -- the actor -------------------------------------------------------------------------------


class DocMetrics:
    """The documents' Prometheus metrics, in the node's registry (served at GET /metrics)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry or CollectorRegistry()
        self.open = Gauge("pitchey_docs_open", "Co-edited document actors in memory", registry=r)
        self.connections = Gauge("pitchey_doc_connections", "Open /ws/docs connections", registry=r)
        self.updates = Counter("pitchey_doc_updates", "Document updates stored", registry=r)
        self.update_seconds = Histogram(
            "pitchey_doc_update_seconds",
            "One turn of updates: checked, stored in PostgreSQL in one commit, applied and relayed",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.commits = Counter(
            "pitchey_doc_update_commits", "Commits that stored document updates (one per turn)", registry=r
        )
        self.batch = Histogram(
            "pitchey_doc_update_batch",
            "Updates one turn stored in one commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.refusals = Counter(
            "pitchey_doc_refusals", "Document connections closed by a refusal", ["code"], registry=r
        )
        self.compactions = Counter("pitchey_doc_compactions", "Document logs compacted", registry=r)


@dataclass(frozen=True, slots=True)
class DocLimits:
    max_bytes: int = 8 * 1024**2
    compact_every: int = 100
    batch: int = 256  # most updates one turn stores in one commit (1: a commit per update)
    batch_bytes: int = 4 * 1024**2  # ... and most bytes (one update may be 1 MiB)


_Reply = pykka.Future[Any] | None  # the asker waiting for a queued update's turn (None: a tell)


@dataclass(slots=True)
class _AwarenessState:
    clock: int
    state: str
    peer: DocPeer | None  # None: a client on another node
    seen: float = field(default_factory=time.monotonic)


def _answer(reply: _Reply, exc: BaseException | None = None) -> None:
    """Answer the asker of an update taken into a batch (at most once; later calls do nothing)."""
    if reply is None:
        return
    try:
        if exc is None:
            reply.set(None)
        elif isinstance(exc, Exception):
            reply.set_exception((type(exc), exc, exc.__traceback__))
        else:  # cancelled: the document is going away, as for a message it never handled
            dead = pykka.ActorDeadError("document stopped before storing the update")
            reply.set_exception((pykka.ActorDeadError, dead, None))
    except queue.Full:
        pass


class DocumentActor(AsyncioActor):
    def __init__(self, docs: DocumentHub, pitch_id: int, name: str) -> None:
        super().__init__()
        self.docs = docs
        self.pitch_id = pitch_id
        self.name = name
        self.key = f"{pitch_id}:{name}"
        self.store = DocumentStore(docs.db)
        self.doc: Doc = Doc()
        self.document_id = 0
        self.size = 0  # the snapshot's bytes plus the tail's
        self.snapshot_size = 0
        self.since_compaction = 0
        self.dirty = False  # changed since the synopsis was last written back
        self.synopsis: str | None = None
        self.owner_id = 0
        self.peers: dict[DocPeer, set[int]] = {}  # connection -> awareness clients it announced
        self.awareness: dict[int, _AwarenessState] = {}
        self.last_active = time.monotonic()
        docs.adopt(self)

    async def on_activate(self) -> None:
        # Listen before loading: an update another node stores meanwhile arrives twice at worst
        # (applying an update twice is a no-op), never not at all.
        await self.docs.relay.doc_attach(self.key, self._relayed)
        try:
            stored = await self.store.open(self.pitch_id, self.name)
            pitch = await self.docs.pitches.get(self.pitch_id)
        except BaseException:
            await self.docs.relay.doc_detach(self.key)
            raise
        if pitch is None:
            await self.docs.relay.doc_detach(self.key)
            raise DocumentGone(f"pitch {self.pitch_id} is gone")
        self.owner_id = pitch.user_id
        self.synopsis = pitch.synopsis
        self.document_id = stored.id
        self.size = stored.size
        self.snapshot_size = len(stored.snapshot)
        self.since_compaction = len(stored.tail)
        self.doc = load_doc(stored.snapshot, stored.tail)
        if stored.created and self.name == "synopsis" and pitch.synopsis:
            seed = seed_update(pitch.synopsis)
            if await self.store.append(self.document_id, self.pitch_id, None, seed) is not None:
                self.doc.apply_update(seed)
                self.size += len(seed)
                await self.docs.relay.doc_publish(self.key, b"u", seed)

    def _relayed(self, kind: bytes, payload: bytes) -> None:
        with contextlib.suppress(pykka.ActorDeadError):
            self.actor_ref.tell(DocRelayed(kind, payload))

    def on_receive(self, message: Any) -> Any:
        if not isinstance(message, (DocPassivate, DocRelayed)):
            self.last_active = time.monotonic()
        match message:
            case DocIncoming():
                return self.incoming(message)
            case DocOpen(peer=peer):
                return self.open(peer)
            case DocClose(peer=peer):
                return self.close(peer)
            case DocRelayed():
                return self.relayed(message)
            case DocSave():
                return self.save()
            case DocPassivate():
                return self.passivate()
            case DocRestore():
                return self.restore(message)
            case DocRecheck(user_id=user_id, reason=reason):
                return self.recheck(user_id, reason)
            case DocPitchDeleted():
                return self.pitch_deleted()
        log.warning("document %s got an unexpected message %r", self.key, type(message).__name__)
        return None

    def on_failure(self, *exc_info: Any) -> None:
        self.docs.failed(self)

    # -- connections -----------------------------------------------------------------------

    def open(self, peer: DocPeer) -> bool:
        self.peers[peer] = set()
        peer.deliver(binary_frame(sync_step1_message(self.doc.get_state())))
        states = self._known_states()
        if states:
            peer.deliver(binary_frame(awareness_message(encode_awareness(states))))
        return True

    def _known_states(self) -> list[AwarenessEntry]:
        now = time.monotonic()
        for cid in [
            c for c, s in self.awareness.items() if s.peer is None and now - s.seen > REMOTE_AWARENESS_TTL
        ]:
            del self.awareness[cid]
        return [AwarenessEntry(cid, s.clock, s.state) for cid, s in self.awareness.items()]

    async def close(self, peer: DocPeer) -> None:
        clients = self.peers.pop(peer, None)
        if clients:
            gone = []
            for cid in clients:
                state = self.awareness.get(cid)
                if state is not None and state.peer is peer:
                    del self.awareness[cid]
                    gone.append(AwarenessEntry(cid, state.clock + 1, "null"))
            if gone:
                payload = encode_awareness(gone)
                self._broadcast(binary_frame(awareness_message(payload)), None)
                await self._publish(b"a", payload)
        if not self.peers and self.dirty:
            await self.save()

    def _broadcast(self, frame: bytes, origin: DocPeer | None) -> None:
        for peer in self.peers:
            if peer is not origin:
                peer.deliver(frame)

    async def _publish(self, kind: bytes, payload: bytes) -> None:
        try:
            await self.docs.relay.doc_publish(self.key, kind, payload)
        except Exception:
            log.warning("could not relay %s of document %s", kind, self.key, exc_info=True)

    # -- messages of a connection ----------------------------------------------------------

    async def incoming(self, incoming: DocIncoming) -> None:
        peer, message = incoming.peer, incoming.message
        if peer not in self.peers:
            return  # closed meanwhile
        match message:
            case SyncStep1(state_vector=sv):
                try:
                    missing = diff(self.doc, sv)
                except BadUpdate:
                    self._refuse(peer, DocCloseCode.MALFORMED, "Malformed state vector")
                    return
                peer.deliver(binary_frame(sync_step2_message(missing)))
            case SyncStep2(update=update) | SyncUpdate(update=update):
                if update != EMPTY_UPDATE:  # "nothing you lack": what every up-to-date peer sends
                    await self.updates(incoming, len(update))
            case Awareness(payload=payload):
                await self.aware(peer, payload)
            case QueryAwareness():
                states = self._known_states()
                peer.deliver(binary_frame(awareness_message(encode_awareness(states))))

    def _refuse(self, peer: DocPeer, code: DocCloseCode, reason: str) -> None:
        # The transport reads nothing more from a closing connection; its awareness states go
        # with the DocClose it sends when the socket ends.
        self.docs.metrics.refusals.labels(str(int(code))).inc()
        peer.close_soon(code, reason)

    def _queued_updates(self, size: int) -> list[tuple[DocIncoming, _Reply]]:
        """The updates waiting at the head of the inbox, taken out to share this turn's commit.

        Only the unbroken run of update messages right behind the current one (a sync step 1,
        an awareness message or anything else stays where it is and keeps its place after
        them), at most `limits.batch` updates and `limits.batch_bytes` bytes in all. Their askers
        (each connection awaits its message's turn) are answered here, by `updates`. The inbox is
        the actor's own, on this loop: `take_queued` is the actor's hook for this (as PitchRoom)."""
        limits = self.docs.limits
        total = size

        def accept(message: Any, _reply: _Reply) -> bool:
            nonlocal total
            if type(message) is not DocIncoming or not isinstance(message.message, (SyncStep2, SyncUpdate)):
                return False
            total += len(message.message.update)
            return total <= limits.batch_bytes

        return self.take_queued(accept, limits.batch - 1)

    async def updates(self, first: DocIncoming, size: int) -> None:
        """Store the update of `first` and every update queued behind it in one commit (the
        group commit), then apply, relay and answer each in order: none is applied, relayed or
        answered before the commit that stored it. A refused update (malformed, beyond the
        size cap, its author no longer a writer) closes only its own connection."""
        batch = [(first, None), *self._queued_updates(size)]
        try:
            await self._update_batch(batch)
        except BaseException as exc:
            # A bug (or the loop closing): `first` is answered by the actor (which then fails and
            # closes every connection, 1011); the askers of the others must not wait for ever.
            for _, reply in batch:
                _answer(reply, exc)
            raise

    async def _update_batch(self, batch: list[tuple[DocIncoming, _Reply]]) -> None:
        started = time.perf_counter()
        accepted: list[tuple[DocPeer, bytes, _Reply]] = []
        size = self.size
        for incoming, reply in batch:
            peer, message = incoming.peer, incoming.message
            assert isinstance(message, (SyncStep2, SyncUpdate))
            update = message.update
            if peer not in self.peers or update == EMPTY_UPDATE:
                _answer(reply)  # closed meanwhile; or nothing to store
                continue
            try:
                check_update(update)
            except BadUpdate:
                self._refuse(peer, DocCloseCode.MALFORMED, "Malformed update")
                _answer(reply)
                continue
            if size + len(update) > self.docs.limits.max_bytes:
                self._refuse(peer, DocCloseCode.DOCUMENT_TOO_LARGE, "Document too large")
                _answer(reply)
                continue
            size += len(update)
            accepted.append((peer, update, reply))
        if not accepted:
            return
        try:
            stored = await self.store.append_many(
                self.document_id, self.pitch_id, [(peer.user_id, update) for peer, update, _ in accepted]
            )
        except (DocumentGone, StorageError) as exc:
            # Nothing was stored, so nothing is applied: each client keeps its updates and sends
            # them again on reconnect (its provider's sync step 2).
            gone = isinstance(exc, DocumentGone)
            for peer, _, reply in accepted:
                if gone:  # the document's row went with its pitch
                    self._refuse(peer, DocCloseCode.NOT_FOUND, "Pitch deleted")
                else:
                    self._refuse(peer, DocCloseCode.TRY_AGAIN_LATER, "Try again later")
                _answer(reply)
            return
        # Committed: now, and only now, apply, relay and answer, in the order stored.
        relayed: list[bytes] = []
        for (peer, update, reply), ok in zip(accepted, stored, strict=True):
            if not ok:
                await self._refused_writer(peer)
                _answer(reply)
                continue
            self.doc.apply_update(update)
            self.size += len(update)
            self._broadcast(binary_frame(update_message(update)), peer)
            relayed.append(update)
            _answer(reply)
        if not relayed:
            return
        self.dirty = True
        # One message to the other nodes per turn: the batch merged into one update.
        await self._publish(b"u", relayed[0] if len(relayed) == 1 else merge_updates(*relayed))
        metrics = self.docs.metrics
        metrics.updates.inc(len(relayed))
        metrics.commits.inc()
        metrics.batch.observe(len(accepted))
        metrics.update_seconds.observe(time.perf_counter() - started)
        self.since_compaction += len(relayed)
        if self._compaction_due():
            self.since_compaction = 0
            self.actor_ref.tell(DocSave())

    def _compaction_due(self) -> bool:
        """Every `compact_every` updates, once the tail is worth folding: at least a quarter of
        the snapshot's bytes, or ten times `compact_every` updates whatever their size.

        A compaction re-encodes the whole document in the actor's turn and writes it twice
        (snapshot and version), so a fixed count made its cost grow with the document: a 1.3 MB
        document spent most of its turns and PostgreSQL's CPU compacting (docs/benchmarks.md,
        co-editing). Scaled by size, the work of compacting stays proportional to what was
        written, and a load still replays at most 10 x compact_every updates (~10 ms)."""
        every = self.docs.limits.compact_every
        if self.since_compaction < every:
            return False
        tail = self.size - self.snapshot_size
        return 4 * tail >= self.snapshot_size or self.since_compaction >= 10 * every

    async def _refused_writer(self, peer: DocPeer) -> None:
        """The database refused the update: say why (still a reader, or no access at all)."""
        try:
            role = await document_role(self.docs.db, self.pitch_id, peer.user_id, peer.user_type)
        except DocDenied:
            self._refuse(peer, DocCloseCode.FORBIDDEN, "Access removed")
            return
        except StorageError:
            self._refuse(peer, DocCloseCode.TRY_AGAIN_LATER, "Try again later")
            return
        self._refuse(peer, DocCloseCode.READ_ONLY, f"Read only ({role.role})")

    async def aware(self, peer: DocPeer, payload: bytes) -> None:
        try:
            entries = decode_awareness(payload)
        except MalformedMessage:
            self._refuse(peer, DocCloseCode.MALFORMED, "Malformed awareness")
            return
        clients = self.peers[peer]
        # A tab announces itself and the tabs it shares a BroadcastChannel with: a handful. More
        # is someone filling this actor's memory with made-up clients.
        if len(clients | {e.client_id for e in entries}) > MAX_AWARENESS_CLIENTS:
            self._refuse(peer, DocCloseCode.RATE_LIMITED, "Too many awareness clients")
            return
        for entry in entries:
            self._remember(entry, peer)
            clients.add(entry.client_id)
        # To every connection, the sender's too, as the y-websocket server does: a client alone in
        # a document then still hears something every 15 s (its own renewal), and the stock
        # provider, which reconnects after 30 s of silence, stays connected.
        self._broadcast(binary_frame(awareness_message(payload)), None)
        await self._publish(b"a", payload)

    def _remember(self, entry: AwarenessEntry, peer: DocPeer | None) -> None:
        known = self.awareness.get(entry.client_id)
        if known is not None and entry.clock < known.clock:
            return
        if entry.removed:
            self.awareness.pop(entry.client_id, None)
        else:
            self.awareness[entry.client_id] = _AwarenessState(entry.clock, entry.state, peer)

    # -- other nodes -----------------------------------------------------------------------

    async def relayed(self, message: DocRelayed) -> None:
        if message.kind == b"r":
            await self.catch_up()
        elif message.kind == b"k":
            await self.recheck(int(message.payload.decode() or 0))
        elif message.kind == b"K":
            user_id, _, reason = message.payload.decode().partition("\n")
            await self.recheck(int(user_id or 0), reason or "Access removed")
        elif message.kind == b"d":
            self.pitch_deleted()
        elif message.kind == b"u":
            try:
                self.doc.apply_update(message.payload)
            except BaseException as exc:
                _guard(exc)
                log.warning("document %s: a relayed update did not apply", self.key)
                return
            self.size += len(message.payload)
            self._broadcast(binary_frame(update_message(message.payload)), None)
        elif message.kind == b"a":
            try:
                entries = decode_awareness(message.payload)
            except MalformedMessage:
                return
            for entry in entries:
                self._remember(entry, None)
            self._broadcast(binary_frame(awareness_message(message.payload)), None)

    async def restore(self, message: DocRestore) -> bool:
        update = restore_update(self.doc.get_update(), message.version)
        if update == EMPTY_UPDATE:
            return True
        stored = await self.store.append(self.document_id, self.pitch_id, message.user_id, update)
        if stored is None:
            return False
        self.doc.apply_update(update)
        self.size += len(update)
        self.dirty = True
        self._broadcast(binary_frame(update_message(update)), None)
        await self._publish(b"u", update)
        return True

    async def recheck(self, user_id: int, reason: str = "Access removed") -> None:
        for peer in [p for p in self.peers if p.user_id == user_id]:
            try:
                await document_role(self.docs.db, self.pitch_id, peer.user_id, peer.user_type)
            except DocDenied as denied:
                if denied.code == DocCloseCode.NOT_FOUND and await self._pitch_gone():
                    self._refuse(peer, DocCloseCode.NOT_FOUND, "Pitch deleted")
                else:
                    self._refuse(peer, DocCloseCode.FORBIDDEN, reason)
            except StorageError:
                log.warning("document %s: could not recheck user %s", self.key, user_id, exc_info=True)

    async def _pitch_gone(self) -> bool:
        try:
            return await self.docs.pitches.access(self.pitch_id, 0) is None
        except StorageError:
            return False

    def pitch_deleted(self) -> None:
        """Every connection goes now, with the reason; what they were sending is refused by the
        database anyway (the document's rows went with the pitch)."""
        self.dirty = False  # nothing to write back to a pitch that is gone
        for peer in list(self.peers):
            self._refuse(peer, DocCloseCode.NOT_FOUND, "Pitch deleted")

    async def catch_up(self) -> None:
        """Relayed messages may have been lost (Redis was away): take what the log holds that
        this copy lacks, and pass it on to the connections."""
        try:
            stored = await self.store.open(self.pitch_id, self.name)
        except StorageError:
            log.warning("document %s could not catch up", self.key, exc_info=True)
            return
        missing = load_doc(stored.snapshot, stored.tail).get_update(self.doc.get_state())
        if missing != EMPTY_UPDATE:
            self.doc.apply_update(missing)
            self._broadcast(binary_frame(update_message(missing)), None)

    # -- saving ----------------------------------------------------------------------------

    async def save(self) -> None:
        """Compact the log into a snapshot and write the synopsis back (for `synopsis`)."""
        try:
            compacted = await self.store.compact(self.document_id, merge)
        except StorageError:
            log.warning("document %s: compaction failed; the log stays", self.key, exc_info=True)
            return
        if compacted is not None:
            self.size = compacted.size
            self.snapshot_size = compacted.size
            self.since_compaction = 0
            self.docs.metrics.compactions.inc()
        await self._write_synopsis()

    async def _write_synopsis(self) -> None:
        if self.name != "synopsis" or not self.dirty:
            return
        text = plain_text(self.doc)[:SYNOPSIS_MAX]
        self.dirty = False
        if text == (self.synopsis or ""):
            return
        try:
            pitch = await self.docs.hub_ask(
                RoomName.pitch(self.pitch_id), UpdatePitch(self.owner_id, {"synopsis": text})
            )
        except Exception:
            self.dirty = True
            log.warning("document %s: could not write the synopsis back", self.key, exc_info=True)
            return
        if pitch is not None:
            self.synopsis = text

    async def passivate(self) -> None:
        if self.peers:
            self.docs.passivation_over(self)
            return
        # Bounded: documents that went idle together must not take the whole pool at once
        # (docs/benchmarks.md, finding 3). A save that fails leaves the log as it is, whole.
        async with self.docs.passivation_slots:
            await self.save()
        await self.docs.relay.doc_detach(self.key)
        self.docs.passivated(self)
        self.actor_ref.stop(block=False)


# -- the registry ----------------------------------------------------------------------------

# The DocumentHub beside each room Hub (one of each per node). What narrows access to a pitch's
# documents happens in a room's turn or in a job, which hold the room Hub and nothing else: this
# lets them tell the documents (`pitch_deleted`, `access_lost`) without the Hub knowing of them.
_BESIDE: weakref.WeakKeyDictionary[Hub, DocumentHub] = weakref.WeakKeyDictionary()


async def pitch_deleted(rooms: Hub, pitch_id: int) -> None:
    """The pitch was deleted (its deletion committed): close its documents' connections on every
    node now. Never raises: the deletion stands, and a connection left open is refused at its
    next update by the database anyway."""
    docs = _BESIDE.get(rooms)
    if docs is None:
        return
    try:
        await docs.pitch_deleted(pitch_id)
    except Exception:
        log.warning("could not close the documents of deleted pitch %s", pitch_id, exc_info=True)


async def access_lost(rooms: Hub, pitch_id: int, user_id: int, reason: str) -> None:
    """`user_id` may have lost access to the pitch (an NDA ended): their document connections
    that may no longer read close now (4003, `reason`) on every node. Never raises."""
    docs = _BESIDE.get(rooms)
    if docs is None:
        return
    try:
        await docs.recheck(pitch_id, user_id, reason)
    except Exception:
        log.warning("could not recheck user %s on pitch %s", user_id, pitch_id, exc_info=True)


HubAsk = Callable[[RoomName, UpdatePitch], Awaitable[Pitch | None]]


class DocumentHub:
    """This node's open documents: activated on first use, passivated when idle."""

    def __init__(
        self,
        db: Database,
        hub_ask: HubAsk,
        relay: DocRelay | None = None,
        *,
        limits: DocLimits | None = None,
        idle_timeout: float = 60.0,
        metrics: DocMetrics | None = None,
        rooms: Hub | None = None,
    ) -> None:
        self.db = db
        self.hub_ask = hub_ask
        # The backplane's fourth seam; a lone node's in-process one relays nothing.
        self.relay: DocRelay = relay if relay is not None else InProcessBackplane()
        self.limits = limits or DocLimits()
        self.idle_timeout = idle_timeout
        self.metrics = metrics or DocMetrics()
        self.pitches = PitchStore(db)
        self._docs: dict[str, DocumentActor] = {}
        self._passivating: set[str] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self.passivation_slots = asyncio.Semaphore(PASSIVATION_CONCURRENCY)
        self._closing = False
        if rooms is not None:
            _BESIDE[rooms] = self

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="docs-sweeper")

    async def stop(self) -> None:
        """Passivate every document (compacted, synopsis written back)."""
        self._closing = True
        for rooms, docs in list(_BESIDE.items()):
            if docs is self:
                del _BESIDE[rooms]
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for actor in list(self._docs.values()):
            actor.peers.clear()
            with contextlib.suppress(Exception):
                await actor_ask(actor.actor_ref, DocPassivate(), timeout=5)
            with contextlib.suppress(pykka.ActorDeadError):
                actor.actor_ref.stop(block=False)
        self._docs.clear()

    def active(self) -> int:
        return len(self._docs)

    def ref(self, pitch_id: int, name: str) -> pykka.ActorRef[DocumentActor]:
        if name not in NAMES:
            raise ValueError(f"unknown document {name!r}")
        live = self._docs.get(f"{pitch_id}:{name}")
        if live is None or live.actor_stopped.is_set():
            return DocumentActor.start(self, pitch_id, name)
        return live.actor_ref

    async def ask(self, pitch_id: int, name: str, message: object, timeout: float = 30.0) -> Any:
        """Ask a document's actor; once more on a fresh one if it passivated meanwhile."""
        try:
            return await actor_ask(self.ref(pitch_id, name), message, timeout=timeout)
        except pykka.ActorDeadError:
            self._docs.pop(f"{pitch_id}:{name}", None)
            return await actor_ask(self.ref(pitch_id, name), message, timeout=timeout)

    async def recheck(self, pitch_id: int, user_id: int, reason: str = "Access removed") -> None:
        """A user lost (or may have lost) access to a pitch: their open connections to its
        documents are checked again now, on this node and, through the relay, on the others;
        those that may no longer read close with 4003 and `reason`."""
        for name in NAMES:
            self.tell(pitch_id, name, DocRecheck(user_id, reason))
            await self.relay.doc_publish(f"{pitch_id}:{name}", b"K", f"{user_id}\n{reason}".encode())

    async def pitch_deleted(self, pitch_id: int) -> None:
        """The pitch is gone: its documents' connections close now (4004 "Pitch deleted"), on
        this node and, through the relay, on the others."""
        for name in NAMES:
            self.tell(pitch_id, name, DocPitchDeleted())
            await self.relay.doc_publish(f"{pitch_id}:{name}", b"d", b"")

    def tell(self, pitch_id: int, name: str, message: object) -> None:
        live = self._docs.get(f"{pitch_id}:{name}")
        if live is not None:
            with contextlib.suppress(pykka.ActorDeadError):
                live.actor_ref.tell(message)

    # -- called by actors ------------------------------------------------------------------

    def adopt(self, actor: DocumentActor) -> None:
        self._docs[actor.key] = actor
        self.metrics.open.set(len(self._docs))

    def passivated(self, actor: DocumentActor) -> None:
        self._passivating.discard(actor.key)
        if self._docs.get(actor.key) is actor:
            del self._docs[actor.key]
        self.metrics.open.set(len(self._docs))

    def passivation_over(self, actor: DocumentActor) -> None:
        self._passivating.discard(actor.key)

    def failed(self, actor: DocumentActor) -> None:
        """A broken handler leaves a document we cannot trust: drop it and close its
        connections (1011); they reconnect to a fresh actor loaded from storage."""
        if self._docs.get(actor.key) is actor:
            del self._docs[actor.key]
            self.metrics.open.set(len(self._docs))
        log.error("document %s failed; its connections reconnect to a fresh copy", actor.key)
        for peer in list(actor.peers):
            peer.close_soon(1011, "Internal error")
        actor.peers.clear()
        task = asyncio.get_running_loop().create_task(self._detach_unless_reopened(actor.key))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _detach_unless_reopened(self, key: str) -> None:
        # A fresh actor for the same document may have attached meanwhile: its subscription stays.
        if key not in self._docs:
            await self.relay.doc_detach(key)

    async def _sweep(self) -> None:
        interval = max(0.05, min(self.idle_timeout / 4, 15.0))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for key, actor in list(self._docs.items()):
                if (
                    key not in self._passivating
                    and not actor.peers
                    and now - actor.last_active >= self.idle_timeout
                ):
                    self._passivating.add(key)
                    with contextlib.suppress(pykka.ActorDeadError):
                        actor.actor_ref.tell(DocPassivate())


__all__ = [
    "FRAGMENT",
    "BadUpdate",
    "DocClose",
    "DocDenied",
    "DocIncoming",
    "DocLimits",
    "DocMetrics",
    "DocOpen",
    "DocPeer",
    "DocPitchDeleted",
    "DocRecheck",
    "DocRelay",
    "DocRestore",
    "DocRole",
    "DocumentActor",
    "DocumentHub",
    "StorageUnavailable",
    "access_lost",
    "check_update",
    "document_role",
    "load_doc",
    "merge",
    "pitch_deleted",
    "plain_text",
    "restore_update",
    "seed_update",
]
