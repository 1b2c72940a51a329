"""Who may join which room. Checked on every subscribe, never cached across grants or revocations."""

from __future__ import annotations

from pitchey.protocol import RoomName
from pitchey.storage.pitches import Access, PitchStore


class RoomDenied(Exception):
    """Base of room refusals; `code` is the protocol error code the client sees."""

    code = "FORBIDDEN"


class RoomForbidden(RoomDenied):
    code = "FORBIDDEN"


class RoomNotFound(RoomDenied):
    code = "NOT_FOUND"


def can_view_pitch(access: Access, user_id: int, user_type: str) -> bool:
    """The pitch-visibility rule shared by REST reads and room joins.

    Owners always; approved-NDA holders always; others only while the pitch is published and
    public (any signed-in user) or investors_only (investors and production companies).
    """
    if access.owner_id == user_id or access.has_nda:
        return True
    if access.status != "published":
        return False
    if access.visibility == "public":
        return True
    return access.visibility == "investors_only" and user_type in ("investor", "production")


async def authorize(room: RoomName, user_id: int, user_type: str, pitches: PitchStore) -> None:
    """Raise RoomDenied unless this user may join `room` now.

    `user:<id>` and `metrics:user:<id>`: only that user. `metrics:pitch:<id>`: only the pitch owner.
    A pitch the caller may not see is reported as not found, so ids cannot be probed.
    """
    if room.kind == "user":
        if room.id != user_id:
            raise RoomForbidden("You can only join your own user room")
        return
    access = await pitches.access(room.id, user_id)
    if access is None:
        raise RoomNotFound("No such pitch")
    if room.metrics:
        if access.owner_id != user_id:
            raise RoomForbidden("Only the pitch owner can watch its metrics")
        return
    if not can_view_pitch(access, user_id, user_type):
        if access.status != "published" and access.owner_id != user_id:
            raise RoomNotFound("No such pitch")
        raise RoomForbidden("This pitch needs an approved NDA")
