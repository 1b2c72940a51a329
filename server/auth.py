"""Passwords, tokens and the revocation cache.

Tokens are HS256 JWTs (pinned: `alg: none` and every other algorithm are refused). Revocations are
persisted by the store and mirrored here in memory, so checking one costs no database round trip.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import Unauthorized

ALGORITHM = "HS256"
USER_TYPES = ("creator", "investor", "production")
UserType = Literal["creator", "investor", "production"]

_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as proven by a valid, unrevoked token."""

    user_id: int
    email: str
    user_type: str
    jti: uuid.UUID
    expires_at: float
    via: Literal["bearer", "cookie", "ticket", "subprotocol"] = "bearer"


class Passwords:
    """argon2id hashing, off the event loop: one hash costs tens of milliseconds of CPU."""

    def __init__(self, profile: str = "rfc9106-low-memory") -> None:
        self._hasher = PasswordHasher.from_parameters(_PROFILES[profile])
        # Verified against when the email is unknown, so timing does not reveal which emails exist.
        self._dummy = self._hasher.hash(uuid.uuid4().hex)

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored_hash or self._dummy, password) and (stored_hash is not None)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await asyncio.get_running_loop().run_in_executor(None, check)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


class RevocationCache:
    """jti -> expiry of revoked tokens still worth refusing. Listeners learn of each revocation
    (live WebSocket sessions close when their token is revoked)."""

    def __init__(self) -> None:
        self._revoked: dict[uuid.UUID, float] = {}
        self._listeners: list[Callable[[uuid.UUID], None]] = []
        # Set when several nodes share Redis: tells the others of a revocation made here.
        self.broadcaster: Callable[[uuid.UUID, float], Awaitable[None]] | None = None

    def __len__(self) -> int:
        return len(self._revoked)

    def add(self, jti: uuid.UUID, expires_at: float) -> None:
        if expires_at <= time.time():
            return
        self._revoked[jti] = expires_at
        for listener in self._listeners:
            listener(jti)

    async def revoke(self, jti: uuid.UUID, expires_at: float) -> None:
        """A revocation made on this node (already persisted): apply it and tell the others."""
        self.add(jti, expires_at)
        if self.broadcaster is not None:
            await self.broadcaster(jti, expires_at)

    def load(self, items: list[tuple[uuid.UUID, datetime]]) -> None:
        for jti, exp in items:
            self._revoked[jti] = exp.timestamp()

    def is_revoked(self, jti: uuid.UUID) -> bool:
        return jti in self._revoked

    def purge(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        dead = [j for j, exp in self._revoked.items() if exp <= now]
        for j in dead:
            del self._revoked[j]
        return len(dead)

    def subscribe(self, listener: Callable[[uuid.UUID], None]) -> None:
        self._listeners.append(listener)


LEEWAY = 5  # seconds a token is still accepted after its `exp` (clock skew between nodes)


class TokenService:
    """Issues and verifies session tokens.

    Verified tokens are remembered (a bounded LRU keyed by the token string), so a caller's
    second request skips the HMAC and JSON decode (about a third of a signed-in read's CPU). Only
    what the signature proved is kept; expiry is checked against the remembered `exp` and the
    revocation cache on every use, so a logout or a revocation from another node refuses the
    token at once, as before."""

    def __init__(
        self,
        secret: str,
        ttl: int,
        revocations: RevocationCache,
        *,
        max_cached: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self.ttl = ttl
        self.revocations = revocations
        self.max_cached = max_cached
        self._clock = clock
        self._verified: OrderedDict[str, Principal] = OrderedDict()

    def issue(self, user_id: int, email: str, user_type: str) -> tuple[str, datetime, uuid.UUID]:
        now = int(time.time())
        jti = uuid.uuid4()
        exp = now + self.ttl
        claims = {
            "sub": str(user_id),
            "userId": user_id,
            "email": email,
            "userType": user_type,
            "iat": now,
            "exp": exp,
            "jti": str(jti),
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return token, datetime.fromtimestamp(exp, UTC), jti

    def verify(self, token: str, via: Any = "bearer") -> Principal:
        """Decode and check a token; every failure is the same 401 to the client (with a reason)."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at + LEEWAY <= self._clock():
                del self._verified[token]
                raise Unauthorized("Token expired")
            if self.revocations.is_revoked(known.jti):
                raise Unauthorized("Token revoked")
            self._verified.move_to_end(token)
            # Principals are immutable: the remembered one serves every request that presents
            # the token the same way.
            return known if known.via == via else replace(known, via=via)
        principal = self._decode(token, via)
        self._verified[token] = principal
        if len(self._verified) > self.max_cached:
            self._verified.popitem(last=False)
        return principal

    def cached_tokens(self) -> int:
        return len(self._verified)

    def _decode(self, token: str, via: Any) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "jti", "userId", "userType", "email"]},
                leeway=LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Token expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("Invalid token") from None
        try:
            jti = uuid.UUID(str(claims["jti"]))
            user_id = int(claims["userId"])
        except (ValueError, TypeError):
            raise Unauthorized("Invalid token") from None
        if claims["userType"] not in USER_TYPES or isinstance(claims["userId"], bool):
            raise Unauthorized("Invalid token")
        if self.revocations.is_revoked(jti):
            raise Unauthorized("Token revoked")
        return Principal(
            user_id=user_id,
            email=str(claims["email"]),
            user_type=str(claims["userType"]),
            jti=jti,
            expires_at=float(claims["exp"]),
            via=via,
        )
