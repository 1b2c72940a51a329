"""A pitch's co-edited documents: a snapshot plus the tail of updates appended since.

The bytes are Yjs v1 updates; this module stores and returns them and never decodes one (the
merge a compaction needs is passed in by the caller, rooms/docs.py). Two statements matter:

- `append` stores one update only if its author may write the document *now* (the pitch's owner
  or an accepted editor), in the same statement: the role check and the output gate are one round
  trip, and a removed editor's next update is refused by the database itself.
- `append_many` is the same for a batch of updates from several authors: one statement, one
  commit, each row checked against its own author, so a refused author costs only their rows.
- `compact` folds the tail into a new snapshot under a row lock on the document (which also holds
  back concurrent appends of it for that moment, through their foreign key) and deletes exactly
  the rows it folded.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .database import Database, StorageError

NAMES = ("synopsis", "treatment", "notes")
VERSIONS_KEPT = 50  # snapshots kept per document as its version history


class DocumentGone(StorageError):
    """The document's pitch was deleted."""


@dataclass(frozen=True, slots=True)
class StoredDocument:
    id: int
    pitch_id: int
    name: str
    snapshot: bytes
    tail: list[bytes]  # updates appended after the snapshot, in the order they were stored
    size: int
    created: bool  # this call created it (first use)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    name: str
    size: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Compacted:
    snapshot: bytes
    folded: int  # updates folded into it
    size: int


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    author_id: int | None
    author_name: str | None
    size: int
    created_at: datetime


# (snapshot, tail) -> (new snapshot, its state vector)
Merge = Callable[[bytes, list[bytes]], tuple[bytes, bytes]]

