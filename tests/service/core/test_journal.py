"""Group commit: many concurrent writers, one unbroken chain; a bad item fails only itself."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from service.core.db.audit import (
    AuditRecord,
    append,
    entry_hash,
    link,
    lock_head_raw,
    verify,
)
from service.core.db.tables import AuditEntry, ContractCheck
from service.core.journal import Insert, Journal


def _check(contract_id: str, tier: str | None) -> ContractCheck:
    return ContractCheck(contract_id=contract_id, probability=0.5, tier=tier, reasons_zh=[],
                         reasons_en=[], rule_hits=[], model_name="m", model_version="1")


def test_concurrent_writes_form_one_chain(sessions: sessionmaker[Session]) -> None:
    journal = Journal(sessions)

    async def many() -> None:
        await asyncio.gather(*(journal.write(
            rows=[_check(f"C{i:08d}", "red")],
            audits=[AuditRecord(actor=f"u{i}", action="check", outcome="ok")])
            for i in range(300)))

    try:
        asyncio.run(many())
    finally:
        journal.close()
    with sessions() as s:
        result = verify(s)
        assert result.ok and result.checked == 300
        assert s.scalar(select(func.count()).select_from(ContractCheck)) == 300
        actors = set(s.scalars(select(AuditEntry.actor)))
    assert actors == {f"u{i}" for i in range(300)}


def test_a_bad_item_fails_alone(sessions: sessionmaker[Session]) -> None:
    journal = Journal(sessions)

    async def mixed() -> list[BaseException | None]:
        return await asyncio.gather(
            journal.write(rows=[_check("C00000001", "red")],
                          audits=[AuditRecord(actor="a", action="check", outcome="ok")]),
            journal.write(rows=[_check("C00000002", "purple")],  # breaks the tier constraint
                          audits=[AuditRecord(actor="b", action="check", outcome="ok")]),
            journal.write(audits=[AuditRecord(actor="c", action="read", outcome="ok")]),
            return_exceptions=True)

    try:
        outcomes = asyncio.run(mixed())
    finally:
        journal.close()
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], RuntimeError)
    with sessions() as s:
        assert verify(s).ok
        assert sorted(s.scalars(select(AuditEntry.actor))) == ["a", "c"]
        assert list(s.scalars(select(ContractCheck.contract_id))) == ["C00000001"]


def test_close_returns_when_idle(sessions: sessionmaker[Session]) -> None:
    journal = Journal(sessions)
    journal.close()
    assert not journal.thread.is_alive()


def test_core_inserts_and_orm_rows_commit_together(sessions: sessionmaker[Session]) -> None:
    journal = Journal(sessions)
    table = ContractCheck.__table__
    values = {"contract_id": "C00000009", "probability": 0.25, "tier": "yellow",
              "reasons_zh": ["金额"], "reasons_en": ["amount"], "rule_hits": ["R1"],
              "model_name": "m", "model_version": "2"}

    async def both() -> None:
        await asyncio.gather(
            journal.write(rows=[Insert(table, values)],  # type: ignore[arg-type]
                          audits=[AuditRecord(actor="a", action="check", outcome="ok")]),
            journal.write(rows=[_check("C00000010", None)],
                          audits=[AuditRecord(actor="b", action="check", outcome="ok")]))

    try:
        asyncio.run(both())
    finally:
        journal.close()
    with sessions() as s:
        assert verify(s).ok
        rows = {c.contract_id: c for c in s.scalars(select(ContractCheck))}
    assert set(rows) == {"C00000009", "C00000010"}
    core = rows["C00000009"]
    assert (core.tier, core.reasons_zh, core.rule_hits, core.checked_at is not None) == (
        "yellow", ["金额"], ["R1"], True)


def _append_linked(s: Session, records: list[AuditRecord]) -> int:
    """What the journal does: lock and read the head by the DBAPI, link in memory, insert."""
    cursor = s.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    head = lock_head_raw(cursor, s.get_bind().dialect.name)
    cursor.close()
    rows = link(head, records)
    if rows:
        s.execute(insert(AuditEntry), rows)
    return rows[-1]["id"] if rows else head[0]


def test_linked_rows_hash_exactly_as_append(sessions: sessionmaker[Session]) -> None:
    """The journal's Core path and the ORM path write the same entries: one chain verifies
    across both, and every stored hash is :func:`entry_hash` of the stored entry."""
    records = [
        AuditRecord(actor="用户1", role="regulator", action="read_score", outcome="ok",
                    entity_kind="institution", entity_id="I000001", source="127.0.0.1",
                    detail={"path": "/api/v1/x", "p": 0.1, "n": [1, 2.5, None], "zh": "读取"}),
        AuditRecord(actor='quote " and \\ slash', action="check", outcome="denied",
                    detail={"b": {"z": 1, "a": True}, "a": "\u2028"}),
        AuditRecord(actor="nobody", action="read", outcome="ok"),
    ]
    with sessions.begin() as s:
        assert _append_linked(s, records[:2]) == 2
    with sessions.begin() as s:
        append(s, records[2])
    with sessions.begin() as s:
        assert _append_linked(s, records) == 6
        assert _append_linked(s, []) == 6
    with sessions() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert verify(s).ok
    assert [e.id for e in entries] == [1, 2, 3, 4, 5, 6]
    assert all(entry_hash(e) == e.hash for e in entries)
    assert entries[3].detail == {"path": "/api/v1/x", "p": 0.1, "n": [1, 2.5, None],
                                 "zh": "读取"}
