"""API tokens: issued once, kept only as a hash, checked for expiry and revocation.

A token is ``tc_<prefix>_<secret>``: the prefix (12 hex characters, not secret) finds the row
by index, and the database keeps only SHA-256 of the whole token. The secret has 256 bits of
entropy, so a fast hash is enough (slow password hashes such as argon2 guard guessable
passwords) and checking a token costs microseconds per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.db.tables import ApiToken, User
from service.core.db.types import Role, utcnow

SCHEME = "tc"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: what the API checks permissions against."""

    user: str
    role: Role
    regions: tuple[str, ...]  # a regulator's province codes; empty: every region
    institution_id: str | None  # an institution user's own institution
    token_prefix: str
    expires_at: datetime | None = None  # the token's own expiry
    offices: tuple[str, ...] = ()  # an office user's registration offices


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, expires_at: datetime | None) -> str:
    """Store a new token for ``user`` and return it: the only time the plaintext exists."""
    prefix = secrets.token_hex(6)
    token = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(ApiToken(user=user, prefix=prefix, hash=hash_token(token), expires_at=expires_at))
    session.flush()
    return token


def authenticate(session: Session, token: str, now: datetime | None = None) -> Principal | None:
    """The principal of a valid token; None for a malformed, unknown, expired or revoked one."""
    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SCHEME or not prefix or not secret:
        return None
    row = session.execute(
        select(ApiToken, User).join(User).where(ApiToken.prefix == prefix)
    ).first()
    if row is None:
        return None
    stored, user = row
    if not hmac.compare_digest(stored.hash, hash_token(token)):
        return None
    now = now or utcnow()
    if stored.revoked_at is not None or user.revoked_at is not None:
        return None
    if stored.expires_at is not None and stored.expires_at <= now:
        return None
    return Principal(user.name, Role(user.role), tuple(user.regions), user.institution_id, prefix,
                     stored.expires_at, tuple(user.offices or ()))
