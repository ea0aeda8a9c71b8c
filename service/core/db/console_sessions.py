"""Console sessions: what a signed-in browser holds instead of the API token.

The cookie carries a random session id (256 bits); the database keeps its SHA-256, the token
the person signed in with and an expiry. Every page looks the session up with its token and
user, so signing out, the session's expiry, the token's expiry and the revocation of the token
or of its user each end it at once. The form token against cross-site requests is derived
from the session id (an HMAC), so it needs no storage and is worthless without the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.core.db.tables import ApiToken, ConsoleSession, User
from service.core.db.tokens import Principal, authenticate
from service.core.db.types import Role, utcnow


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(session: Session, token: str, lifetime: timedelta,
                 now: datetime | None = None) -> tuple[str, Principal] | None:
    """A new session for a valid ``token`` (its id, shown once, and its principal), ending
    with the token if that comes first; None for a token that does not authenticate."""
    now = now or utcnow()
    principal = authenticate(session, token, now)
    if principal is None:
        return None
    token_id = session.scalar(select(ApiToken.id).where(
        ApiToken.prefix == principal.token_prefix))
    assert token_id is not None  # authenticate found it
    ends = now + lifetime
    if principal.expires_at is not None:
        ends = min(ends, principal.expires_at)
    # sessions ended a day ago or more are no use to anyone (the audit log keeps the sign-ins)
    session.execute(delete(ConsoleSession).where(
        ConsoleSession.expires_at < now - timedelta(days=1)))
    session_id = secrets.token_urlsafe(32)
    session.add(ConsoleSession(hash=_hash(session_id), token_id=token_id, created_at=now,
                               expires_at=ends))
    session.flush()
    return session_id, principal


def session_principal(session: Session, session_id: str,
                      now: datetime | None = None) -> Principal | None:
    """Who a session acts for; None if it is unknown, signed out or expired, or its token or
    user was revoked or expired."""
    if not session_id:
        return None
    row = session.execute(
        select(ConsoleSession, ApiToken, User).join(ApiToken, ConsoleSession.token_id ==
                                                    ApiToken.id).join(User)
        .where(ConsoleSession.hash == _hash(session_id))).first()
    if row is None:
        return None
    kept, token, user = row
    now = now or utcnow()
    if kept.revoked_at is not None or kept.expires_at <= now:
        return None
    if token.revoked_at is not None or user.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return Principal(user.name, Role(user.role), tuple(user.regions), user.institution_id,
                     token.prefix, kept.expires_at)


def close_session(session: Session, session_id: str, now: datetime | None = None) -> None:
    """Sign out: the session can no longer be used, even if its cookie was copied."""
    session.execute(update(ConsoleSession).where(
        ConsoleSession.hash == _hash(session_id), ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow()))


def form_token(session_id: str) -> str:
    """The session's token for its forms: another site can neither read nor compute it."""
    return hmac.new(session_id.encode("utf-8"), b"console-form", hashlib.sha256).hexdigest()


def form_token_ok(session_id: str, given: str) -> bool:
    return hmac.compare_digest(form_token(session_id).encode(), given.encode("utf-8"))
