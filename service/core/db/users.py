"""Users of the service and their roles: added with a first token, listed, revoked.

Who may act is itself a decision to audit: adding a user (with their first token) and revoking
one append an audit entry in the caller's transaction, whoever calls — the command line, the
demo's people, the tests' helpers — and the rows' hashes go into the row-hash chain.

Mistakes are ``UserError`` with a one-line message, so the command line can print it and
exit 2, and the API can answer 422, without either repeating the rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from features.standard.enums import REGION
from service.core.db.audit import AuditRecord, append
from service.core.db.tables import User
from service.core.db.tokens import issue_token
from service.core.db.types import Role, utcnow
from service.core.inputs import ENTITY_ID


class UserError(ValueError):
    """A refused user change, in one line."""


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise UserError(
            f"unknown role {text!r}: one of {', '.join(r.value for r in Role)}"
        ) from None


def _check_scope(role: Role, regions: Sequence[str], institution_id: str | None,
                 offices: Sequence[str]) -> None:
    if regions and role is not Role.regulator:
        raise UserError(f"regions limit regulators only, not role {role.value!r}")
    unknown = sorted(set(regions) - set(REGION.codes))
    if unknown:
        raise UserError(f"unknown region code(s) {', '.join(unknown)}: province codes "
                        f"(GB/T 2260) such as 110000")
    if (role is Role.institution) != bool(institution_id):
        raise UserError("an institution user needs --institution, and only an institution user")
    if offices and role is not Role.office:
        raise UserError(f"offices bind office users only, not role {role.value!r}")
    malformed = sorted(o for o in offices if not re.fullmatch(ENTITY_ID, o))
    if malformed:
        raise UserError(f"malformed office id(s) {', '.join(malformed)}: such as OF11000001")


def add_user(session: Session, name: str, role: str, regions: Sequence[str] = (),
             institution_id: str | None = None, expires_days: int | None = None,
             offices: Sequence[str] = (), actor: str = "system", source: str | None = None
             ) -> tuple[User, str]:
    """Add a user with a first token, audited as done by ``actor``; returns the user and the
    token (shown once). An office user registers contracts for ``offices`` only (none: it is
    refused every check)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise UserError(f"user name must have 1-64 characters, got {name!r}")
    checked = _role(role)
    _check_scope(checked, regions, institution_id, offices)
    if expires_days is not None and expires_days <= 0:
        raise UserError(f"--expires-days must be positive, got {expires_days}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} exists")
    user = User(name=name, role=checked.value, regions=sorted(set(regions)),
                institution_id=institution_id, offices=sorted(set(offices)))
    session.add(user)
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    token = issue_token(session, user, expires_at)
    append(session, AuditRecord(
        actor=actor, role="admin", action="users.add", outcome="ok", entity_kind="user",
        entity_id=user.name, source=source,
        detail={"role": user.role, "regions": user.regions, "institution_id": institution_id,
                "offices": user.offices, "expires_days": expires_days,
                "token_prefix": token.split("_")[1]}))
    return user, token


def bind_offices(session: Session, name: str, offices: Sequence[str]) -> User:
    """Set the registration offices an office user registers for (replacing the old ones):
    how an office user added before offices were bound is given its own."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no user {name!r}")
    _check_scope(Role(user.role), (), None if user.role != Role.institution else
                 user.institution_id, offices)
    if not offices:
        raise UserError("give at least one office id: an office without one is refused "
                        "every check")
    user.offices = sorted(set(offices))
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def revoke_user(session: Session, name: str, actor: str = "system",
                source: str | None = None) -> User:
    """Revoke the user and every token of theirs, audited as done by ``actor``; the rows stay
    for the record."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no user {name!r}")
    if user.revoked_at is not None:
        raise UserError(f"user {name!r} was revoked at {user.revoked_at:%Y-%m-%d %H:%M} UTC")
    now = utcnow()
    user.revoked_at = now
    revoked = []
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
            revoked.append(token.prefix)
    append(session, AuditRecord(actor=actor, role="admin", action="users.revoke", outcome="ok",
                                entity_kind="user", entity_id=user.name, source=source,
                                detail={"token_prefixes": revoked}))
    return user
