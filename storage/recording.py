"""Read-only: the stored activity `pitchey record --from-db` turns into a stream file.

Messages in pitch rooms, likes, views, NDA requests and their decisions, in time order, within an
optional half-open window [since, until). Only ids, portals and times leave this module (and the
message bodies, which the recorder redacts): never an email, a name or a password hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .database import Database

EventKind = Literal["message", "like", "view", "nda_request", "nda_approve", "nda_reject"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    at: datetime
    kind: EventKind
    user_id: int
    user_type: str
    pitch_id: int
    pitch_owner_id: int
    requester_id: int | None = None  # NDA decisions: whose request
    text: str | None = None  # messages


# One UNION in time order; each branch names the acting user (for a decision, the owner).
_EVENTS = """
SELECT e.at, e.kind, e.user_id, u.user_type, e.pitch_id, p.user_id AS owner_id, e.requester_id, e.text
FROM (
    SELECT m.created_at AS at, 'message' AS kind, m.user_id, m.pitch_id, NULL::bigint AS requester_id,
           m.body AS text
      FROM room_messages m
    UNION ALL
    SELECT l.created_at, 'like', l.user_id, l.pitch_id, NULL, NULL FROM pitch_likes l
    UNION ALL
    SELECT v.viewed_at, 'view', v.user_id, v.pitch_id, NULL, NULL FROM pitch_views v
    UNION ALL
    SELECT n.created_at, 'nda_request', n.requester_id, n.pitch_id, NULL, NULL FROM nda_requests n
    UNION ALL
    SELECT n.decided_at,
           CASE WHEN n.status = 'rejected' THEN 'nda_reject' ELSE 'nda_approve' END,
           n.owner_id, n.pitch_id, n.requester_id, NULL
      FROM nda_requests n WHERE n.decided_at IS NOT NULL
                            AND n.status IN ('approved', 'rejected', 'revoked', 'expired')
) e
JOIN users u ON u.id = e.user_id
JOIN pitches p ON p.id = e.pitch_id
WHERE ($1::timestamptz IS NULL OR e.at >= $1) AND ($2::timestamptz IS NULL OR e.at < $2)
ORDER BY e.at, e.kind
"""


async def stored_events(db: Database, since: datetime | None, until: datetime | None) -> list[StoredEvent]:
    rows = await db.fetch(_EVENTS, since, until)
    return [
        StoredEvent(
            at=r["at"],
            kind=r["kind"],
            user_id=int(r["user_id"]),
            user_type=str(r["user_type"]),
            pitch_id=int(r["pitch_id"]),
            pitch_owner_id=int(r["owner_id"]),
            requester_id=int(r["requester_id"]) if r["requester_id"] is not None else None,
            text=r["text"],
        )
        for r in rows
    ]
