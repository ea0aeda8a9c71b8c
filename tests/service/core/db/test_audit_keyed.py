"""The keyed chain and its checkpoints: a chain rewritten without the key, cut at the end, or
signed by a key no longer in the ring is named; rotation keeps old entries verifying; a chain
from before keying is re-anchored once; PostgreSQL refuses edits; users are audited."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from features.settings import get_settings
from pipelines.cli.main import app
from service.core.db import checkpoints
from service.core.db.audit import GENESIS, AuditRecord, append, canonical, entry_hash, verify
from service.core.db.audit_keys import load_ring, rotate
from service.core.db.tables import AuditEntry
from service.core.db.types import utcnow
from service.core.db.users import add_user, revoke_user
from tests.service.backends import tamper


def _fill(sessions: sessionmaker[Session], n: int, start: int = 1) -> None:
    for i in range(start, start + n):
        with sessions.begin() as s:
            append(s, AuditRecord(actor=f"用户{i}", action="score.read", outcome="allowed",
                                  entity_kind="institution", entity_id=f"I{i:06d}"))


def test_a_chain_rewritten_without_the_key_is_named_at_the_first_edit(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    """The review's finding: edit an entry, recompute every later hash (as plain SHA-256,
    the scheme before keying, or an HMAC under a guessed key): verify names the edit."""
    _fill(sessions, 8)
    with sessions() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        s.expunge_all()
    prev = entries[4].prev_hash
    statements = []
    for entry in entries[4:]:
        if entry.id == 5:
            entry.outcome = "denied"
        entry.prev_hash = prev
        entry.hash = prev = hashlib.sha256(canonical(entry)).hexdigest()
        statements.append(f"UPDATE audit_log SET outcome = '{entry.outcome}', prev_hash = "
                          f"'{entry.prev_hash}', hash = '{entry.hash}' WHERE id = {entry.id}")
    tamper(engine, *statements)
    with sessions() as s:
        result = verify(s)
    assert (result.ok, result.bad_id, result.problem, result.checked) == (False, 5, "edited", 4)
    assert result.reason == "entry 5 was edited: its hash does not match it"


@pytest.fixture
def every_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint after every commit (the default: every 1000 entries or 10 seconds)."""
    monkeypatch.setenv("TECHCREDIT_AUDIT_CHECKPOINT_EVERY", "1")
    monkeypatch.setenv("TECHCREDIT_AUDIT_CHECKPOINT_SECONDS", "0")
    get_settings.cache_clear()


@pytest.fixture
def cli_on(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner()


def test_entries_cut_off_the_end_are_found_by_a_plain_verify(
        engine: Engine, sessions: sessionmaker[Session], every_commit: None,
        cli_on: CliRunner) -> None:
    _fill(sessions, 6)
    marks, problems = checkpoints.read()
    assert not problems and [m.id for m in marks if m.chain == "audit"] == [1, 2, 3, 4, 5, 6]
    path = get_settings().audit_checkpoints
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ok = cli_on.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    tamper(engine, "DELETE FROM audit_log WHERE id >= 5")
    cut = cli_on.invoke(app, ["audit", "verify"])
    assert cut.exit_code == 1
    last = checkpoints.read()[0][-1]  # verify's own checkpoint of head 6
    assert cut.output.strip() == (
        f"BROKEN at entry 5 (truncated): the checkpointed head 6 is gone (checkpoint of "
        f"{last.at}, {last.source}): the chain ends at 4, so entries 5-6 or more were cut off "
        "the end; 4 entries sound before it")
    head = ok.output.splitlines()[0].rpartition(" ")[2]
    assert cli_on.invoke(app, ["audit", "verify", "--expect-head", head]).exit_code == 1


def test_a_forged_checkpoint_line_is_refused(
        sessions: sessionmaker[Session], every_commit: None, cli_on: CliRunner) -> None:
    _fill(sessions, 2)
    path = get_settings().audit_checkpoints
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"id": 1000}
    path.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    out = cli_on.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1
    assert out.output.strip() == (f"BROKEN checkpoints: checkpoint {path} line 3 has a wrong "
                                  "signature: it was forged or edited")


