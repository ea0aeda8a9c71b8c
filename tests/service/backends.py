"""Both database backends for the tests: a SQLite file, and a fresh PostgreSQL database.

PostgreSQL is the one on 127.0.0.1:5432 (``.ci/run`` starts it; override the admin URL with
``TECHCREDIT_TEST_POSTGRES_URL``). Its tests are skipped, with the reason, only when it
cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

BACKENDS = ("sqlite", "postgresql")
ADMIN_URL = os.environ.get(
    "TECHCREDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@lru_cache(maxsize=1)
def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    engine = create_engine(ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as e:  # any failure to connect is a reason to skip, stated
        first = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        return f"PostgreSQL not reachable at {make_url(ADMIN_URL).render_as_string()}: {first}"
    finally:
        engine.dispose()
    return None


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, uniquely named database (for one test module), dropped afterwards."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    name = f"tc_{prefix}_{uuid.uuid4().hex[:12]}".lower()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_database(backend: str, tmp_path: Path, module_db: str | None) -> str:
    """The URL of an empty database: a new SQLite file, or the module's PostgreSQL database
    with its schema emptied (cheaper than a database per test)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'techcredit.db'}"
    assert module_db is not None
    engine = create_engine(module_db)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return module_db


def tamper(engine: Engine, *statements: str, **params: object) -> None:
    """Run ``statements`` as someone with full access to the database would: on PostgreSQL
    with the append-only triggers off (a superuser's ``session_replication_role``)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            connection.execute(text(statement), params)
