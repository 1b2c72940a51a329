"""Room actors: the Durable Objects of the seed, one per pitch and one per user.

A room owns its subscribers, presence and live counters, and handles one message at a time: async
handlers finish before the next message starts (the input gate). Every event that announces a write
is published only after the write committed (the output gate): handlers write first, then publish.
"""

from __future__ import annotations

import datetime
import inspect
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from pitchey.actors import AsyncioActor
from pitchey.protocol import ErrorCode, RoomName, events
from pitchey.protocol.events import Event, ack, error_frame
from pitchey.protocol.models import (
    DirectMessageOut,
    MessageOut,
    NdaEventOut,
    NdaOut,
    NdaRequestEventOut,
    NotificationOut,
    RoomMessageOut,
)
from pitchey.protocol.wsframe import text_frame
from pitchey.storage.database import StorageError, StorageUnavailable
from pitchey.storage.messages import DirectMessage as StoredDirectMessage
from pitchey.storage.ndas import Nda, NdaAlreadyDecided, NdaAlreadyRequested
from pitchey.storage.notifications import Notification
from pitchey.storage.pitches import Access, DeletedPitch, Pitch
from pitchey.storage.rooms import StoredMessage

from .access import can_view_pitch
from .backplane import Publication, Recovery
from .messages import (
    DecideNda,
    DeletePitch,
    DirectMessage,
    EmitMetrics,
    EvictUser,
    ExpireNda,
    InvestmentSettled,
    Join,
    Leave,
    LikeResult,
    Notify,
    Passivate,
    Post,
    ProjectChanged,
    QueryPresence,
    Rebase,
    RecheckAccess,
    RecordView,
    RequestNda,
    Resync,
    SessionCommand,
    SetLike,
    Subscriber,
    TypingNotice,
    Unwatch,
    UpdatePitch,
    Watch,
)
from .metrics import RoomStats
from .readcache import CATALOG_TAG, pitch_tag, viewer_tag

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("pitchey.rooms")


class RoomRefusal(Exception):
    """An expected refusal from a room handler: reported to the caller, the room carries on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def refusal_of(exc: BaseException) -> tuple[str, str] | None:
    """The error code and words for a turn that failed on its message rather than on the room:
    an expected refusal, storage trouble, or the database refusing a value the message carried
    (SQLSTATE class 22, data exception, or 23, integrity constraint; read as the standard's
    `sqlstate`, so this module names no driver). None for anything else: that is a bug.

    Text and ids are validated at the edge (protocol/text.py, server/schemas/fields.py), so the
    database should never refuse a value; this keeps a validation gap from costing every
    subscriber of the room a resync."""
    if isinstance(exc, RoomRefusal):
        return exc.code, exc.message
    if isinstance(exc, StorageUnavailable):
        return ErrorCode.UNAVAILABLE, "The database is unavailable; try again"
    if isinstance(exc, StorageError):
        return ErrorCode.CONFLICT, str(exc) or "Refused by storage"
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in ("22", "23"):
        return ErrorCode.BAD_FRAME, "The database refused this command's data"
    return None


def _error_frame(code: str, message: str, **kw: Any) -> bytes:
    """A complete WebSocket frame carrying an `error` event (sessions queue frames, not JSON)."""
    return text_frame(error_frame(code, message, **kw))


class Hold:
    """Publications that reached the room while a turn was establishing sessions' position
    (join-time buffering).

    Fan-out runs outside the room's turns (from the backplane's listener: the Redis reader, or the
    publishing turn in process), so a turn that reads the stream's position and then awaits
    anything could miss an event that arrives in between, or send one twice. Such a turn opens a
    hold *before* it reads the position; every publication reaching the room meanwhile is kept
    here, and the turn replays those after the position, in order, once. Bounded: past `limit`
    bytes the frames are dropped and only the last publication is remembered, which moves the
    session's position there (it reloads, `recovered: false`) instead of queueing what it could
    not take."""

    __slots__ = ("frames", "last", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.frames: list[Publication] | None = []
        self.last: Publication | None = None

    def add(self, pub: Publication) -> None:
        self.last = pub
        if self.frames is not None:
            self.size += len(pub.frame)
            if self.size > self.limit:
                self.frames = None
            else:
                self.frames.append(pub)

    def after(self, seq: int, epoch: str) -> tuple[int, list[bytes], bool]:
        """What follows position `seq` of stream `epoch`: (the position reached, the frames to send
        after it, whether they are all of them). Publications of another stream are not this
        position's: a stream switch sends its own resync."""
        if self.frames is None:
            last = self.last
            if last is None or last.epoch != epoch or last.seq <= seq:
                return seq, [], True
            return last.seq, [], False
        later = [p for p in self.frames if p.epoch == epoch and p.seq > seq]
        if not later:
            return seq, [], True
        return later[-1].seq, [p.frame for p in later], True


