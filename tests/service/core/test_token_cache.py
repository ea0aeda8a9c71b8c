"""The token cache: reused within its TTL, never past the token's expiry, off at 0."""

from __future__ import annotations

from datetime import timedelta

from service.core.db.tokens import Principal
from service.core.db.types import Role, utcnow
from service.core.token_cache import TokenCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _principal(expires_in: float | None = None) -> Principal:
    expires = utcnow() + timedelta(seconds=expires_in) if expires_in is not None else None
    return Principal("u", Role.office, (), None, "abc", expires)


def test_reused_within_the_ttl_then_checked_again() -> None:
    clock = Clock()
    cache = TokenCache(5.0, clock)
    p = _principal()
    cache.put("tc_abc_secret", p)
    assert cache.get("tc_abc_secret") is p
    assert cache.get("tc_abc_other") is None
    clock.now += 5.0
    assert cache.get("tc_abc_secret") is None


def test_never_past_the_tokens_own_expiry() -> None:
    clock = Clock()
    cache = TokenCache(60.0, clock)
    cache.put("t", _principal(expires_in=1.0))
    clock.now += 2.0
    assert cache.get("t") is None
    cache.put("expired", _principal(expires_in=-10.0))
    assert cache.get("expired") is None


def test_zero_ttl_turns_it_off_and_no_plaintext_is_kept() -> None:
    off = TokenCache(0.0)
    off.put("t", _principal())
    assert off.get("t") is None and not off.entries
    on = TokenCache(5.0)
    on.put("tc_abc_secret", _principal())
    assert all("secret" not in key for key in on.entries)
