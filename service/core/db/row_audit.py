"""Row hashes: every change the application makes to a protected table, in a keyed chain.

The audit log says who did what, but a score, case or token edited by SQL afterwards would
still read as the application wrote it. So each insert, update and delete of a protected row
appends the row's content hash (:func:`row_digest`, SHA-256 over its columns as canonical JSON)
to ``row_hashes``, a chain built as the audit log is (ids are positions, each entry an
HMAC-SHA256 under the audit key over its fields and the previous entry's hash). ``verify``
recomputes every current row's hash and compares it with the latest recorded: a row changed,
inserted or deleted outside the application is named by table and key.

The hashes are written in the same transaction as the rows, and always from the rows as the
database returns them (one ``SELECT`` per table and flush, never one per row), so the digest
never depends on how a value was given: ORM flushes (``after_flush``), statements executed by a
session (``do_orm_execute``: the batch scoring's bulk inserts, bulk updates and deletes) and the
journal's raw inserts (:func:`record_raw`) all end in :func:`_append`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Delete,
    Insert,
    Table,
    Update,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from service.core.db.audit_keys import KeyRing, load_ring
from service.core.db.raw_insert import RawInsert
from service.core.db.tables import Base, RowHash

GENESIS = "0" * 64
ROWS: Table = RowHash.__table__  # type: ignore[assignment]
HEAD_SQL = "SELECT id, hash FROM row_hashes ORDER BY id DESC LIMIT 1"
# the audit log's advisory lock: one writer of either chain at a time (re-entrant on PostgreSQL)
_PG_LOCK_KEY = 0x7465636863726564

# Every table whose rows decide something about someone: what scoring wrote, what people
# decided, and who may act. drift_checks and grade_calibration are measurements, rebuilt monthly.
PROTECTED: tuple[str, ...] = (
    "scores", "overrides", "contract_checks", "warnings",
    "cases", "case_events", "case_files", "case_measures",
    "assessments", "assessment_results", "assessment_events", "assessment_appeals",
    "institution_status", "monitor_alerts", "users", "api_tokens",
)


def _plain(value: Any) -> Any:
    """A column value in the one form it is hashed in, whatever the driver returned."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):  # a file's content: its SHA-256 stands for it
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return value


def row_digest(table: Table, row: Mapping[str, Any]) -> str:
    """SHA-256 of the row's columns (all of them, by name) as canonical JSON."""
    fields = {c.name: _plain(row[c.name]) for c in table.columns}
    text_ = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                       default=str)
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def _mac(ring: KeyRing, key_id: str, entry_id: int, table: str, key: str,
         digest: str | None, prev: str) -> str:
    data = json.dumps([entry_id, table, key, digest, prev, key_id], separators=(",", ":"))
    return ring.mac(key_id, data.encode("utf-8"))


class TablesNotLoaded(RuntimeError):
    """A protected table is not registered in this process: its rows cannot be checked."""


def protected_tables() -> dict[str, Table]:
    """Every protected table, all of them: a table this process never imported would read as
    empty, and its recorded rows as deleted (import :mod:`service.core.schema` first)."""
    tables = Base.metadata.tables
    missing = [name for name in PROTECTED if name not in tables]
    if missing:
        raise TablesNotLoaded(f"tables {missing} are not registered: import service.core.schema")
    return {name: tables[name] for name in PROTECTED}  # type: ignore[misc]


def _link(head: tuple[int, str], changes: Iterable[tuple[str, str, str | None]],
          ring: KeyRing) -> list[dict[str, Any]]:
    next_id, prev = head[0] + 1, head[1]
    kid = ring.current
    rows = []
    for table, key, digest in changes:
        mac = _mac(ring, kid, next_id, table, key, digest, prev)
        rows.append({"id": next_id, "table_name": table, "row_key": key, "row_hash": digest,
                     "key_id": kid, "prev_hash": prev, "hash": mac})
        prev, next_id = mac, next_id + 1
    return rows


def _digests(connection: Connection, table: Table, where: ColumnElement[bool],
             expected: Iterable[int] = ()) -> list[tuple[str, str, str | None]]:
    """The (table, key, hash) of the rows ``where`` selects; ids in ``expected`` that are gone
    are recorded as deleted (hash None)."""
    found = {row["id"]: row_digest(table, row) for row in
             connection.execute(select(table).where(where)).mappings()}
    gone = sorted(set(expected) - set(found))
    return ([(table.name, str(i), d) for i, d in sorted(found.items())]
            + [(table.name, str(i), None) for i in gone])


