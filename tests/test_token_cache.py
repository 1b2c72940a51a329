"""TokenService remembers verified tokens (issue 16): a repeat request skips the signature check,
yet expiry and revocation are judged on every use, exactly as for a token seen the first time."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from pitchey.server.auth import RevocationCache, TokenService
from pitchey.server.errors import Unauthorized

SECRET = "s" * 48


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _service(**kw: object) -> tuple[TokenService, RevocationCache, Clock]:
    revocations = RevocationCache()
    clock = Clock()
    return TokenService(SECRET, 3600, revocations, clock=clock, **kw), revocations, clock  # type: ignore[arg-type]


def test_a_verified_token_is_remembered_and_answers_the_same_principal() -> None:
    tokens, _, _ = _service()
    token, _, jti = tokens.issue(7, "a@example.com", "investor")
    first = tokens.verify(token)
    assert tokens.cached_tokens() == 1
    again = tokens.verify(token, "cookie")
    assert (again.user_id, again.email, again.user_type, again.jti) == (7, "a@example.com", "investor", jti)
    assert again.expires_at == first.expires_at
    assert again.via == "cookie" and first.via == "bearer"


def test_revocation_refuses_a_remembered_token_at_once() -> None:
    tokens, revocations, _ = _service()
    token, exp, jti = tokens.issue(7, "a@example.com", "investor")
    tokens.verify(token)
    revocations.add(jti, exp.timestamp())
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.verify(token)


def test_a_remembered_token_expires_on_time() -> None:
    tokens, _, clock = _service()
    token, exp, _ = tokens.issue(7, "a@example.com", "investor")
    tokens.verify(token)
    clock.now = exp.timestamp() + 4  # within the leeway: still accepted
    tokens.verify(token)
    clock.now = exp.timestamp() + 6
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(token)
    assert tokens.cached_tokens() == 0


def test_bad_tokens_are_never_remembered() -> None:
    tokens, _, _ = _service()
    forged = jwt.encode(
        {
            "userId": 1,
            "email": "x@example.com",
            "userType": "creator",
            "iat": 1,
            "exp": 2**31,
            "jti": str(uuid.uuid4()),
        },
        "another secret of enough length to pass",
        algorithm="HS256",
    )
    for _ in range(2):
        with pytest.raises(Unauthorized):
            tokens.verify(forged)
    assert tokens.cached_tokens() == 0


def test_the_memory_is_bounded_least_recently_used_first() -> None:
    tokens, _, _ = _service(max_cached=2)
    issued = [tokens.issue(i, f"u{i}@example.com", "creator")[0] for i in range(1, 4)]
    tokens.verify(issued[0])
    tokens.verify(issued[1])
    tokens.verify(issued[0])  # now the most recent
    tokens.verify(issued[2])  # evicts issued[1]
    assert tokens.cached_tokens() == 2
    assert set(tokens._verified) == {issued[0], issued[2]}