#: Bytes a stream switch (Rebase) holds for the room's subscribers before it moves their position.
REBASE_HOLD_BYTES = 1 << 20


class Room(AsyncioActor):
    """State and behaviour common to every room."""

    def __init__(self, hub: Hub, room: RoomName) -> None:
        super().__init__()
        self.hub = hub
        self.room = room
        self.name = str(room)  # the wire name: the key of the hub's map and of the backplane
        # session -> last seq it already has; events at or below it are not sent again.
        self.subscribers: dict[Subscriber, int] = {}
        self.presence: dict[int, list[Subscriber]] = {}
        self.watchers: set[Subscriber] | None = None
        self.stats = RoomStats()
        self.last_active = time.monotonic()
        self.attached = False
        # Turns establishing sessions' position (join, resync, rebase) hold what arrives meanwhile.
        self.holds: list[Hold] = []
        # Stream switches announced (hub.rebase) whose Rebase turn has not finished: while any
        # is pending, nothing is delivered live (the subscribers' positions belong to the old
        # stream); the last Rebase tells them the new position and replays what was held.
        self.rebases = 0
        self.rebase_hold: Hold | None = None
        # (epoch, seq) of the last publication fanned out: each is fanned out once, in order.
        self.fanned: tuple[str, int] = ("", 0)
        hub.adopt(self)

    # -- lifecycle -------------------------------------------------------------------------

    # Awaited before the first message (the input gate): AsyncioActor's async start hook.
    async def on_activate(self) -> None:
        try:
            snapshot = await self.hub.room_store.load_snapshot(self.name)
        except StorageUnavailable:
            # Without its snapshot the room starts a new epoch (clients see `recovered: false`,
            # never a silent gap); failing here would drop the Join that activated it, and the
            # session would never hear `subscribed`.
            log.warning("room %s starts without its snapshot: database unavailable", self.name)
            snapshot = None
        if snapshot is not None:
            await self.hub.broker.restore(self.name, snapshot)
        await self.load()

    async def load(self) -> None:
        """Subclasses load their persisted state here (inside activation)."""

    def on_failure(self, *exc_info: Any) -> None:
        self.hub.room_failed(self)

    def on_receive(self, message: Any) -> Any:
        if not isinstance(message, (Passivate, EmitMetrics)):
            self.last_active = time.monotonic()
        try:
            result = self.dispatch(message)
        except Exception as exc:
            return self._turn_failed(message, exc)
        if inspect.iscoroutine(result):
            return self._guarded(message, result)
        return result

    async def _guarded(self, message: Any, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        except Exception as exc:
            return self._turn_failed(message, exc)

    def _turn_failed(self, message: Any, exc: Exception) -> None:
        """A turn raised. A refusal (`refusal_of`) is the message's own failure: a session's
        command is answered with an `error` frame carrying its id, an `Ask` gets the exception,
        and the room carries on untouched. Anything else is a bug: the command's sender still
        hears of it (INTERNAL), then the room restarts from storage, because a handler that broke
        may have left state we cannot trust (its subscribers get a resync)."""
        refusal = refusal_of(exc)
        if isinstance(message, SessionCommand):
            code, text = refusal or (ErrorCode.INTERNAL, "The room could not handle this command")
            message.session.deliver(_error_frame(code, text, id=message.id, room=self.name))
            if refusal is not None:
                log.info("room %s refused a %s: %s", self.name, type(message).__name__, text)
                return None
        elif refusal is not None:
            raise exc  # to the asker; a refused tell of the room's own still fails the room
        self.hub.room_failed(self)
        raise exc

    def dispatch(self, message: Any) -> Any:
        match message:
            case Join():
                return self.join(message)
            case Leave():
                return self.leave(message)
            case Watch():
                return self.watch(message)
            case Unwatch():
                return self.unwatch(message)
            case QueryPresence():
                return self.query_presence(message)
            case EmitMetrics():
                return self.emit_metrics()
            case Resync():
                return self.resync(message)
            case Rebase():
                return self.rebase()
            case Passivate():
                return self.passivate()
        return self.handle(message)

    def handle(self, message: Any) -> Any:
        """Room-kind-specific messages."""
        log.warning("room %s got an unexpected message %r", self.name, type(message).__name__)
        return None

    # -- publishing and fan-out ------------------------------------------------------------

    async def publish(self, event: Event) -> Publication:
        """Publish an event of this room. Call only after the write it announces committed."""
        pub = await self.hub.broker.publish(self.name, event)
        self._fan_out_own((pub,))
        return pub

    async def publish_many(self, batch: list[Event]) -> list[Publication]:
        """Publish events of this room in order, as one step of the backplane (one Redis round
        trip for a turn's whole batch of posts, not one per post). Only after their commit."""
        if len(batch) <= 1:
            return [await self.publish(event) for event in batch]
        pubs = await self.hub.broker.publish_many(self.name, batch)
        self._fan_out_own(pubs)
        return pubs

    def _fan_out_own(self, pubs: Sequence[Publication]) -> None:
        """Fan out this turn's own publications from the backplane's answer, without waiting for
        them to come back through the subscription, when each is the very next event of the
        stream: then nothing published elsewhere can still be ahead of it, and the order stays
        the stream's. Otherwise (another node's event not yet read) the subscription delivers it
        in order, and fan_out drops the copy that comes back. In process the listener has
        already fanned it out, so nothing happens here."""
        for pub in pubs:
            epoch, last = self.fanned
            if pub.epoch != epoch or pub.seq != last + 1:
                return
            self.fan_out(pub)

    def fan_out(self, pub: Publication) -> None:
        """Queue one publication to every subscriber that does not have it yet.

        Called by the hub straight from the backplane's listener, not as a message: in process
        inside the publishing turn, with Redis from the subscription reader, in seq order either
        way, so an event never waits behind the commands queued in the room's inbox. Only what
        is read here is shared with the turns (all on the loop thread, no await in between): the
        subscribers and their positions, and the holds of turns establishing a position."""
        epoch, last = self.fanned
        if pub.seq <= last and pub.epoch == epoch:
            return  # the publishing turn fanned it out already (_fan_out_own)
        self.fanned = (pub.epoch, pub.seq)
        for hold in self.holds:
            hold.add(pub)
        if self.rebases:
            return
        frame, seq = pub.frame, pub.seq
        delivered = dropped = 0
        for session, have in self.subscribers.items():
            if seq > have:
                if session.deliver(frame):
                    delivered += 1
                else:
                    dropped += 1
        latency = time.monotonic() - pub.published_at
        self.stats.record_fanout(delivered, dropped, latency)
        m = self.hub.metrics
        m.frames_out.inc(delivered)
        if dropped:
            m.frames_dropped.inc(dropped)
        m.fanout_seconds.observe(latency)

    # -- membership ------------------------------------------------------------------------

    def presence_list(self) -> list[dict[str, Any]]:
        return [
            {"userId": uid, "userType": sessions[0].user_type, "connections": len(sessions)}
            for uid, sessions in self.presence.items()
        ]

    async def presence_view(self) -> list[dict[str, Any]]:
        """Presence across every node (this node's view alone on a single node)."""
        return await self.hub.presence_manager.presence(self.name, self.presence_list())

    async def query_presence(self, msg: QueryPresence) -> None:
        msg.session.deliver(text_frame(events.presence(self.name, await self.presence_view(), msg.id)))

    async def _attach(self) -> None:
        if not self.attached:
            await self.hub.broker.attach(self.name)
            self.attached = True

    def _open_hold(self, limit: int) -> Hold:
        hold = Hold(limit)
        self.holds.append(hold)
        return hold

    def _close_hold(self, hold: Hold) -> None:
        if hold in self.holds:
            self.holds.remove(hold)

    async def join(self, msg: Join) -> None:
        session = msg.session
        # Opened before the position is read: whatever arrives from here on is replayed once
        # after it (join-time buffering), however long the reads below take.
        hold = self._open_hold(session.max_buffer // 2)
        try:
            await self._join(msg, hold)
        finally:
            self._close_hold(hold)

    async def _join(self, msg: Join, hold: Hold) -> None:
        session = msg.session
        await self._attach()
        # Decided before a re-subscribe drops the tab: a user already here is not announced again.
        first_tab = session.user_id not in self.presence
        if session in self.subscribers:
            # Re-subscribing is how a client asks for a replay; answer it like a first join.
            del self.subscribers[session]
            self._remove_presence(session)
        recovery = await self.hub.broker.recover(self.name, msg.since, msg.epoch)
        if recovery.frames and sum(map(len, recovery.frames)) > session.max_buffer // 2:
            # A replay the session could not even queue would close it as a slow consumer, and
            # every reconnect would replay it again. Never partial: the client reloads instead.
            recovery = Recovery(recovery.seq, recovery.epoch, False, [])
        self.presence.setdefault(session.user_id, []).append(session)
        presence = await self.presence_view()
        # No await from here until the session is a subscriber: nothing can slip in between.
        seq, held, complete = hold.after(recovery.seq, recovery.epoch)
        if not complete:
            # More arrived meanwhile than the session could queue: it starts after all of it.
            recovery = Recovery(recovery.seq, recovery.epoch, False, [])
        self.hub.metrics.record_recovery(msg.since, recovery.recovered)  # for /ops and alerts
        session.deliver(
            text_frame(
                events.subscribed(
                    self.name,
                    id=msg.id,
                    seq=recovery.seq if complete else seq,
                    epoch=recovery.epoch,
                    recovered=recovery.recovered,
                    presence=presence,
                )
            )
        )
        for frame in recovery.frames:
            session.deliver(frame)
        for frame in held:
            session.deliver(frame)
        self.subscribers[session] = seq
        if first_tab:
            await self.presence_changed(session)

    @property
    def announces_presence(self) -> bool:
        return self.room.kind in ("pitch", "project")

    def _remove_presence(self, session: Subscriber) -> bool:
        """Drop one tab; True when it was the user's last one in this room."""
        tabs = self.presence.get(session.user_id)
        if not tabs:
            return False
        try:
            tabs.remove(session)
        except ValueError:
            return False
        if tabs:
            return False
        del self.presence[session.user_id]
        return True

    async def leave(self, msg: Leave) -> None:
        session = msg.session
        if self.subscribers.pop(session, None) is None:
            if msg.reply:
                session.deliver(
                    _error_frame(ErrorCode.NOT_SUBSCRIBED, "Not subscribed", id=msg.id, room=self.name)
                )
            return
        if msg.reply:
            session.deliver(text_frame(events.unsubscribed(self.name, msg.id)))
        if self._remove_presence(session):
            await self.presence_changed(session)

    async def evict(self, session: Subscriber, code: str, message: str, *, announce: bool = True) -> None:
        """Unsubscribe a session on the server's initiative: an `error` then an `unsubscribed`."""
        if self.subscribers.pop(session, None) is None:
            return
        session.evicted(self.room)
        session.deliver(_error_frame(code, message, room=self.name))
        session.deliver(text_frame(events.unsubscribed(self.name)))
        if self._remove_presence(session) and announce:
            await self.presence_changed(session)

    async def presence_changed(self, session: Subscriber) -> None:
        """A user's first tab arrived or last tab left this node: the backplane decides whether
        that starts or ends their presence in the room across all nodes, and announces it."""
        if self.announces_presence:
            tabs = len(self.presence.get(session.user_id, ()))
            await self.hub.presence_manager.presence_update(
                self.name, session.user_id, session.user_type, tabs
            )

    def presence_counts(self) -> dict[int, tuple[int, str]]:
        return {uid: (len(tabs), tabs[0].user_type) for uid, tabs in self.presence.items() if tabs}

    def watch(self, msg: Watch) -> None:
        if self.watchers is None:
            self.watchers = set()
        self.watchers.add(msg.session)
        self.hub.watched(self.name, True)
        # A dashboard's subscription has no stream: nothing to recover, nobody present.
        msg.session.deliver(
            text_frame(
                events.subscribed(
                    self.room.metrics_room, id=msg.id, seq=0, epoch="", recovered=False, presence=[]
                )
            )
        )

    def unwatch(self, msg: Unwatch) -> None:
        if self.watchers and msg.session in self.watchers:
            self.watchers.discard(msg.session)
            if msg.reply:
                msg.session.deliver(text_frame(events.unsubscribed(self.room.metrics_room, msg.id)))
        elif msg.reply:
            msg.session.deliver(
                _error_frame(
                    ErrorCode.NOT_SUBSCRIBED, "Not subscribed", id=msg.id, room=self.room.metrics_room
                )
            )
        if not self.watchers:
            self.watchers = None
            self.hub.watched(self.name, False)

    async def emit_metrics(self) -> None:
        """Once a second while the room is watched on any node: report this node's figures and,
        for dashboards connected here, send the figures merged across nodes."""
        figures = self.stats.take(len(self.subscribers))
        merged = await self.hub.cluster_metrics.metrics_merge(self.name, figures)
        if not self.watchers:
            return
        frame = text_frame(events.metrics(self.room.metrics_room, merged))
        for w in list(self.watchers):
            if not w.deliver(frame):
                self.watchers.discard(w)

    async def resync(self, msg: Resync) -> None:
        """Take over a failed predecessor's sessions and tell each where the stream stands.

        Clients whose last seen seq is behind re-subscribe with `since` and recover the gap.
        """
        limit = min((s.max_buffer // 2 for s in msg.subscribers), default=REBASE_HOLD_BYTES)
        hold = self._open_hold(limit)
        try:
            await self._attach()
            recovery = await self.hub.broker.recover(self.name, None, None)
        finally:
            self._close_hold(hold)
        seq, held, _ = hold.after(recovery.seq, recovery.epoch)
        for session in msg.subscribers:
            self.subscribers[session] = seq
            self.presence.setdefault(session.user_id, []).append(session)
        frame = self._resync_frame(recovery.epoch, seq)
        for session in msg.subscribers:
            session.deliver(frame)
            for f in held:
                session.deliver(f)
        for w in msg.watchers:
            if self.watchers is None:
                self.watchers = set()
            self.watchers.add(w)
            self.hub.watched(self.name, True)

    def _resync_frame(self, epoch: str, seq: int) -> bytes:
        return text_frame(
            events.subscribed(
                self.name,
                seq=seq,
                epoch=epoch,
                recovered=False,
                presence=self.presence_list(),
                resync=True,
            )
        )

    def stream_switched(self) -> bool:
        """The backplane moved this room to another stream (Redis lost, or back). Called by the
        hub at that moment, before any publication of the new stream can reach the room: from
        now until the Rebase turn, live delivery stops and what arrives is held. True when a
        Rebase must follow (someone is subscribed or joining)."""
        if not self.subscribers and not self.holds:
            return False
        self.rebases += 1
        if self.rebase_hold is None:
            self.rebase_hold = self._open_hold(REBASE_HOLD_BYTES)
        return True

    async def rebase(self) -> None:
        try:
            if self.rebases > 1:
                return  # another switch came since: its Rebase, queued behind, tells the sessions
            recovery = await self.hub.broker.recover(self.name, None, None)
            hold = self.rebase_hold
            seq, held, _ = hold.after(recovery.seq, recovery.epoch) if hold else (recovery.seq, [], True)
            frame = self._resync_frame(recovery.epoch, seq)
            for session in list(self.subscribers):
                self.subscribers[session] = seq
                session.deliver(frame)
                for f in held:
                    session.deliver(f)
        finally:
            self.rebases = max(0, self.rebases - 1)
            if not self.rebases and self.rebase_hold is not None:
                self._close_hold(self.rebase_hold)
                self.rebase_hold = None

    async def passivate(self) -> None:
        """Sleep if still idle: save what must survive, free the memory, leave the hub's map."""
        try:
            await self._passivate()
        finally:
            self.hub.passivation_over(self.name)

    async def _passivate(self) -> None:
        if self.subscribers or self.watchers or not self.hub.is_idle(self):
            return
        # Bounded: 10,000 rooms idling together must not queue 10,000 saves on the pool.
        async with self.hub.passivation_slots:
            if self.subscribers or self.watchers or not self.hub.is_idle(self):
                return
            snapshot = await self.hub.broker.release(self.name)
            if snapshot is not None:
                try:
                    await self.hub.room_store.save_snapshot(self.name, snapshot)
                except StorageError:
                    # Keep the room awake with its history: dropping it would let seq go back
                    # within the same epoch. A later sweep tries again.
                    await self.hub.broker.restore(self.name, snapshot)
                    self.last_active = time.monotonic()
                    return
        if self.attached:
            await self.hub.broker.detach(self.name)
            self.attached = False
        # No await between this check and the stop: nothing can slip in between on one loop.
        if self.subscribers or self.watchers or not self.actor_inbox.empty():
            if snapshot is not None:
                await self.hub.broker.restore(self.name, snapshot)
            return
        self.hub.room_passivated(self)
        # The hub no longer routes to this actor, so the stop is the next and last message.
        self.stop()


class PitchRoom(Room):
    """`pitch:<id>`: presence, messages and live views/likes of one pitch."""

    async def load(self) -> None:
        self.pitch_id = self.room.id
        # Who was already counted today: a repeat view needs no database round trip.
        self.viewed_day: datetime.date | None = None
        self.viewed_today: set[int] = set()

    def handle(self, message: Any) -> Any:
        match message:
            case Post():
                return self.post(message)
            case TypingNotice(session=s, id=_):
                if s in self.subscribers:
                    frame = text_frame(events.typing(self.name, s.user_id))
                    for other in self.subscribers:
                        if other is not s:
                            other.deliver(frame)
                return None
            case RecordView(user_id=uid):
                return self.record_view(uid)
            case SetLike(user_id=uid, liked=liked):
                return self.set_like(uid, liked)
            case UpdatePitch():
                return self.update_pitch(message)
            case DeletePitch(owner_id=oid):
                return self.delete_pitch(oid)
            case RecheckAccess(user_id=uid):
                return self.recheck_access(uid)
            case InvestmentSettled(investors=n):
                return self.investment_settled(n)
        return super().handle(message)

    async def investment_settled(self, investors: int) -> None:
        await self.publish(events.investment_update(self.pitch_id, investors))

    async def recheck_access(self, user_id: int) -> int:
        """Drop the user's sessions if they may no longer see the pitch at all (an NDA that
        opened a private pitch to them ended); a pitch they still see, locked, keeps them."""
        sessions = [s for s in self.subscribers if s.user_id == user_id]
        if not sessions:
            return 0
        access = await self.hub.pitches.access(self.pitch_id, user_id)
        dropped = 0
        for session in sessions:
            if access is None or not can_view_pitch(access, session.user_id, session.user_type):
                await self.evict(session, ErrorCode.FORBIDDEN, "You may no longer see this pitch")
                dropped += 1
        return dropped

    def _queued_posts(self) -> list[Post]:
        """The posts waiting at the head of the inbox, taken out to share this turn's commit.

        Only the unbroken run of `Post` tells right behind the current one: nothing is reordered
        (a Leave or any other message queued between two posts still runs between them), asks
        stay where they are, and a stopping room takes nothing. The inbox is the actor's own
        (AsyncioActor keeps it on this loop): `take_queued` is the actor's hook for this."""
        taken = self.take_queued(
            lambda message, reply_to: reply_to is None and type(message) is Post, self.hub.post_batch - 1
        )
        return [message for message, _ in taken]

    def _refuse_post(self, entry: tuple[int, Post], refusal: tuple[str, str], answered: set[int]) -> None:
        i, post = entry
        answered.add(i)
        post.session.deliver(_error_frame(*refusal, id=post.id, room=self.name))
        log.info("room %s refused a Post: %s", self.name, refusal[1])

    async def post(self, msg: Post) -> None:
        """Store every post queued behind this one in one transaction (the output gate), then
        publish them in order and acknowledge each: no post is acknowledged or published before
        the commit that stored it. One commit per turn instead of one per post is what lets a
        busy room take thousands of messages a second (Durable Objects coalesce writes behind
        their output gate the same way)."""
        batch = [msg, *self._queued_posts()]
        answered: set[int] = set()
        try:
            await self._post_batch(batch, answered)
        except Exception:
            # A bug, not a refusal: `_turn_failed` answers `msg` (and restarts the room); every
            # other post of the batch not yet answered hears of it here, so none waits forever.
            for i, other in enumerate(batch[1:], 1):
                if i not in answered:
                    other.session.deliver(
                        _error_frame(
                            ErrorCode.INTERNAL,
                            "The room could not handle this command",
                            id=other.id,
                            room=self.name,
                        )
                    )
            raise

    async def _post_batch(self, batch: list[Post], answered: set[int]) -> None:
        posts: list[tuple[int, Post]] = []
        for i, post in enumerate(batch):
            if post.session in self.subscribers:
                posts.append((i, post))
            else:
                answered.add(i)
                post.session.deliver(
                    _error_frame(
                        ErrorCode.NOT_SUBSCRIBED, "Subscribe before posting", id=post.id, room=self.name
                    )
                )
        if not posts:
            return
        rows = [(post.session.user_id, post.text) for _, post in posts]
        stored: list[StoredMessage | None]
        try:
            stored = list(await self.hub.room_store.add_messages(self.pitch_id, rows))
        except StorageUnavailable:
            for i, post in posts:
                answered.add(i)
                post.session.deliver(
                    _error_frame("UNAVAILABLE", "Message not stored; try again", id=post.id, room=self.name)
                )
            return
        except Exception as exc:
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            if len(posts) == 1:
                self._refuse_post(posts[0], refusal, answered)
                return
            # The database refused a value of one post, and with it the whole (rolled back)
            # statement: store them one at a time, so only the post it refuses fails.
            stored = []
            for i, post in posts:
                try:
                    [one] = await self.hub.room_store.add_messages(
                        self.pitch_id, [(post.session.user_id, post.text)]
                    )
                except Exception as one_exc:
                    refusal = refusal_of(one_exc)
                    if refusal is None:
                        raise
                    self._refuse_post((i, post), refusal, answered)
                    stored.append(None)
                else:
                    stored.append(one)
        # Committed: now, and only now, announce and acknowledge, in the order stored.
        done = [(i, post, message) for (i, post), message in zip(posts, stored, strict=True) if message]
        pubs = await self.publish_many(
            [
                events.room_message(
                    RoomMessageOut(
                        id=message.id,
                        pitch_id=self.pitch_id,
                        user_id=post.session.user_id,
                        user_type=post.session.user_type,
                        text=message.body,
                        created_at=message.created_at,
                    )
                )
                for _, post, message in done
            ]
        )
        for (i, post, message), pub in zip(done, pubs, strict=True):
            answered.add(i)
            post.session.deliver(
                text_frame(ack(post.id, room=self.name, seq=pub.seq, data={"messageId": message.id}))
            )

    async def record_view(self, user_id: int) -> int | None:
        today = datetime.datetime.now(datetime.UTC).date()
        if today != self.viewed_day:
            self.viewed_day, self.viewed_today = today, set()
        if user_id in self.viewed_today:
            return None
        total = await self.hub.pitches.record_view(self.pitch_id, user_id)
        self.viewed_today.add(user_id)  # counted now, or already counted earlier today
        if total is not None:
            await self.publish(events.view_update(self.pitch_id, total, user_id))
            await self.hub.read_cache.invalidate_tags(pitch_tag(self.pitch_id))
        return total

    async def set_like(self, user_id: int, liked: bool) -> LikeResult:
        changed, total = await self.hub.pitches.set_like(self.pitch_id, user_id, liked)
        if changed:
            await self.publish(events.like_update(self.pitch_id, total, user_id, liked))
            await self.hub.read_cache.invalidate_tags(pitch_tag(self.pitch_id))
        return LikeResult(changed, total)

    async def update_pitch(self, msg: UpdatePitch) -> Pitch | None:
        """Write the edit; if it narrowed who may see the pitch, drop those who no longer may."""
        try:
            pitch = await self.hub.pitches.update(self.pitch_id, msg.owner_id, msg.changes)
        finally:
            # Also when nothing matched: the cached row may be of a pitch deleted meanwhile.
            await self.hub.read_cache.invalidate_tags(pitch_tag(self.pitch_id), CATALOG_TAG)
        if pitch is None or not {"status", "visibility"} & msg.changes.keys():
            return pitch
        base = Access(pitch.user_id, pitch.status, pitch.visibility, has_nda=False)
        doubtful = [s for s in self.subscribers if not can_view_pitch(base, s.user_id, s.user_type)]
        if doubtful:
            holders = await self.hub.pitches.approved_holders(self.pitch_id, (s.user_id for s in doubtful))
            for session in doubtful:
                if session.user_id not in holders:
                    await self.evict(session, ErrorCode.FORBIDDEN, "You may no longer see this pitch")
        return pitch

    async def delete_pitch(self, owner_id: int) -> DeletedPitch | None:
        try:
            deleted = await self.hub.pitches.delete(self.pitch_id, owner_id)
        finally:
            # Refused (PitchInUse) included: what the cache holds is re-read either way.
            await self.hub.read_cache.invalidate_tags(pitch_tag(self.pitch_id), CATALOG_TAG)
        if deleted is not None:
            for session in list(self.subscribers):
                await self.evict(session, ErrorCode.NOT_FOUND, "This pitch was deleted", announce=False)
        return deleted


class UserRoom(Room):
    """`user:<id>`: one person's notifications and NDA events (all their tabs share it)."""

    def handle(self, message: Any) -> Any:
        match message:
            case RequestNda():
                return self.request_nda(message)
            case DecideNda():
                return self.decide_nda(message)
            case ExpireNda():
                return self.expire_nda(message)
            case Notify():
                return self.notify(message)
            case DirectMessage():
                return self.direct_message(message)
            case Post(session=s, id=cid):
                s.deliver(
                    _error_frame(ErrorCode.FORBIDDEN, "Messages go to pitch rooms", id=cid, room=self.name)
                )
                return None
            case TypingNotice():
                return None
        return super().handle(message)

    async def request_nda(self, msg: RequestNda) -> Nda:
        """Runs in the pitch owner's room, as one turn: the request lands, the owner hears of it
        live, then gets a stored `nda_request` notification."""
        try:
            nda = await self.hub.ndas.request(
                msg.pitch_id, msg.requester_id, msg.owner_id, msg.message, msg.acceptance
            )
        except NdaAlreadyRequested:
            raise RoomRefusal("CONFLICT", "An NDA for this pitch is already pending or approved") from None
        out = NdaRequestEventOut.model_validate(
            {**_nda_fields(nda), "pitch_title": msg.pitch_title, "requester_name": msg.requester_name}
        )
        await self.publish(events.nda_request(out))
        await self._notify_quietly(
            Notify(
                "nda_request",
                f"{msg.requester_name or 'Someone'} requested an NDA for \u201c{msg.pitch_title}\u201d",
                None,
                {
                    "ndaId": nda.id,
                    "pitchId": nda.pitch_id,
                    "pitchTitle": msg.pitch_title,
                    "requesterId": nda.requester_id,
                    "requesterName": msg.requester_name,
                },
            )
        )
        return nda

    async def decide_nda(self, msg: DecideNda) -> Nda:
        """Runs in the requester's room, as one turn: the decision lands (the store's conditional
        UPDATE is the one check that it was still pending), the requester hears of it live, then
        gets a stored `nda_approved`/`nda_rejected` notification."""
        # The pitch's title for the announcement, read before the write: once the decision has
        # committed, nothing but its announcement should be able to fail.
        pitch = await self.hub.pitches.get(msg.pitch_id)
        title = pitch.title if pitch is not None else ""
        try:
            nda = await self.hub.ndas.decide(msg.nda_id, msg.owner_id, msg.approve, msg.reason, msg.ip)
        except NdaAlreadyDecided:
            # Only on refusal: read what it became, to say so.
            current = await self.hub.ndas.get(msg.nda_id)
            status = current.status if current is not None else "decided"
            raise RoomRefusal("CONFLICT", f"This NDA request was already {status}") from None
        # What the requester may see of the catalog changed: their cached pages go (in this turn).
        await self.hub.read_cache.invalidate_tags(viewer_tag(nda.requester_id))
        await self.publish(
            events.nda_decided(NdaEventOut.model_validate({**_nda_fields(nda), "pitch_title": title}))
        )
        verdict = nda.status
        await self._notify_quietly(
            Notify(
                "nda_approved" if verdict == "approved" else "nda_rejected",
                f"Your NDA request for \u201c{title}\u201d was {verdict}",
                None,
                {
                    "ndaId": nda.id,
                    "pitchId": nda.pitch_id,
                    "pitchTitle": title,
                    "ownerId": msg.owner_id,
                    "status": nda.status,
                    "reason": nda.reason,
                },
            )
        )
        return nda

    async def expire_nda(self, msg: ExpireNda) -> Nda | None:
        """Runs in the requester's room, as one turn (the expiry sweep, server/nda_expiry.py):
        the NDA flips to expired if it is still approved and due (the store's conditional UPDATE:
        of two nodes sweeping, one flips it), the requester hears of it live, then gets a stored
        `nda_expired` notification."""
        pitch = await self.hub.pitches.get(msg.pitch_id)
        title = pitch.title if pitch is not None else ""
        nda = await self.hub.ndas.expire(msg.nda_id, msg.now)
        if nda is None:
            return None
        await self.hub.read_cache.invalidate_tags(viewer_tag(nda.requester_id))
        await self.publish(
            events.nda_expired(NdaEventOut.model_validate({**_nda_fields(nda), "pitch_title": title}))
        )
        await self._notify_quietly(
            Notify(
                "nda_expired",
                f"Your NDA for \u201c{title}\u201d expired",
                "Its protected details are locked again. You may request a new NDA from the pitch page.",
                {"ndaId": nda.id, "pitchId": nda.pitch_id, "pitchTitle": title, "status": nda.status},
            )
        )
        return nda

    async def _notify_quietly(self, msg: Notify) -> None:
        """A notification that follows a committed write: failing to store it is logged, not
        turned into an error for a write that succeeded."""
        try:
            await self.notify(msg)
        except StorageError:
            log.warning("could not store the %s notification for %s", msg.kind, self.name, exc_info=True)

    async def notify(self, msg: Notify) -> Notification:
        """Store the notification, then announce it live to every tab of this user."""
        note = await self.hub.notifications.add(
            self.room.id, msg.kind, msg.title, msg.body, dict(msg.data or {})
        )
        if note.live:  # else the user switched this kind off for live: stored, not pushed
            await self.publish(events.notification(NotificationOut.model_validate(note)))
        return note

    async def direct_message(self, msg: DirectMessage) -> StoredDirectMessage:
        """Runs in the recipient's room: the message lands, then every tab hears of it, then a
        `new_message` notification. A failed notification does not undo the delivered message."""
        stored = await self.hub.messages.add(msg.sender_id, self.room.id, msg.pitch_id, msg.content)
        out = DirectMessageOut.model_validate(
            {
                **_message_fields(stored),
                "sender_name": msg.sender_name,
                "sender_type": msg.sender_type,
                "pitch_title": msg.pitch_title,
            }
        )
        await self.publish(events.direct_message(out))
        who = msg.sender_name or f"user {msg.sender_id}"
        title = f"New message from {who}"
        if msg.pitch_title:
            title += f" about {msg.pitch_title}"
        try:
            await self.notify(
                Notify(
                    "new_message",
                    title,
                    stored.content[:200],
                    {"messageId": stored.id, "senderId": stored.sender_id, "pitchId": stored.pitch_id},
                )
            )
        except StorageError:
            log.warning("message %s stored but its notification was not", stored.id)
        return stored


def _nda_fields(nda: Nda) -> dict[str, Any]:
    """The stored NDA as NdaOut's fields (the event models add their context to these)."""
    return {name: getattr(nda, name) for name in NdaOut.model_fields}


def _message_fields(message: StoredDirectMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in MessageOut.model_fields}


class ProjectRoom(Room):
    """`project:<id>`: a production project's team (owner and members), present together and
    hearing the project's committed changes (`project_update`); REST publishes them after the
    write. A member removed from the team is evicted here at once."""

    def handle(self, message: Any) -> Any:
        match message:
            case ProjectChanged(what=what, user_id=uid):
                return self.project_changed(what, uid)
            case EvictUser(user_id=uid, message=text):
                return self.evict_user(uid, text)
            case Post(session=s, id=cid):
                s.deliver(
                    _error_frame(ErrorCode.FORBIDDEN, "Messages go to pitch rooms", id=cid, room=self.name)
                )
                return None
            case TypingNotice():
                return None
        return super().handle(message)

    async def project_changed(self, what: str, user_id: int) -> None:
        await self.publish(events.project_update(self.room.id, what, user_id))

    async def evict_user(self, user_id: int, message: str) -> int:
        sessions = [s for s in self.subscribers if s.user_id == user_id]
        for session in sessions:
            await self.evict(session, ErrorCode.FORBIDDEN, message)
        return len(sessions)


_ROOM_CLASSES: dict[str, type[Room]] = {"project": ProjectRoom}


def room_class(room: RoomName) -> type[Room]:
    return PitchRoom if room.kind == "pitch" else _ROOM_CLASSES.get(room.kind, UserRoom)
