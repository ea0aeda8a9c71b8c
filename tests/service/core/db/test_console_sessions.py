"""Console sessions: the id is never stored, and a session ends on sign-out, on its expiry,
and with its token or user."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, inspect, text, update
from sqlalchemy.orm import Session, sessionmaker

from service.core.db.console_sessions import (
    close_session,
    form_token,
    form_token_ok,
    open_session,
    session_principal,
)
from service.core.db.tables import ApiToken
from service.core.db.types import utcnow
from service.core.db.users import add_user, revoke_user

HOURS = timedelta(hours=8)


def test_a_session_is_kept_only_as_a_hash_and_acts_for_its_token(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        _, token = add_user(s, "reg", "regulator", ["110000"])
        opened = open_session(s, token, HOURS)
        assert open_session(s, token + "x", HOURS) is None
    assert opened is not None
    session_id, principal = opened
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert not any(session_id in str(v) for v in row), f"session id in {table}"
    with sessions() as s:
        found = session_principal(s, session_id)
    assert found is not None and (found.user, found.regions) == ("reg", ("110000",))
    assert principal.user == "reg"
    assert form_token_ok(session_id, form_token(session_id))
    assert not form_token_ok(session_id, form_token(session_id + "x"))


def test_a_session_ends_on_sign_out_expiry_and_revocation(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        _, token = add_user(s, "rev", "reviewer")
        _, other = add_user(s, "aud", "auditor")
        signed_out, _ = open_session(s, token, HOURS) or ("", None)
        revoked, _ = open_session(s, token, HOURS) or ("", None)
        user_gone, _ = open_session(s, other, HOURS) or ("", None)
        close_session(s, signed_out)
    with sessions() as s:
        assert session_principal(s, signed_out) is None
        assert session_principal(s, revoked) is not None
        assert session_principal(s, revoked, utcnow() + HOURS) is None  # expired
    with sessions.begin() as s:
        s.execute(update(ApiToken).values(revoked_at=utcnow()).where(
            ApiToken.prefix == token.split("_")[1]))
        revoke_user(s, "aud")
    with sessions() as s:
        assert session_principal(s, revoked) is None
        assert session_principal(s, user_gone) is None
        assert session_principal(s, "") is None


def test_a_session_ends_with_its_token(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        _, token = add_user(s, "short", "auditor", expires_days=1)
        opened = open_session(s, token, timedelta(days=30))
    assert opened is not None and opened[1].expires_at is not None
    with sessions() as s:
        assert session_principal(s, opened[0], utcnow() + timedelta(days=2)) is None