def _append(connection: Connection, changes: Sequence[tuple[str, str, str | None]]
            ) -> tuple[int, str] | None:
    if not changes:
        return None
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    last = connection.execute(text(HEAD_SQL)).first()
    rows = _link((last[0], last[1]) if last else (0, GENESIS), changes, load_ring())
    connection.execute(insert(ROWS), rows)
    return rows[-1]["id"], rows[-1]["hash"]


def _ids(objects: Iterable[Any]) -> dict[Table, set[int]]:
    out: dict[Table, set[int]] = {}
    for obj in objects:
        table = getattr(obj, "__table__", None)
        if table is not None and table.name in PROTECTED and obj.id is not None:
            out.setdefault(table, set()).add(obj.id)
    return out


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    """The rows this flush wrote or deleted, read back, into the chain."""
    written = _ids([*session.new, *session.dirty])
    deleted = _ids(session.deleted)
    if not written and not deleted:
        return
    connection = session.connection()
    changes: list[tuple[str, str, str | None]] = []
    for table, ids in written.items():
        changes += _digests(connection, table, table.c.id.in_(sorted(ids)), ids)
    for table, ids in deleted.items():
        changes += [(table.name, str(i), None) for i in sorted(ids - written.get(table, set()))]
    _remember(session, _append(connection, changes))


def _remember(session: Session, head: tuple[int, str] | None) -> None:
    if head is not None:
        session.info["rows_head"] = head


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> Any:
    """A statement run by a session on a protected table (a bulk insert, update or delete):
    which rows it touches is read before, their contents after, in the same transaction."""
    statement = state.statement
    if not isinstance(statement, Insert | Update | Delete):
        return None
    table = statement.table
    if not isinstance(table, Table) or table.name not in PROTECTED:
        return None
    session = state.session
    connection = session.connection()
    if isinstance(statement, Insert):
        before = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        result = state.invoke_statement()
        changes = _digests(connection, table, table.c.id > before)
    else:
        ids = _touched(connection, table, statement, state.parameters)
        result = state.invoke_statement()
        changes = _digests(connection, table, table.c.id.in_(ids), ids) if ids else []
    _remember(session, _append(connection, changes))
    return result


def _touched(connection: Connection, table: Table, statement: Update | Delete,
             parameters: Any) -> list[int]:
    if isinstance(parameters, list):  # bulk by primary key
        return sorted({int(p["id"]) for p in parameters})
    query = select(table.c.id)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    return sorted(connection.execute(query).scalars())


class RawRecorder:
    """:func:`_append` for the journal's DBAPI cursor: one ``max(id)`` before a table's
    insert and one ``SELECT`` of the new rows after, processed as SQLAlchemy would return
    them, so the digests equal those verify computes."""

    def __init__(self, table: Table, dialect: Any) -> None:
        self.table = table
        self.dialect = dialect
        self.max_sql = f"SELECT COALESCE(MAX(id), 0) FROM {table.name}"
        compiled = select(table).where(table.c.id > bindparam("after")).compile(dialect=dialect)
        self.select_sql = compiled.string
        self.columns: list[Column[Any]] = list(table.columns)
        self.processors: list[Any] | None = None  # from the first result's column types
        self.param_style_positional = compiled.positional

    def before(self, cursor: Any) -> int:
        cursor.execute(self.max_sql)
        return int(cursor.fetchone()[0])

    def after(self, cursor: Any, before: int) -> list[tuple[str, str, str | None]]:
        cursor.execute(self.select_sql, (before,) if self.param_style_positional
                       else {"after": before})
        if self.processors is None:
            self.processors = [
                c.type.dialect_impl(self.dialect).result_processor(self.dialect, d[1])
                for c, d in zip(self.columns, cursor.description, strict=True)]
        out = []
        for raw in cursor.fetchall():
            row = {c.name: (p(v) if p is not None else v)
                   for c, p, v in zip(self.columns, self.processors, raw, strict=True)}
            out.append((self.table.name, str(row["id"]), row_digest(self.table, row)))
        return out


def append_raw(cursor: Any, dialect: Any, changes: Sequence[tuple[str, str, str | None]],
               ring: KeyRing) -> tuple[int, str] | None:
    """:func:`_append` by a DBAPI cursor (the journal's writer)."""
    if not changes:
        return None
    if dialect.name == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
    cursor.execute(HEAD_SQL)
    last = cursor.fetchone()
    rows = _link((last[0], last[1]) if last else (0, GENESIS), changes, ring)
    RawInsert(ROWS, dialect, tuple(rows[0])).run(cursor, rows)
    return rows[-1]["id"], rows[-1]["hash"]


@dataclass(frozen=True)
class RowProblem:
    table: str
    key: str
    reason: str


