"""The journal's raw inserts write what SQLAlchemy's Core insert writes, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from service.core.db.raw_insert import RawInsert
from service.core.db.tables import AuditEntry, ContractCheck

CHECKS = ContractCheck.__table__
CHECK = {"contract_id": "C00000001", "source": "check", "registered_date": date(2020, 12, 31),
         "institution_id": "I000001", "broker_id": None, "region": "110000", "alias": None,
         "checked_by": "office", "probability": 0.125, "tier": None,
         "reasons_zh": ["金额偏高"], "reasons_en": ["amount high"], "rule_hits": [],
         "model_name": "anomaly", "model_version": "3"}


def _cursor(conn: Connection) -> Any:
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _rows(engine: Engine, table: object, order: object) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(order))]


def test_a_raw_insert_writes_what_a_core_insert_writes(engine: Engine) -> None:
    raw = RawInsert(CHECKS, engine.dialect, tuple(CHECK))
    with engine.begin() as conn:
        conn.execute(insert(CHECKS), [CHECK])
        raw.run(_cursor(conn), [CHECK, {**CHECK, "contract_id": "C00000002", "tier": "red"}])
    core, first, second = _rows(engine, CHECKS, ContractCheck.id)
    assert core["checked_at"] is not None and first["checked_at"] is not None  # the default
    for row in (core, first, second):
        row.pop("id")
        row.pop("checked_at")
    assert first == core
    assert (second["contract_id"], second["tier"]) == ("C00000002", "red")


def test_columns_left_out_take_the_database_default(engine: Engine) -> None:
    values = {k: v for k, v in CHECK.items() if k != "source"}
    with engine.begin() as conn:
        RawInsert(CHECKS, engine.dialect, tuple(values)).run(_cursor(conn), [values])
    assert _rows(engine, CHECKS, ContractCheck.id)[0]["source"] == "check"


def test_time_zones_and_json_round_trip(engine: Engine) -> None:
    at = datetime(2026, 11, 25, 7, 8, 9, 123456, tzinfo=UTC)
    entry = {"id": 1, "at": at, "actor": "用户", "role": None, "action": "read",
             "entity_kind": None, "entity_id": None, "source": None, "outcome": "ok",
             "detail": {"path": "/x", "n": [1, 2.5, None], "zh": "读取"}, "prev_hash": "0" * 64,
             "hash": "f" * 64, "key_id": None}
    table = AuditEntry.__table__
    with engine.begin() as conn:
        RawInsert(table, engine.dialect, tuple(entry)).run(_cursor(conn), [entry])
    assert _rows(engine, table, AuditEntry.id) == [entry]
