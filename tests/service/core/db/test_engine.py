"""The engine factory: the backend's options, and ``postgresql://`` meaning psycopg 3."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from service.core.db.engine import database_url, make_engine


def test_sqlite_has_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")  # the folder is created
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_a_bare_postgresql_url_uses_psycopg_3_with_pre_ping() -> None:
    assert database_url("postgresql://postgres@127.0.0.1:5432/test").drivername == (
        "postgresql+psycopg")
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")  # no connection made
    assert engine.dialect.driver == "psycopg"
    assert engine.pool._pre_ping
    engine.dispose()


def test_the_default_url_is_a_sqlite_file_in_the_home(monkeypatch, tmp_path: Path) -> None:
    from features.settings import get_settings

    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path))
    monkeypatch.delenv("TECHCREDIT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert database_url().database == str(tmp_path.resolve() / "techcredit.db")
    finally:
        get_settings.cache_clear()