@dataclass(frozen=True)
class RowsResult:
    ok: bool
    checked: int  # chain entries read
    rows: int  # protected rows compared
    head_id: int | None
    head_hash: str | None
    problems: list[RowProblem]
    reason: str = ""  # the first problem, in one line


def verify_rows(connection: Connection, anchors: Mapping[int, tuple[str, str]] | None = None,
                ring: KeyRing | None = None, limit: int = 20) -> RowsResult:
    """Walk the row-hash chain (ids, links, HMACs, checkpoints ``anchors``: id → (hash, what)),
    then compare every protected row with its latest recorded hash. Reports up to ``limit``
    rows that differ."""
    ring = ring or load_ring()
    anchors = anchors or {}
    latest: dict[tuple[str, str], tuple[str | None, int]] = {}
    prev_id, prev = 0, GENESIS
    for entry in connection.execute(select(ROWS).order_by(ROWS.c.id)
                                    .execution_options(yield_per=2000)).mappings():
        reason = None
        if entry["id"] != prev_id + 1:
            reason = (f"row-hash entry {prev_id + 1} is missing: the chain jumps from {prev_id} "
                      f"to {entry['id']}")
        elif entry["key_id"] not in ring.keys:
            reason = f"row-hash entry {entry['id']} names a key not in {ring.source}"
        elif not hmac.compare_digest(entry["hash"], _mac(
                ring, entry["key_id"], entry["id"], entry["table_name"], entry["row_key"],
                entry["row_hash"], entry["prev_hash"])):
            reason = f"row-hash entry {entry['id']} was edited: its hash does not match it"
        elif entry["prev_hash"] != prev:
            reason = f"row-hash entry {entry['id']} does not link to entry {prev_id}"
        elif entry["id"] in anchors and anchors[entry["id"]][0] != entry["hash"]:
            reason = (f"row-hash entry {entry['id']} differs from {anchors[entry['id']][1]}: "
                      "the chain was rewritten from there")
        if reason:
            return RowsResult(False, prev_id, 0, prev_id or None, prev if prev_id else None,
                              [], reason)
        latest[(entry["table_name"], entry["row_key"])] = (entry["row_hash"], entry["id"])
        prev_id, prev = entry["id"], entry["hash"]
    if anchors and max(anchors) > prev_id:
        last = max(anchors)
        return RowsResult(False, prev_id, 0, prev_id or None, prev if prev_id else None, [],
                          f"{anchors[last][1]} has row-hash entry {last}, but the chain ends at "
                          f"{prev_id or 'nothing'}: entries were cut off the end")
    problems: list[RowProblem] = []
    compared = 0
    for name, table in protected_tables().items():
        for row in connection.execute(select(table).order_by(table.c.id)
                                      .execution_options(yield_per=2000)).mappings():
            compared += 1
            key = str(row["id"])
            recorded = latest.pop((name, key), None)
            if recorded is None:
                problems.append(RowProblem(name, key, f"{name} row {key} has no recorded hash: "
                                           "it was inserted outside the application"))
            elif recorded[0] is None:
                problems.append(RowProblem(name, key, (
                    f"{name} row {key} was recorded deleted at row-hash entry {recorded[1]} "
                    "but is there again")))
            elif recorded[0] != row_digest(table, row):
                problems.append(RowProblem(name, key, (
                    f"{name} row {key} was changed outside the application: it does not match "
                    f"the hash recorded at row-hash entry {recorded[1]}")))
    for (name, key), (digest, at) in latest.items():
        if digest is not None:
            problems.append(RowProblem(name, key, (
                f"{name} row {key} was deleted outside the application (its hash was "
                f"recorded at row-hash entry {at})")))
    problems.sort(key=lambda p: (p.table, p.key))
    head = (prev_id or None, prev if prev_id else None)
    if problems:
        return RowsResult(False, prev_id, compared, *head, problems[:limit], problems[0].reason)
    return RowsResult(True, prev_id, compared, *head, [])


def adopt_rows(session: Session) -> dict[str, int]:
    """Record the hash of every protected row that has none yet: the rows written before row
    hashing existed, adopted once by an operator who has checked them. Returns the counts."""
    connection = session.connection()
    recorded = set(connection.execute(select(ROWS.c.table_name, ROWS.c.row_key).distinct())
                   .tuples())
    changes: list[tuple[str, str, str | None]] = []
    counts: dict[str, int] = {}
    for name, table in protected_tables().items():
        for row in connection.execute(select(table).order_by(table.c.id)).mappings():
            if (name, str(row["id"])) not in recorded:
                changes.append((name, str(row["id"]), row_digest(table, row)))
                counts[name] = counts.get(name, 0) + 1
    _remember(session, _append(connection, changes))
    return counts