def test_a_checkpoint_mirror_gets_every_line(
        sessions: sessionmaker[Session], every_commit: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHCREDIT_AUDIT_CHECKPOINT_MIRROR", str(tmp_path / "m" / "cp.jsonl"))
    get_settings.cache_clear()
    _fill(sessions, 3)
    primary, mirror = checkpoints.paths()
    assert primary.read_text() == mirror.read_text() and len(mirror.read_text().split()) == 3


def test_the_home_key_file_is_created_private_and_rotation_keeps_old_entries(
        engine: Engine, sessions: sessionmaker[Session], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TECHCREDIT_AUDIT_KEY")
    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    _fill(sessions, 3)
    key_file = tmp_path / "home" / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = load_ring().current
    second = rotate().current
    assert second != first and set(load_ring().keys) == {first, second}
    _fill(sessions, 3, start=4)
    with sessions() as s:
        assert verify(s).ok
        assert [e.key_id for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == (
            [first] * 3 + [second] * 3)
    key_file.write_text(key_file.read_text().splitlines()[1] + "\n")  # the old key lost
    with sessions() as s:
        lost = verify(s)
    assert (lost.bad_id, lost.problem) == (1, "edited")
    assert lost.reason == f"entry 1 names key {first}, which is not in the key ring {key_file}"
    os.chmod(key_file, 0o644)
    with pytest.raises(ValueError, match="readable by others"):
        load_ring()


def test_a_chain_from_before_keying_is_re_anchored_once(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:  # two entries as the code before keying wrote them
        prev = GENESIS
        for i in (1, 2):
            old = AuditEntry(id=i, at=utcnow(), actor="old", role=None, action="a",
                             entity_kind=None, entity_id=None, source=None, outcome="ok",
                             detail={}, prev_hash=prev, key_id=None)
            old.hash = prev = entry_hash(old)
            assert old.hash == hashlib.sha256(canonical(old)).hexdigest()
            s.add(old)
    _fill(sessions, 2, start=3)
    with sessions() as s:
        assert verify(s).ok
        third = s.get(AuditEntry, 3)
        assert third is not None and third.key_id is not None and third.prev_hash == prev
    # the old part rewritten with plain hashes (no key needed): the first keyed entry objects,
    # since its HMAC covers the old head
    with sessions() as s:
        first = s.get(AuditEntry, 1)
        second = s.get(AuditEntry, 2)
        assert first is not None and second is not None
        s.expunge_all()
    first.outcome = "denied"
    first.hash = entry_hash(first)
    second.prev_hash = first.hash
    second.hash = entry_hash(second)
    tamper(engine, "UPDATE audit_log SET outcome = 'denied', hash = :h1 WHERE id = 1",
           "UPDATE audit_log SET prev_hash = :h1, hash = :h2 WHERE id = 2",
           h1=first.hash, h2=second.hash)
    with sessions() as s:
        result = verify(s)
    assert (result.bad_id, result.problem) == (3, "relinked")


def test_an_unkeyed_entry_after_keyed_ones_is_refused(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    """Dropping the key id to fall back to plain SHA-256 (no key needed) does not pass."""
    _fill(sessions, 3)
    with sessions() as s:
        third = s.get(AuditEntry, 3)
        assert third is not None
        s.expunge_all()
    third.key_id = None
    tamper(engine, "UPDATE audit_log SET key_id = NULL, hash = :h WHERE id = 3",
           h=entry_hash(third))
    with sessions() as s:
        result = verify(s)
    assert (result.bad_id, result.problem) == (3, "unkeyed")
    assert result.reason == ("entry 3 has no key after keyed entries: it was written or "
                             "rewritten without the audit key")


def test_postgresql_refuses_to_update_or_delete_the_chains(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the append-only triggers are PostgreSQL's")
    with sessions.begin() as s:
        add_user(s, "someone", "auditor")  # a users and an api_tokens row hash
    _fill(sessions, 1)
    for statement in ("UPDATE audit_log SET outcome = 'x' WHERE id = 1",
                      "DELETE FROM audit_log WHERE id = 2", "TRUNCATE audit_log",
                      "DELETE FROM row_hashes", "UPDATE row_hashes SET row_hash = NULL"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with sessions() as s:
        assert verify(s).checked == 2
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM row_hashes")).scalar_one() == 2


def test_adding_and_revoking_users_is_audited(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        _, token = add_user(s, "张审计", "auditor", actor="cli:root", source="cli")
        revoke_user(s, "张审计", actor="cli:root", source="cli")
    with sessions() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert verify(s).ok
    assert [(e.actor, e.action, e.entity_id, e.source) for e in entries] == [
        ("cli:root", "users.add", "张审计", "cli"), ("cli:root", "users.revoke", "张审计", "cli")]
    prefix = token.split("_")[1]
    assert entries[0].detail["token_prefix"] == prefix
    assert entries[1].detail == {"token_prefixes": [prefix]}
