"""Alembic's environment: online migrations on the engine handed over by ``migrate``.

Run through ``service.core.db.migrate`` (``techcredit db upgrade``); the engine comes from
``config.attributes`` so the URL is decided in one place, the settings.
"""

from __future__ import annotations

from alembic import context

from service.core.schema import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
