"""Which (pitch, viewer) pairs this node already sent to their pitch room today.

A signed-in read of a pitch counts the reader's first view of the UTC day: the pitch's room
decides (its `viewed_today`, then the store's one row per pitch, user and day), through an ask.
Repeat reads are most reads (a reader reloads, comes back from a list), and each would pay that
ask for the room to answer "already counted". This node remembers the pairs it has asked about
today, so a repeat read skips the ask and is served from the ready answer.

It only ever skips an ask whose answer is known: the pair was counted (or found counted) today by
the room. Another node has its own memo and still asks; the room stays the one that counts. The
memo forgets everything at the UTC day's turn, as the room does, and when it reaches its bound
(the cost is then one ask per pair again, never a lost or double view).
"""

from __future__ import annotations

import datetime

DEFAULT_LIMIT = 200_000  # pairs; ~100 bytes each in a set of tuples


class SeenViews:
    __slots__ = ("_day", "_seen", "limit")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._day: datetime.date | None = None
        self._seen: set[tuple[int, int]] = set()

    def _today(self) -> None:
        today = datetime.datetime.now(datetime.UTC).date()
        if today != self._day:
            self._day, self._seen = today, set()

    def seen(self, pitch_id: int, user_id: int) -> bool:
        """True when this node's room ask for the pair already happened today."""
        self._today()
        return (pitch_id, user_id) in self._seen

    def add(self, pitch_id: int, user_id: int) -> None:
        """The room answered for the pair today (counted now, or counted before)."""
        self._today()
        if len(self._seen) >= self.limit:
            self._seen = set()
        self._seen.add((pitch_id, user_id))

    def __len__(self) -> int:
        return len(self._seen)
