"""Database fixtures, loaded for every test package by ``tests/conftest.py``: a test that asks
for ``db_url``, ``engine`` or ``sessions`` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from features.settings import get_settings
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import upgrade
from tests.service.backends import BACKENDS, empty_database, fresh_postgres_database

TEST_AUDIT_KEY = "74657374206175646974206b6579206f6e6c7920666f72207465737473"  # tests only
# for the whole process, so fixtures of any scope (a module's app) sign with the same key, and
# nothing writes a key or checkpoints under the working directory
os.environ["TECHCREDIT_AUDIT_KEY"] = TEST_AUDIT_KEY
os.environ.setdefault("TECHCREDIT_AUDIT_CHECKPOINTS",
                      os.path.join(tempfile.mkdtemp(prefix="techcredit-audit-"), "cp.jsonl"))


@pytest.fixture(autouse=True)
def audit_outside(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test's own checkpoint file: checkpoints of one test's database must not anchor
    another's."""
    place = tmp_path_factory.mktemp("audit")
    monkeypatch.setenv("TECHCREDIT_AUDIT_CHECKPOINTS", str(place / "audit-checkpoints.jsonl"))
    get_settings.cache_clear()
    yield place
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def postgres_module_db(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_postgres_database(request.module.__name__.rpartition(".")[2]) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    module_db = (request.getfixturevalue("postgres_module_db")
                 if request.param == "postgresql" else None)
    return empty_database(request.param, tmp_path, module_db)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated database."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)
