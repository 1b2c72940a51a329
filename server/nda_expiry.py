"""NDAs end after their term: the sweep that flips them to expired, and the runner that calls it.

`expire_ndas(hub, now)` is the work, a plain function of the clock it is given (tests move it;
a job queue may call it instead of the runner). Each due NDA is one turn of its requester's
`user:` room (rooms/room.py: `UserRoom.expire_nda`): the conditional UPDATE flips it (of several
nodes sweeping at once, exactly one flips each NDA), `nda_expired` goes out live and a
notification is stored. Then the pitch's room drops the requester's sessions if the NDA was all
that let them see the pitch (a private one); on a pitch they still see, the `nda_expired` event
makes their page reload it, locked. Access is decided per request from the NDA's status
(rooms/access.py), so the protected fields are locked for REST the moment the UPDATE commits.

The server runs it as the `ndas.expire` periodic job (server/tasks/maintenance.py: every minute,
once across all nodes, with the clock of its period). `run_nda_expiry` is the same sweep as a
plain loop with an injectable clock, for a process without job workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from pitchey.protocol import RoomName
from pitchey.rooms.docs import access_lost
from pitchey.rooms.hub import Hub
from pitchey.rooms.messages import ExpireNda, RecheckAccess
from pitchey.storage.database import StorageError
from pitchey.storage.ndas import Nda

log = logging.getLogger("pitchey.nda_expiry")

#: How often the running server looks for NDAs past their end. An NDA lasts months; a minute late
#: is within any reading of its term, and the query is one index range scan.
SWEEP_SECONDS = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


async def expire_ndas(hub: Hub, now: datetime) -> list[Nda]:
    """Expire every approved NDA whose term ended by `now`; returns those this call flipped."""
    expired: list[Nda] = []
    while True:
        due = await hub.ndas.due_to_expire(now)
        flipped_any = False
        for nda in due:
            try:
                done = await hub.ask(RoomName.user(nda.requester_id), ExpireNda(nda.id, nda.pitch_id, now))
            except StorageError:
                log.warning("could not expire NDA %d", nda.id, exc_info=True)
                continue
            if done is None:  # another node's sweep flipped it
                continue
            flipped_any = True
            expired.append(done)
            pitch_room = RoomName.pitch(done.pitch_id)
            if hub.is_active(str(pitch_room)):
                await hub.ask(pitch_room, RecheckAccess(done.requester_id))
            # ... and their co-edited document connections, if only the NDA let them read.
            await access_lost(hub, done.pitch_id, done.requester_id, "NDA expired")
        # A full batch that all flipped may have more behind it; anything else was the last.
        if len(due) < 500 or not flipped_any:
            return expired


async def run_nda_expiry(
    hub: Hub, *, interval: float = SWEEP_SECONDS, clock: Callable[[], datetime] = utc_now
) -> None:
    """Sweep now, then every `interval` seconds, until cancelled; a failed sweep is logged and
    the next one tries again."""
    while True:
        try:
            flipped = await expire_ndas(hub, clock())
            if flipped:
                log.info("expired %d NDA(s)", len(flipped))
        except Exception:  # the next sweep retries; the runner must outlive a bad minute
            log.warning("NDA expiry sweep failed", exc_info=True)
        await asyncio.sleep(interval)
