"""The one engine factory: the URL comes from the settings, the options from the backend.

SQLite (the default, a file under ``TECHCREDIT_HOME``) is a single-writer database: a
transaction that reads and later writes fails with ``database is locked`` instead of waiting
when another writer got in first. Every SQLite transaction therefore takes the write lock at
``BEGIN IMMEDIATE`` and waits its turn (busy timeout); with WAL, readers outside a transaction
are never blocked. A service's read-only sessions (``make_engine(readonly=True)``) skip the
write lock: a request that only reads must never queue behind, or hold up, the audit writer.
PostgreSQL (``TECHCREDIT_DATABASE_URL``) gets ``pool_pre_ping`` so a
restarted server costs one reconnect, not one failed request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from features.settings import get_settings
from service.core.db import row_audit  # noqa: F401  (every session hashes protected rows)

SQLITE_BUSY_TIMEOUT_S = 30.0


def database_url(url: str | None = None) -> URL:
    """``url`` or the settings' one; bare ``postgresql://`` means psycopg 3, the driver we ship."""
    parsed = make_url(url or get_settings().db_url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: URL) -> str:
    """The URL with its password hidden, for messages."""
    return url.render_as_string(hide_password=True)


def make_engine(url: str | None = None, readonly: bool = False) -> Engine:
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, readonly)
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL, readonly: bool = False) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if readonly:
            cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    if readonly:  # no BEGIN at all: each read is its own snapshot and takes no lock
        return engine

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (the CLI prints them afterwards)."""
    return sessionmaker(engine, expire_on_commit=False)
