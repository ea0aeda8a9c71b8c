"""Alembic, driven from code: the migrations ship inside the package and need no alembic.ini.

The service calls ``require_migrated`` at start-up so that it refuses to serve from a database
whose schema is not the one the code was written for, with a one-line message saying what to
run; ``techcredit db upgrade`` applies the migrations.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from service.core.db.engine import display_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class NotMigrated(RuntimeError):
    """The database's revision is not the code's head revision."""


def alembic_config(engine: Engine) -> Config:
    """A Config without a file: env.py takes the engine from ``attributes``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:  # only if the versions folder were emptied
        raise RuntimeError(f"no migrations in {MIGRATIONS / 'versions'}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for a database no migration has touched."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def require_migrated(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise NotMigrated(
            f"database {display_url(engine.url)} is at revision {current or 'none (empty)'}, "
            f"the code needs {head}: run `techcredit db upgrade`"
        )
