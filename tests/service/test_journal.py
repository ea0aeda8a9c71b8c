"""Group commit: many concurrent writers, one unbroken chain; a bad item fails only itself."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.db.audit import AuditRecord, verify
from service.db.models import AuditEntry, ContractCheck
from service.journal import Journal


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
