"""What one service benchmark run is set up against: its database (SQLite in the home, or a
fresh database on a PostgreSQL server, dropped at the end) and its market (the home's tiny one,
or one given with ``--market``); and the names that follow from them (the home folder and its
cache marker, the section of ``docs/benchmarks.md``, the command line it prints).

Everything here but :func:`fresh_database` is pure, and tested in
``tests/benchmarks/test_service_config.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# the local PostgreSQL of the tests (tests/service/backends.py), with the same override
LOCAL_POSTGRES = os.environ.get(
    "TECHCREDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
KINDS = {"sqlite": "sqlite", "postgresql": "postgres"}  # dialect → short name in names
BASE_SECTION = "service"


def server_url(value: str | None) -> str | None:
    """``--database`` as the URL of a PostgreSQL server to make fresh databases on, or None
    for SQLite in the home. ``postgresql`` (or ``postgres``) alone is the local one of the
    tests; a URL names the server (and an existing database to connect to for
    ``CREATE DATABASE``: the run's own database gets a fresh name)."""
    if value is None or value.strip().lower() in ("", "sqlite"):
        return None
    if value.strip().lower() in ("postgresql", "postgres"):
        return LOCAL_POSTGRES
    from sqlalchemy.engine import make_url

    url = make_url(value)  # raises ArgumentError on something that is not a URL
    if url.get_backend_name() == "sqlite":
        raise ValueError("--database: SQLite is the default (a file in the home); pass a "
                         "PostgreSQL server URL or leave it out")
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"--database: {url.get_backend_name()} is not supported, only "
                         "PostgreSQL (or SQLite by default)")
    if url.drivername == "postgresql":  # the driver the project installs
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def kind(server: str | None) -> str:
    """``sqlite`` or ``postgres``: what the home cache and the section are keyed on."""
    if server is None:
        return "sqlite"
    from sqlalchemy.engine import make_url

    return KINDS[make_url(server).get_backend_name()]


def fresh_name(stamp: str | None = None) -> str:
    """A database name no other run uses (lower case: PostgreSQL folds unquoted names)."""
    return f"tc_bench_service_{stamp or uuid.uuid4().hex[:12]}".lower()


def on_database(server: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server``."""
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=name).render_as_string(hide_password=False)


def shown(url: str) -> str:
    """A URL for the report and the log: the password masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def describe_server(database: str) -> str:
    """``PostgreSQL 15.2 on 127.0.0.1:5432, a database of its own for this run``."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            version = ".".join(map(str, connection.dialect.server_version_info or ()))
    finally:
        engine.dispose()
    return server_words(make_url(database).host, make_url(database).port, version)


def server_words(host: str | None, port: int | None, version: str) -> str:
    where = f"{host or 'localhost'}:{port or 5432}"
    return f"PostgreSQL {version} on {where}, a database of its own for this run"


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new database on ``server`` for this run, dropped afterwards (connections forced out,
    so a server that did not stop cleanly does not leave it behind)."""
    from sqlalchemy import create_engine, text

    name = fresh_name()
    admin = create_engine(server, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield on_database(server, name)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@dataclass(frozen=True)
class HomeLayout:
    """Where a database kind's home lives under ``--workdir``. SQLite keeps the layout of
    before (``home/``, ``home.ok``: models trained and the database filled, both reused);
    another kind has its own home (the audit checkpoints in it belong to one database) whose
    marker covers the trained models only: its database is new every run, so it is filled
    every run."""

    home: Path
    market: Path
    marker: Path
    database_cached: bool


def layout(work: Path, db_kind: str) -> HomeLayout:
    suffix = "" if db_kind == "sqlite" else f"-{db_kind}"
    return HomeLayout(home=work / f"home{suffix}", market=work / "market",
                      marker=work / f"home{suffix}.ok", database_cached=db_kind == "sqlite")


def section(db_kind: str, market: Path | None, full: bool) -> str:
    """``service`` for the home market on SQLite; ``-full`` (a full-scale ``--market``) or
    ``-market`` (another one), then ``-postgres`` on PostgreSQL."""
    name = BASE_SECTION
    if market is not None:
        name += "-full" if full else "-market"
    if db_kind != "sqlite":
        name += f"-{db_kind}"
    return name


FULL_SCALE_CONTRACTS = 1_000_000  # the national market has 3.5M; scale 0.05 has ~180,000


def is_full(n_contracts: int) -> bool:
    return n_contracts >= FULL_SCALE_CONTRACTS


def command(db_kind: str, market: bool, soak: bool, rounds: int,
            others: tuple[str, ...] = ()) -> str:
    """The command line for the section: what changes what is measured, folders and URLs
    as placeholders (never a password)."""
    parts = ["python -m benchmarks.bench_service"]
    parts += ["--market DIR"] if market else []
    parts += ["--database postgresql"] if db_kind == "postgres" else []
    parts += ["--soak"] if soak else []
    return " ".join([*parts, f"--rounds {rounds}", *others])
