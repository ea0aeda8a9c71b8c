"""Row hashes: every protected table's rows, however the application writes them (ORM
flushes, bulk statements, the journal), verify; a row changed, inserted or deleted by SQL
outside the application is named by table and key, also by ``techcredit audit verify``."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from features.settings import get_settings
from pipelines.cli.main import app
from service.core.db.row_audit import PROTECTED, adopt_rows, protected_tables, verify_rows
from service.core.db.tables import ContractCheck, RowHash, Score
from service.core.journal import Insert, Journal
from tests.service.backends import tamper

NOW = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _allowed(table: Table) -> dict[str, str]:
    """A value each ``col IN ('a', …)`` check constraint allows."""
    out = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            found = re.fullmatch(r"(\w+) IN \('([^']*)'.*", str(constraint.sqltext).strip())
            if found:
                out[found[1]] = found[2]
    return out


def _value(table: Table, name: str, parents: dict[str, int]) -> Any:
    column = table.columns[name]
    for fk in column.foreign_keys:
        return parents[fk.column.table.name]
    allowed = _allowed(table)
    if name in allowed:
        return allowed[name]
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator's own type
    if isinstance(kind, LargeBinary):
        return b"%PDF-\x00\xff"
    if isinstance(kind, JSON):
        return ["甲", 1]
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return date(2026, 11, 30)
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Float):
        return 0.125
    if isinstance(kind, Integer):
        return 3
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 8
        return "值x"[:length]
    return "x"


def _fill_every_protected_table(sessions: sessionmaker[Session]) -> dict[str, int]:
    """One row in each protected table (parents first), through the ORM: the ids."""
    ids: dict[str, int] = {}
    tables = protected_tables()
    assert set(tables) == set(PROTECTED)  # every name is a real table
    order = [t for t in tables["users"].metadata.sorted_tables if t.name in PROTECTED
             or any(t.name == fk.column.table.name for p in tables.values()
                    for fk in p.foreign_keys)]
    with sessions.begin() as s:
        for table in order:
            values = {c.name: _value(table, c.name, ids) for c in table.columns
                      if not c.primary_key and (not c.nullable or c.foreign_keys)}
            ids[table.name] = s.execute(insert(table).values(values)
                                        .returning(table.c.id)).scalar_one()
    return ids


def _text_column(table: Table) -> str:
    allowed = _allowed(table)
    return next(c.name for c in table.columns if isinstance(c.type, String | Text)
                and not c.foreign_keys and c.name not in allowed)


def test_a_row_edited_in_each_protected_table_is_named(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    ids = _fill_every_protected_table(sessions)
    with engine.connect() as connection:
        clean = verify_rows(connection)
    assert clean.ok, clean.reason
    assert clean.rows >= len(PROTECTED)
    for name in PROTECTED:
        table = protected_tables()[name]
        column = _text_column(table)
        with engine.connect() as connection:
            before = connection.execute(select(table.c[column]).where(
                table.c.id == ids[name])).scalar_one()
        tamper(engine, f"UPDATE {name} SET {column} = 'forged' WHERE id = :id", id=ids[name])
        with engine.connect() as connection:
            broken = verify_rows(connection)
        assert not broken.ok
        assert [(p.table, p.key) for p in broken.problems] == [(name, str(ids[name]))]
        assert broken.reason == (f"{name} row {ids[name]} was changed outside the application: "
                                 "it does not match the hash recorded at row-hash entry "
                                 f"{_last_entry(engine, name, ids[name])}")
        tamper(engine, f"UPDATE {name} SET {column} = :v WHERE id = :id", v=before, id=ids[name])
    with engine.connect() as connection:
        assert verify_rows(connection).ok


def _last_entry(engine: Engine, table: str, key: int) -> int:
    with engine.connect() as connection:
        return connection.execute(select(RowHash.id).where(
            RowHash.table_name == table, RowHash.row_key == str(key))
            .order_by(RowHash.id.desc()).limit(1)).scalar_one()


def _score(i: int) -> dict[str, Any]:
    return {"entity_kind": "institution", "entity_id": f"I{i:06d}", "region": "110000",
            "as_of": date(2026, 11, 30), "model_name": "credit", "model_version": "3",
            "alias": "champion", "probability": 0.1 + i / 1000, "points": 600.5 + i,
            "grade": "B", "reasons_zh": ["原因"], "reasons_en": ["reason"],
            "feature_as_of": date(2026, 11, 30)}


def test_bulk_statements_updates_and_deletes_are_recorded(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    """The batch scoring's ``session.execute(insert(Score), rows)``, a bulk update and a
    delete by the application verify; rows inserted or deleted by SQL do not."""
    with sessions.begin() as s:
        s.execute(insert(Score), [_score(i) for i in range(1, 201)])
    with sessions.begin() as s:
        s.execute(update(Score).where(Score.id <= 10).values(grade="C"))
        s.delete(s.get(Score, 11))
    with engine.connect() as connection:
        result = verify_rows(connection)
    assert result.ok, result.reason
    assert result.rows == 199
    tamper(engine, "DELETE FROM scores WHERE id = 12")
    tamper(engine, "INSERT INTO scores (entity_kind, entity_id, as_of, model_name, "
           "model_version, probability, points, grade, reasons_zh, reasons_en, feature_as_of, "
           "created_at) SELECT entity_kind, 'I999999', as_of, model_name, model_version, "
           "probability, points, grade, reasons_zh, reasons_en, feature_as_of, created_at "
           "FROM scores WHERE id = 13")
    with engine.connect() as connection:
        broken = verify_rows(connection)
    reasons = [p.reason for p in broken.problems]
    assert "scores row 12 was deleted outside the application (its hash was recorded at " \
           "row-hash entry 12)" in reasons
    assert "scores row 201 has no recorded hash: it was inserted outside the application" \
           in reasons


def test_the_journals_raw_inserts_are_recorded(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    journal = Journal(sessions)

    async def write() -> None:
        await asyncio.gather(*[journal.write([Insert(ContractCheck.__table__, {  # type: ignore[arg-type]
            "contract_id": f"C{i}", "probability": 0.25, "tier": "red", "reasons_zh": ["甲"],
            "reasons_en": ["a"], "rule_hits": [], "model_name": "m", "model_version": "1",
            "registered_date": date(2026, 1, 2), "checked_by": "office"})]) for i in range(50)])

    try:
        asyncio.run(write())
    finally:
        journal.close()
    with engine.connect() as connection:
        result = verify_rows(connection)
    assert result.ok and result.rows == 50, result.reason
    tamper(engine, "UPDATE contract_checks SET tier = 'blue' WHERE id = 7")
    with engine.connect() as connection:
        broken = verify_rows(connection)
    assert [(p.table, p.key) for p in broken.problems] == [("contract_checks", "7")]


def test_rows_from_before_row_hashing_are_adopted_once(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    tamper(engine, "INSERT INTO users (name, role, regions, created_at) "
           "VALUES ('old', 'admin', '[]', '2025-01-01 00:00:00+00')")
    with engine.connect() as connection:
        assert verify_rows(connection).reason == (
            "users row 1 has no recorded hash: it was inserted outside the application")
    with sessions.begin() as s:
        assert adopt_rows(s) == {"users": 1}
    with sessions.begin() as s:
        assert adopt_rows(s) == {}
    with engine.connect() as connection:
        assert verify_rows(connection).ok


@pytest.fixture
def cli_on(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner()


def test_the_command_line_names_an_edited_score(
        engine: Engine, sessions: sessionmaker[Session], cli_on: CliRunner) -> None:
    with sessions.begin() as s:
        s.execute(insert(Score), [_score(i) for i in range(1, 4)])
    ok = cli_on.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[1] == "OK: 3 protected rows match the last of 3 row hashes"
    tamper(engine, "UPDATE scores SET grade = 'A' WHERE id = 2")
    broken = cli_on.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert broken.output.strip() == (
        "BROKEN rows: scores row 2 was changed outside the application: it does not match the "
        "hash recorded at row-hash entry 2")
