"""The audit chain: appended entries verify; an edited, deleted or relinked entry is named;
concurrent writers never fork the chain."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.core.db.audit import GENESIS, AuditRecord, append, entry_hash, verify
from service.core.db.tables import AuditEntry
from tests.service.backends import tamper


def _record(i: int) -> AuditRecord:
    return AuditRecord(actor=f"用户{i}", role="regulator", action="score.read",
                       outcome="allowed", entity_kind="institution", entity_id=f"I{i:06d}",
                       source="127.0.0.1", detail={"grade": "B", "p": 0.1 * i, "zh": "读取评分"})


def _fill(sessions: sessionmaker[Session], n: int) -> None:
    for i in range(1, n + 1):
        with sessions.begin() as s:
            append(s, _record(i))


def test_appended_entries_form_a_chain_that_verifies(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        empty = verify(s)
    assert empty.ok and empty.checked == 0 and empty.head_id is None
    _fill(sessions, 5)
    with sessions() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        result = verify(s)
    assert [e.id for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert all(entry_hash(e) == e.hash for e in entries)  # same hash after the round trip
    assert result.ok and (result.checked, result.head_id, result.head_hash) == (
        5, 5, entries[-1].hash)


def test_an_edited_field_is_named(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 5)
    tamper(engine, "UPDATE audit_log SET outcome = 'denied' WHERE id = 3")
    with sessions() as s:
        result = verify(s)
    assert not result.ok and (result.bad_id, result.problem, result.checked) == (3, "edited", 2)
    assert result.reason == "entry 3 was edited: its hash does not match it"


def test_a_deleted_entry_is_named(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 5)
    tamper(engine, "DELETE FROM audit_log WHERE id = 3")
    with sessions() as s:
        result = verify(s)
    assert not result.ok and (result.bad_id, result.problem) == (3, "deleted")
    assert result.reason == "entry 3 is missing: the chain jumps from 2 to 4"
    assert result.head_id == 2


def _rewrite(engine: Engine, sessions: sessionmaker[Session], entry_id: int, **values: str
             ) -> None:
    """Change an entry and give it a fresh hash under the key: a forger holding the key."""
    with sessions() as s:
        entry = s.get(AuditEntry, entry_id)
        assert entry is not None
        for name, value in values.items():
            setattr(entry, name, value)
        fresh = entry_hash(entry)
        s.rollback()
    sets = ", ".join(f"{name} = :{name}" for name in values)
    tamper(engine, f"UPDATE audit_log SET {sets}, hash = :fresh WHERE id = :id",
           fresh=fresh, id=entry_id, **values)


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(
    engine: Engine, sessions: sessionmaker[Session],
) -> None:
    _fill(sessions, 4)
    _rewrite(engine, sessions, 2, outcome="denied")
    with sessions() as s:
        result = verify(s)
    assert not result.ok and (result.bad_id, result.problem) == (3, "relinked")
    assert "entry 2 was rewritten" in result.reason


def test_concurrent_appends_give_one_unbroken_chain(sessions: sessionmaker[Session]) -> None:
    threads, per_thread = 4, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with sessions.begin() as s:  # each thread, each append: its own session
                    append(s, _record(100 * t + i))
        except BaseException as e:  # reported below, with the thread's failure
            errors.append(e)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    with sessions() as s:
        result = verify(s)
        distinct_prev = s.scalar(select(func.count(func.distinct(AuditEntry.prev_hash))))
    assert result.ok and result.checked == threads * per_thread, result
    assert distinct_prev == threads * per_thread  # no two entries share a predecessor


def test_a_first_entry_not_starting_from_genesis_is_named(
    engine: Engine, sessions: sessionmaker[Session],
) -> None:
    _fill(sessions, 2)
    _rewrite(engine, sessions, 1, prev_hash="f" * 64)
    with sessions() as s:
        result = verify(s)
    assert (result.bad_id, result.problem, result.head_id) == (1, "relinked", None)


def test_entries_cut_off_the_end_are_found_against_a_recorded_head(
    engine: Engine, sessions: sessionmaker[Session],
) -> None:
    _fill(sessions, 5)
    with sessions() as s:
        sound = verify(s)
        assert sound.head_id == 5 and sound.head_hash is not None
        head = (5, sound.head_hash)
        assert verify(s, expect=head).ok
    tamper(engine, "DELETE FROM audit_log WHERE id >= 4")
    with sessions() as s:
        assert verify(s).ok  # the shorter chain is sound on its own
        cut = verify(s, expect=head)
    assert not cut.ok and (cut.bad_id, cut.problem, cut.head_id) == (4, "truncated", 3)
    assert "the recorded head 5 is gone: the chain ends at 3" in cut.reason


def test_a_recorded_head_with_another_hash_is_a_rewrite(sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 3)
    with sessions() as s:
        result = verify(s, expect=(2, "f" * 64))
    assert not result.ok and (result.bad_id, result.problem) == (2, "relinked")
