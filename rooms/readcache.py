"""What a room needs of the app's read cache: dropping what a write changed, inside the write's turn.

The cache itself lives in server/cache.py (rooms may not import the server); its entries are
tagged with the names below, and the room that commits a change to a pitch invalidates them before
it answers, so no caller can read the pre-write value after the write returned.
"""

from __future__ import annotations

from typing import Protocol

# Tags: everything about one pitch, and every cached list of pitches.
CATALOG_TAG = "catalog"


def pitch_tag(pitch_id: int) -> str:
    return f"pitch:{pitch_id}"


def viewer_tag(user_id: int) -> str:
    """Everything cached for one signed-in viewer alone (their catalog pages): what they may see
    changes with their NDAs, so a decision or an expiry of one of theirs invalidates it."""
    return f"viewer:{user_id}"


class ReadCache(Protocol):
    async def invalidate_tags(self, *tags: str) -> None: ...


class NoReadCache:
    """For a hub without a read cache (tools, benchmarks): nothing to invalidate."""

    async def invalidate_tags(self, *tags: str) -> None:
        return None
