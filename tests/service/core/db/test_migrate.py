"""Migrations: an empty database reaches head, and the migrated schema is the models'."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from service.core.db.engine import make_engine
from service.core.db.migrate import (
    NotMigrated,
    alembic_config,
    current_revision,
    head_revision,
    require_migrated,
    upgrade,
)
from service.core.schema import metadata


def test_an_empty_database_is_refused_in_one_line_then_upgraded(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(NotMigrated) as refused:
            require_migrated(engine)
        message = str(refused.value)
        assert "\n" not in message
        assert message.endswith(f"is at revision none (empty), the code needs {head_revision()}: "
                                "run `techcredit db upgrade`")
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        require_migrated(engine)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_migrated_schema_has_no_difference_from_the_models(engine: Engine) -> None:
    """What ``alembic check`` does: autogenerate against the migrated database finds nothing."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    assert not set(metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == head_revision()
