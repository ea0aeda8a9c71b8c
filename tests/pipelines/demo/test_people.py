"""The demo's people on both backends: one user for each role a person can try in the console
(two regulators and two assessors, for the four-eyes steps), tokens that log in, kept in a
file only the owner reads, and a re-run that adds nobody and leaves the file alone."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from features.settings import Settings
from pipelines.demo.people import ensure_people, logins_path
from service.core.db.audit import verify
from service.core.db.tables import AuditEntry, User
from service.core.db.tokens import authenticate
from service.core.db.users import add_user

PEOPLE = [("demo-regulator", "regulator"), ("demo-regulator-2", "regulator"),
          ("demo-office", "office"), ("demo-reviewer", "reviewer"),
          ("demo-auditor", "auditor"), ("demo-assessor-1", "assessor"),
          ("demo-assessor-2", "assessor"), ("demo-admin", "admin")]


def _lines(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def test_people_are_made_once_with_tokens_that_log_in(
        db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database={"url": db_url})
    first = ensure_people(settings)
    assert first.path == logins_path(settings) == tmp_path / "demo-logins.txt"
    assert first.created == [name for name, _ in PEOPLE]
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    saved = _lines(first.path)
    assert [(name, role) for name, role, _ in saved] == PEOPLE
    with sessions() as session:
        for name, role, token in saved:
            principal = authenticate(session, token)
            assert principal is not None and (principal.user, principal.role) == (name, role)
    written = first.path.read_bytes()

    again = ensure_people(settings)
    assert again.created == [] and again.path.read_bytes() == written
    with sessions() as session:
        assert sorted(session.scalars(select(User.name))) == sorted(n for n, _ in PEOPLE)
        added = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id)
                                .order_by(AuditEntry.id)).all()
        assert verify(session).ok
    assert added == [("demo", "users.add", name) for name, _ in PEOPLE]  # the admin included


def test_a_person_who_exists_is_left_out_of_the_file(
        db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """A token is shown only once, when it is made: an existing user's token is not known."""
    with sessions.begin() as session:
        add_user(session, "demo-admin", "admin")
    logins = ensure_people(Settings(home=tmp_path, database={"url": db_url}))
    assert logins.created == [name for name, _ in PEOPLE[:-1]]
    assert [name for name, *_ in _lines(logins.path)] == logins.created
