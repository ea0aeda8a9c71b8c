"""The stack's Prefect server: ``prefect server start`` with one compatibility fix.

Prefect 3.8's scheduler inserts scheduled runs with ``insert(FlowRun)`` on dictionaries that
carry a ``state`` key, which names a hybrid property with a setter. SQLAlchemy 2.0 ignored that
key (the states are inserted separately right after); SQLAlchemy 2.1, which this project
resolves to, refuses it ("Can't evaluate bulk DML statement; please supply a bulk_dml
decorated function"), so no schedule ever fires. The fix gives the two ``state`` hybrids a
bulk-DML hook that drops the key, which is what 2.0 did; SQLAlchemy hands the hook a copy of
each dictionary, so Prefect's own list is untouched. Run as
``python -m pipelines.stack.prefect_server server start …`` (the arguments of ``prefect``).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any


def _drop_state(cls: type, mapping: MutableMapping[str, Any], value: object) -> None:
    mapping.pop("state", None)


def patch_state_hybrids() -> int:
    """Add the hook where it is missing; returns how many hybrids were given one."""
    from prefect.server.database import orm_models

    patched = 0
    for model in (orm_models.FlowRun, orm_models.TaskRun):
        hybrid = model.__dict__["state"]
        if getattr(hybrid, "bulk_dml_setter", "absent") is None:
            hybrid.bulk_dml_setter = _drop_state
            patched += 1
    return patched


def main() -> None:
    import sys

    from prefect.cli import app

    patch_state_hybrids()
    sys.exit(app())


if __name__ == "__main__":
    main()
