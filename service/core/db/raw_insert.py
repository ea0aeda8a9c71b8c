"""Inserts the journal writes per request, through the DBAPI cursor.

A SQLAlchemy Core ``execute`` costs about 0.1 ms of CPU before the driver sees it (statement
cache key, execution context, result set-up, events); the journal runs one insert per table
per group commit on the event loop's core, so that overhead was half its cost per request.
:class:`RawInsert` lets SQLAlchemy do the dialect's work once — the SQL text with its
parameter style and casts, and each column's bind processor (JSON, time zones, SQLite's date
strings) — and then hands the processed rows to ``cursor.executemany``: the same rows the Core
insert would write, which a test checks on both backends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Dialect, Engine, Table, bindparam, insert


class RawInsert:
    """``INSERT INTO table (columns…)`` for one dialect: the columns given, and those with a
    Python default (filled as SQLAlchemy would); the others take the database's default."""

    def __init__(self, table: Table, dialect: Dialect, columns: Sequence[str]) -> None:
        given = set(columns)
        names = [c.name for c in table.columns if c.name in given or (
            c.default is not None and c.default.is_callable)]
        compiled = insert(table).values({n: bindparam(n) for n in names}).compile(
            dialect=dialect)
        self.sql = compiled.string
        self.order = list(compiled.positiontup) if compiled.positional else None
        self.names = names
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name in names:
            column_type = table.columns[name].type
            process = column_type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors[name] = process
        self.defaults = {c.name: c.default.arg for c in table.columns
                         if c.name not in given and c.name in names}

    def rows(self, values: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The DBAPI parameters of ``values``: Python defaults filled, binds processed."""
        out = []
        for row in values:
            full = {n: row[n] if n in row else self.defaults[n](None) for n in self.names}
            for name, process in self.processors.items():
                full[name] = process(full[name])
            out.append(tuple(full[n] for n in self.order) if self.order is not None else full)
        return out

    def run(self, cursor: Any, values: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``values`` (rows with this insert's columns) by a DBAPI ``cursor``."""
        if values:
            cursor.executemany(self.sql, self.rows(values))


class RawWriter:
    """The journal thread's own DBAPI connection, kept between batches: a transaction is
    ``BEGIN`` (``IMMEDIATE`` on SQLite, as :mod:`service.core.db.engine` begins every write), the
    statements, ``COMMIT`` — no pool checkout, events or execution contexts per batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Any = None  # the pool's proxy; None: connect on the next batch

    @contextmanager
    def begin(self) -> Iterator[Any]:
        """A cursor inside a transaction, committed on exit; on any error rolled back and the
        connection dropped (a restarted server costs one failed batch, retried item by item)."""
        if self.connection is None:
            self.connection = self.engine.raw_connection()
        dbapi = self.connection.dbapi_connection
        cursor = dbapi.cursor()
        try:
            if self.engine.dialect.name == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            cursor.close()
            dbapi.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                dbapi.rollback()
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.invalidate()
            self.connection = None