_MAY_WRITE = """(EXISTS (SELECT 1 FROM pitches p WHERE p.id = $2::bigint AND p.user_id = $3::bigint)
                 OR EXISTS (SELECT 1 FROM pitch_collaborators c
                            WHERE c.pitch_id = $2::bigint AND c.user_id = $3::bigint
                              AND c.status = 'accepted' AND c.role = 'editor'))"""


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, pitch_id: int, name: str) -> StoredDocument:
        """The document with its tail, created on first use; DocumentGone if the pitch is not."""
        async with self.db.transaction() as conn:
            try:
                created_id = await conn.fetchval(
                    """INSERT INTO pitch_documents (pitch_id, name) VALUES ($1, $2)
                       ON CONFLICT (pitch_id, name) DO NOTHING RETURNING id""",
                    pitch_id,
                    name,
                )
            except asyncpg.ForeignKeyViolationError as exc:
                raise DocumentGone(f"pitch {pitch_id} is gone") from exc
            row = await conn.fetchrow(
                "SELECT id, snapshot, size FROM pitch_documents WHERE pitch_id = $1 AND name = $2",
                pitch_id,
                name,
            )
            if row is None:
                raise DocumentGone(f"pitch {pitch_id} is gone")
            tail = await conn.fetch(
                "SELECT data FROM document_updates WHERE document_id = $1 ORDER BY id", row["id"]
            )
        return StoredDocument(
            id=row["id"],
            pitch_id=pitch_id,
            name=name,
            snapshot=bytes(row["snapshot"]),
            tail=[bytes(r["data"]) for r in tail],
            size=row["size"],
            created=created_id is not None,
        )

    async def append(self, document_id: int, pitch_id: int, user_id: int | None, data: bytes) -> int | None:
        """Store one update if `user_id` may write the document now (None: the server itself,
        e.g. seeding a new synopsis). Answers the update's id, or None when refused."""
        check = _MAY_WRITE if user_id is not None else "$2::bigint > 0"
        try:
            new_id: int | None = await self.db.fetchval(
                f"""WITH ins AS (
                        INSERT INTO document_updates (document_id, user_id, data)
                        SELECT $1::bigint, $3::bigint, $4::bytea WHERE {check}
                        RETURNING id
                    ), bump AS (
                        UPDATE pitch_documents SET size = size + length($4), updated_at = now()
                        WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
                    )
                    SELECT id FROM ins""",
                document_id,
                pitch_id,
                user_id,
                data,
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise DocumentGone(f"document {document_id} is gone") from exc
        return new_id

    async def append_many(
        self, document_id: int, pitch_id: int, updates: Sequence[tuple[int, bytes]]
    ) -> builtins.list[bool]:
        """Store a batch of updates, each only if its author may write the document now, in one
        statement and so one commit (the group commit of a document's turn: rooms/docs.py).
        Answers, per update in the order given, whether it was stored; the stored ones get ids in
        that order. A refused author refuses only their own updates, never the batch."""
        if not updates:
            return []
        try:
            stored: builtins.list[int] | None = await self.db.fetchval(
                """WITH u AS (
                        SELECT * FROM unnest($3::bigint[], $4::bytea[]) WITH ORDINALITY
                                      AS u(user_id, data, ord)
                    ), ok AS (
                        SELECT u.* FROM u
                        WHERE EXISTS (SELECT 1 FROM pitches p
                                      WHERE p.id = $2::bigint AND p.user_id = u.user_id)
                           OR EXISTS (SELECT 1 FROM pitch_collaborators c
                                      WHERE c.pitch_id = $2::bigint AND c.user_id = u.user_id
                                        AND c.status = 'accepted' AND c.role = 'editor')
                    ), ins AS (
                        INSERT INTO document_updates (document_id, user_id, data)
                        SELECT $1::bigint, ok.user_id, ok.data FROM ok ORDER BY ok.ord
                        RETURNING id
                    ), bump AS (
                        UPDATE pitch_documents
                        SET size = size + (SELECT sum(length(ok.data)) FROM ok), updated_at = now()
                        WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
                    )
                    SELECT array_agg(ord ORDER BY ord) FROM ok""",
                document_id,
                pitch_id,
                [user_id for user_id, _ in updates],
                [data for _, data in updates],
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise DocumentGone(f"document {document_id} is gone") from exc
        kept = set(stored or ())
        return [i in kept for i in range(1, len(updates) + 1)]

    async def compact(self, document_id: int, merge: Merge) -> Compacted | None:
        """Fold the tail into the snapshot (and keep the snapshot as a version). None: no tail."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                "SELECT snapshot FROM pitch_documents WHERE id = $1 FOR UPDATE", document_id
            )
            if row is None:
                return None
            tail = await conn.fetch(
                "SELECT id, user_id, data FROM document_updates WHERE document_id = $1 ORDER BY id",
                document_id,
            )
            if not tail:
                return None
            snapshot, state_vector = merge(bytes(row["snapshot"]), [bytes(r["data"]) for r in tail])
            await conn.execute(
                """UPDATE pitch_documents SET snapshot = $2, state_vector = $3, size = $4,
                          compacted_at = now()
                   WHERE id = $1""",
                document_id,
                snapshot,
                state_vector,
                len(snapshot),
            )
            await conn.execute(
                "DELETE FROM document_updates WHERE document_id = $1 AND id <= $2",
                document_id,
                tail[-1]["id"],
            )
            author = next((r["user_id"] for r in reversed(tail) if r["user_id"] is not None), None)
            await conn.execute(
                """INSERT INTO document_versions (document_id, author_id, snapshot, size)
                   VALUES ($1, $2, $3, $4)""",
                document_id,
                author,
                snapshot,
                len(snapshot),
            )
            await conn.execute(
                """DELETE FROM document_versions WHERE document_id = $1 AND id NOT IN (
                       SELECT id FROM document_versions WHERE document_id = $1
                       ORDER BY id DESC LIMIT $2)""",
                document_id,
                VERSIONS_KEPT,
            )
        return Compacted(snapshot=snapshot, folded=len(tail), size=len(snapshot))

    async def list(self, pitch_id: int) -> builtins.list[DocumentInfo]:
        rows = await self.db.fetch(
            "SELECT name, size, updated_at FROM pitch_documents WHERE pitch_id = $1", pitch_id
        )
        found = {r["name"]: DocumentInfo(r["name"], r["size"], r["updated_at"]) for r in rows}
        return [found.get(n, DocumentInfo(n, 0, None)) for n in NAMES]

    async def versions(self, pitch_id: int, name: str) -> builtins.list[Version]:
        rows = await self.db.fetch(
            """SELECT v.id, v.author_id, COALESCE(u.name, u.username) AS author_name, v.size,
                      v.created_at
               FROM document_versions v JOIN pitch_documents d ON d.id = v.document_id
               LEFT JOIN users u ON u.id = v.author_id
               WHERE d.pitch_id = $1 AND d.name = $2 ORDER BY v.id DESC""",
            pitch_id,
            name,
        )
        return [Version(r["id"], r["author_id"], r["author_name"], r["size"], r["created_at"]) for r in rows]

    async def version(self, pitch_id: int, name: str, version_id: int) -> bytes | None:
        raw = await self.db.fetchval(
            """SELECT v.snapshot FROM document_versions v JOIN pitch_documents d ON d.id = v.document_id
               WHERE d.pitch_id = $1 AND d.name = $2 AND v.id = $3""",
            pitch_id,
            name,
            version_id,
        )
        return bytes(raw) if raw is not None else None
