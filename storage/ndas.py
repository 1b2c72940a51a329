"""The NDA lifecycle in one table: pending -> approved | rejected; approved -> expired once its
term has run (a request made under a template: storage/nda_templates.py, and the expiry sweep,
server/nda_expiry.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database, StorageError
from .follows import UserSummary
from .pitches import visible_sql


class NdaAlreadyRequested(StorageError):
    """A pending or approved NDA already exists for this requester and pitch."""


class NdaAlreadyDecided(StorageError):
    """The NDA is no longer pending."""


@dataclass(frozen=True, slots=True)
class Nda:
    id: int
    pitch_id: int
    requester_id: int
    owner_id: int
    status: str
    message: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    # Signing (migration 0010): the template version the requester accepted, its hash and when;
    # the owner's countersignature (approval) and the end of the NDA's term. None without a template.
    template_version_id: int | None = None
    template_hash: str | None = None
    accepted_at: datetime | None = None
    countersigned_at: datetime | None = None
    expires_at: datetime | None = None
    expired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The requester's acceptance of one exact template version, recorded with the request."""

    version_id: int
    content_hash: str
    ip: str


_COLUMNS = (
    "id, pitch_id, requester_id, owner_id, status, message, reason, created_at, decided_at, "
    "template_version_id, template_hash, accepted_at, countersigned_at, expires_at, expired_at"
)


def _nda(row: asyncpg.Record) -> Nda:
    return Nda(**dict(row))


class NdaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def request(
        self,
        pitch_id: int,
        requester_id: int,
        owner_id: int,
        message: str | None,
        acceptance: Acceptance | None = None,
    ) -> Nda:
        a = acceptance
        try:
            row = await self.db.fetchrow(
                f"""INSERT INTO nda_requests (pitch_id, requester_id, owner_id, message,
                        template_version_id, template_hash, accepted_at, accepted_ip)
                    VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $5::bigint IS NOT NULL THEN now() END, $7)
                    RETURNING {_COLUMNS}""",
                pitch_id,
                requester_id,
                owner_id,
                message,
                a.version_id if a else None,
                a.content_hash if a else None,
                a.ip if a else None,
            )
        except asyncpg.UniqueViolationError:
            raise NdaAlreadyRequested() from None
        assert row is not None
        return _nda(row)

    async def get(self, nda_id: int) -> Nda | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM nda_requests WHERE id = $1", nda_id)
        return _nda(row) if row else None

    async def decide(
        self, nda_id: int, owner_id: int, approve: bool, reason: str | None, ip: str | None = None
    ) -> Nda:
        """Decide a pending NDA; only its owner can, and only once. Approving one made under a
        template is the owner's countersignature (time and IP) and starts its term."""
        row = await self.db.fetchrow(
            f"""UPDATE nda_requests n SET status = $3, reason = $4, decided_at = now(),
                    countersigned_at = CASE WHEN $3::text = 'approved' AND template_version_id IS NOT NULL
                                            THEN now() END,
                    countersigned_ip = CASE WHEN $3::text = 'approved' AND template_version_id IS NOT NULL
                                            THEN $5::text END,
                    expires_at = CASE WHEN $3::text = 'approved' THEN now() + make_interval(months =>
                        (SELECT v.term_months FROM nda_template_versions v
                         WHERE v.id = n.template_version_id)) END
                WHERE id = $1 AND owner_id = $2 AND status = 'pending'
                RETURNING {_COLUMNS}""",
            nda_id,
            owner_id,
            "approved" if approve else "rejected",
            reason,
            ip,
        )
        if row is None:
            raise NdaAlreadyDecided()
        return _nda(row)

    async def due_to_expire(self, now: datetime, limit: int = 500) -> list[Nda]:
        """Approved NDAs whose term ended by `now`, oldest end first (the expiry sweep's work)."""
        rows = await self.db.fetch(
            f"""SELECT {_COLUMNS} FROM nda_requests
                WHERE status = 'approved' AND expires_at <= $1
                ORDER BY expires_at, id LIMIT $2""",
            now,
            limit,
        )
        return [_nda(r) for r in rows]

    async def expire(self, nda_id: int, now: datetime) -> Nda | None:
        """Flip one approved NDA whose term ended by `now` to expired; None when it is not (any
        more) such an NDA: another node's sweep, or a decision, got there first."""
        row = await self.db.fetchrow(
            f"""UPDATE nda_requests SET status = 'expired', expired_at = $2
                WHERE id = $1 AND status = 'approved' AND expires_at <= $2
                RETURNING {_COLUMNS}""",
            nda_id,
            now,
        )
        return _nda(row) if row else None


