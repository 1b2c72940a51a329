"""Who may see a pitch, and who may join which room: the one pitch-access decision.

`decide(access, viewer)` is the only place the visibility rule is written in Python. REST reads and
edits (server/routes/_shared.py), media (server/routes/media.py) and room joins (`authorize` below)
all ask it and refuse with its wording; the catalog's SQL filter (`storage/pitches.py`,
`visible_sql`) is its list form, and tests/test_pitch_access.py generates pitches, viewers and NDA
states in PostgreSQL to prove the two admit exactly the same pitches.

Checked on every request and every subscribe, never cached across grants or revocations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pitchey.protocol import RoomName
from pitchey.storage.pitches import Access, PitchStore, Viewer
from pitchey.storage.teams import TeamStore

__all__ = [
    "Access",
    "Decision",
    "RoomDenied",
    "RoomForbidden",
    "RoomNotFound",
    "Verdict",
    "Viewer",
    "authorize",
    "can_view_pitch",
    "decide",
    "decide_owner",
]

# Portals that see pitches published for "investors_only".
INVESTOR_PORTALS = frozenset({"investor", "production"})

# The one wording of each refusal, whoever asks (REST, media, rooms).
NOT_FOUND = "Pitch not found"
PRIVATE = "This pitch is private"
INVESTORS_ONLY = "This pitch is for investors and production companies"
OWNER_ONLY = "Only the pitch's owner may change it"


class Verdict(StrEnum):
    VISIBLE = "visible"  # all of it: the owner or an approved-NDA holder
    LOCKED = "locked"  # the pitch, without its NDA-protected content (synopsis and budget when the
    # pitch requires an NDA, media items marked protected)
    FORBIDDEN = "forbidden"  # the caller may know it exists, and may not see it
    NOT_FOUND = "not_found"  # the caller may not even know it exists (ids cannot be probed)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    message: str = ""  # the refusal's wording; empty when the pitch is seen

    @property
    def sees(self) -> bool:
        return self.verdict in (Verdict.VISIBLE, Verdict.LOCKED)

    @property
    def shows_protected(self) -> bool:
        return self.verdict is Verdict.VISIBLE


_VISIBLE = Decision(Verdict.VISIBLE)
_LOCKED = Decision(Verdict.LOCKED)
_NOT_FOUND = Decision(Verdict.NOT_FOUND, NOT_FOUND)


def decide(access: Access, viewer: Viewer) -> Decision:
    """What `viewer` (anonymous: user id 0) may do with the pitch described by `access`.

    - Its owner and approved-NDA holders see all of it, whatever its status and visibility.
    - Anyone else sees it only while it is published and public, or published for investors and
      the viewer is an investor or a production company; its NDA-protected content stays locked.
    - A pitch someone may not see is not found when it is unpublished or they are anonymous, and
      forbidden (with the reason) when it is published: its existence is no secret then.
    """
    signed_in = viewer.user_id != 0
    if signed_in and (access.owner_id == viewer.user_id or access.has_nda):
        return _VISIBLE
    published = access.status == "published"
    if published and (
        access.visibility == "public"
        or (access.visibility == "investors_only" and viewer.user_type in INVESTOR_PORTALS)
    ):
        return _LOCKED
    if not published or not signed_in:
        return _NOT_FOUND
    if access.visibility == "private":
        return Decision(Verdict.FORBIDDEN, PRIVATE)
    return Decision(Verdict.FORBIDDEN, INVESTORS_ONLY)


def decide_owner(access: Access, viewer: Viewer) -> Decision:
    """The pitch for its owner only (edits, media management): VISIBLE for the owner; others get
    FORBIDDEN when they may see it, else the refusal `decide` gives them."""
    if viewer.user_id != 0 and access.owner_id == viewer.user_id:
        return _VISIBLE
    seen = decide(access, viewer)
    return Decision(Verdict.FORBIDDEN, OWNER_ONLY) if seen.sees else seen


def can_view_pitch(access: Access, user_id: int, user_type: str) -> bool:
    """Whether a signed-in user sees the pitch (protected fields aside): `decide(...).sees`."""
    return decide(access, Viewer(user_id, user_type)).sees


class RoomDenied(Exception):
    """Base of room refusals; `code` is the protocol error code the client sees."""

    code = "FORBIDDEN"


class RoomForbidden(RoomDenied):
    code = "FORBIDDEN"


class RoomNotFound(RoomDenied):
    code = "NOT_FOUND"


async def authorize(room: RoomName, user_id: int, user_type: str, pitches: PitchStore) -> None:
    """Raise RoomDenied unless this user may join `room` now.

    `user:<id>` and `metrics:user:<id>`: only that user. `metrics:pitch:<id>`: only the pitch owner.
    `pitch:<id>`: whoever `decide` lets see the pitch, refused in its words.
    """
    if room.kind == "project":
        # The project's company and its active team members; anyone else is told it is not
        # there, as the REST endpoints do. Re-checked on every subscribe, so a removed member
        # cannot come back.
        if room.metrics:
            raise RoomForbidden("Project rooms have no metrics room")
        if await TeamStore(pitches.db).project_access(user_id, room.id) is None:
            raise RoomNotFound("Project not found")
        return
    if room.kind == "user":
        if room.id != user_id:
            raise RoomForbidden("You can only join your own user room")
        return
    access = await pitches.access(room.id, user_id)
    if access is None:
        raise RoomNotFound(NOT_FOUND)
    if room.metrics:
        if access.owner_id != user_id:
            raise RoomForbidden("Only the pitch owner can watch its metrics")
        return
    decision = decide(access, Viewer(user_id, user_type))
    if decision.verdict is Verdict.NOT_FOUND:
        raise RoomNotFound(decision.message)
    if decision.verdict is Verdict.FORBIDDEN:
        raise RoomForbidden(decision.message)
