"""Users and tokens: hashed at rest, expiring, revocable; refused changes in one line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.core.db.tables import ApiToken
from service.core.db.tokens import Principal, authenticate
from service.core.db.types import Role, utcnow
from service.core.db.users import UserError, add_user, list_users, revoke_user


def test_a_token_is_kept_only_as_a_hash(engine: Engine, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        _, token = add_user(s, "王监管", "regulator", ["310000", "110000"])
    secret = token.split("_", 2)[2]  # the secret itself may contain "_"
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert not any(secret in str(v) for v in row), f"plaintext token in {table}"
    with sessions() as s:
        stored = s.scalars(select(ApiToken)).one()
        principal = authenticate(s, token)
    assert len(stored.hash) == 64 and token.startswith(f"tc_{stored.prefix}_")
    assert principal == Principal("王监管", Role.regulator, ("110000", "310000"), None,
                                  stored.prefix)


def test_wrong_expired_and_revoked_tokens_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        _, office = add_user(s, "office", "office", expires_days=1)
        _, inst = add_user(s, "inst", "institution", institution_id="I000001")
    with sessions() as s:
        assert authenticate(s, office) is not None
        assert authenticate(s, office[:-1] + ("A" if office[-1] != "A" else "B")) is None
        assert authenticate(s, "tc_000000000000_x") is None
        assert authenticate(s, "Bearer nonsense") is None
        assert authenticate(s, office, now=utcnow() + timedelta(days=2)) is None
        principal = authenticate(s, inst)
        assert principal is not None and principal.institution_id == "I000001"
    with sessions.begin() as s:
        revoke_user(s, "inst")
    with sessions() as s:
        assert authenticate(s, inst) is None
        assert [(u.name, u.revoked_at is not None) for u in list_users(s)] == [
            ("inst", True), ("office", False)]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"role": "wizard"}, "unknown role 'wizard': one of regulator, office, institution, "
                         "reviewer, auditor, assessor, admin"),
    ({"role": "office", "regions": ["110000"]}, "regions limit regulators only, not role 'office'"),
    ({"role": "regulator", "regions": ["999999"]}, "unknown region code(s) 999999: province "
                                                   "codes (GB/T 2260) such as 110000"),
    ({"role": "institution"}, "an institution user needs --institution, and only an "
                              "institution user"),
    ({"role": "admin", "expires_days": 0}, "--expires-days must be positive, got 0"),
])
def test_refused_users_say_why_in_one_line(
    sessions: sessionmaker[Session], kwargs: dict, message: str
) -> None:
    with pytest.raises(UserError) as refused, sessions.begin() as s:
        add_user(s, "someone", **kwargs)
    assert str(refused.value) == message


def test_names_are_unique_and_revoking_twice_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        add_user(s, "a", "auditor")
    with pytest.raises(UserError, match="user 'a' exists"), sessions.begin() as s:
        add_user(s, "a", "admin")
    with sessions.begin() as s:
        revoke_user(s, "a")
    with pytest.raises(UserError, match="user 'a' was revoked at"), sessions.begin() as s:
        revoke_user(s, "a")
    with pytest.raises(UserError, match="no user 'b'"), sessions.begin() as s:
        revoke_user(s, "b")
