"""Revoked token ids. Persisted so a logout survives a restart; read whole at start."""

from __future__ import annotations

import uuid
from datetime import datetime

from .database import Database


class RevocationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def revoke(self, jti: uuid.UUID, user_id: int, expires_at: datetime) -> None:
        await self.db.execute(
            # An account deleted since the token was issued has nothing left to revoke (and the
            # foreign key would turn its logout into a 500).
            """INSERT INTO revoked_tokens (jti, user_id, expires_at)
               SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)
               ON CONFLICT (jti) DO NOTHING""",
            jti,
            user_id,
            expires_at,
        )

    async def active(self) -> list[tuple[uuid.UUID, datetime]]:
        """Revocations of tokens that have not expired yet: the only ones worth checking."""
        rows = await self.db.fetch("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > now()")
        return [(r["jti"], r["expires_at"]) for r in rows]

    async def purge_expired(self) -> int:
        status = await self.db.execute("DELETE FROM revoked_tokens WHERE expires_at <= now()")
        return int(status.split()[-1])