@dataclass(frozen=True, slots=True)
class NdaListRow:
    """An NDA with the pitch title and the public summary of the other party."""

    nda: Nda
    pitch_title: str
    other: UserSummary


@dataclass(frozen=True, slots=True)
class NdaPage:
    rows: tuple[NdaListRow, ...]
    total: int


_N_COLUMNS = ", ".join(f"n.{c}" for c in _COLUMNS.split(", "))
_NDA_FIELDS = tuple(_COLUMNS.split(", "))

# {other}: the column naming the other party; {where}: a constant condition on $1 (the caller)
# and $2 (an optional status).
_LIST = f"""
    SELECT {_N_COLUMNS}, p.title AS pitch_title,
           u.id AS o_id, u.username AS o_username, u.name AS o_name,
           u.company_name AS o_company, u.user_type AS o_type,
           count(*) OVER () AS total
    FROM nda_requests n
    JOIN pitches p ON p.id = n.pitch_id
    JOIN users u ON u.id = n.{{other}}
    WHERE {{where}} AND ($2::text IS NULL OR n.status = $2::text)
    ORDER BY {{order}}
    LIMIT $3 OFFSET $4"""

# The requester's own requests name only pitches they may see now (`visible_sql`, the list form of
# rooms.access.decide, with $1 the requester and $5 their portal): a request filed for a pitch
# that is, or has since become, private or unpublished does not put its title in their list.
_REQUESTER_SEES = visible_sql(
    "$1",
    "$5",
    has_nda="""EXISTS (SELECT 1 FROM nda_requests a WHERE a.pitch_id = p.id
                                  AND a.requester_id = $1 AND a.status = 'approved')""",
)


def _list_row(row: asyncpg.Record) -> NdaListRow:
    nda = Nda(**{c: row[c] for c in _NDA_FIELDS})
    other = UserSummary(row["o_id"], row["o_username"], row["o_name"], row["o_company"], row["o_type"])
    return NdaListRow(nda, row["pitch_title"], other)


class NdaLists:
    """The three NDA lists of the seed: incoming requests, outgoing requests, signed NDAs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def incoming(self, owner_id: int, status: str | None, *, limit: int, offset: int) -> NdaPage:
        """NDAs on the caller's pitches (the other party is the requester)."""
        return await self._page(
            "requester_id", "n.owner_id = $1", "n.created_at DESC, n.id DESC", owner_id, status, limit, offset
        )

    async def outgoing(
        self, requester_id: int, status: str | None, *, limit: int, offset: int, requester_type: str = ""
    ) -> NdaPage:
        """The caller's own requests (the other party is the pitch owner), for pitches they see."""
        return await self._page(
            "owner_id",
            f"n.requester_id = $1 AND {_REQUESTER_SEES}",
            "n.created_at DESC, n.id DESC",
            requester_id,
            status,
            limit,
            offset,
            requester_type,
        )

    async def signed(self, requester_id: int, *, limit: int, offset: int) -> NdaPage:
        """Approved NDAs the caller holds, most recently approved first."""
        return await self._page(
            "owner_id",
            "n.requester_id = $1",
            "n.decided_at DESC, n.id DESC",
            requester_id,
            "approved",
            limit,
            offset,
        )

    async def _page(
        self,
        other: str,
        where: str,
        order: str,
        user_id: int,
        status: str | None,
        limit: int,
        offset: int,
        *more: object,
    ) -> NdaPage:
        """`more`: parameters from $5 on, for a `where` that needs them."""
        rows = await self.db.fetch(
            _LIST.format(other=other, where=where, order=order), user_id, status, limit, offset, *more
        )
        if rows:
            total = int(rows[0]["total"])
        elif offset == 0:
            total = 0
        else:
            # Past the end: the first row of the same query carries the total.
            first = await self.db.fetch(
                _LIST.format(other=other, where=where, order=order), user_id, status, 1, 0, *more
            )
            total = int(first[0]["total"]) if first else 0
        return NdaPage(tuple(_list_row(r) for r in rows), total)
