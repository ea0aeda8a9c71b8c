"""The service benchmark's configuration: ``--database`` values, the home per database kind,
the section and the command line each configuration writes (nothing is started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import service_config as config
from benchmarks.bench_service import arguments


def test_sqlite_is_the_default_and_postgresql_alone_is_the_local_server_of_the_tests() -> None:
    assert config.server_url(None) is None
    assert config.server_url("sqlite") is None
    assert config.server_url("postgresql") == config.LOCAL_POSTGRES
    assert config.server_url("Postgres") == config.LOCAL_POSTGRES
    assert config.kind(None) == "sqlite"
    assert config.kind(config.LOCAL_POSTGRES) == "postgres"


def test_a_server_url_gets_the_installed_driver_and_keeps_its_password() -> None:
    url = config.server_url("postgresql://bench:s3cret@127.0.0.1:5432/postgres")
    assert url == "postgresql+psycopg://bench:s3cret@127.0.0.1:5432/postgres"
    assert config.kind(url) == "postgres"
    assert "s3cret" not in config.shown(url)


@pytest.mark.parametrize("value", ["sqlite:////tmp/x.db", "mysql://u@h/db"])
def test_other_databases_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="--database"):
        config.server_url(value)


def test_each_run_gets_a_database_of_its_own_on_the_same_server() -> None:
    a, b = config.fresh_name(), config.fresh_name()
    assert a != b and a == a.lower() and a.startswith("tc_bench_service_")
    server = "postgresql+psycopg://postgres:pw@127.0.0.1:5432/postgres"
    assert config.on_database(server, "tc_x") == "postgresql+psycopg://postgres:pw@127.0.0.1:5432/tc_x"


def test_the_server_is_named_without_its_database_or_user() -> None:
    assert config.server_words("127.0.0.1", 5432, "15.20") == (
        "PostgreSQL 15.20 on 127.0.0.1:5432, a database of its own for this run")
    assert config.server_words(None, None, "16.1").startswith("PostgreSQL 16.1 on localhost:5432")


def test_the_homes_of_sqlite_and_postgresql_are_apart_and_share_the_home_market() -> None:
    work = Path("/w")
    sqlite, postgres = config.layout(work, "sqlite"), config.layout(work, "postgres")
    # SQLite keeps the layout of before, so existing --workdir homes are reused
    assert (sqlite.home, sqlite.marker) == (work / "home", work / "home.ok")
    assert sqlite.database_cached and not postgres.database_cached
    assert postgres.home != sqlite.home and postgres.marker != sqlite.marker
    assert postgres.market == sqlite.market == work / "market"


@pytest.mark.parametrize(("kind", "market", "full", "name"), [
    ("sqlite", None, False, "service"),
    ("postgres", None, False, "service-postgres"),
    ("sqlite", Path("/m"), True, "service-full"),
    ("postgres", Path("/m"), True, "service-full-postgres"),
    ("sqlite", Path("/m"), False, "service-market"),
])
def test_each_configuration_writes_its_own_section(kind: str, market: Path | None, full: bool,
                                                   name: str) -> None:
    assert config.section(kind, market, full) == name


def test_full_scale_is_a_market_of_millions_of_contracts() -> None:
    assert config.is_full(3_571_254) and not config.is_full(36_000)


def test_the_command_names_the_configuration_without_paths_or_passwords() -> None:
    base = "python -m benchmarks.bench_service"
    assert config.command("sqlite", False, False, 2) == f"{base} --rounds 2"
    assert config.command("postgres", True, True, 1) == (
        f"{base} --market DIR --database postgresql --soak --rounds 1")


def test_the_arguments_key_the_run_on_database_and_market(tmp_path: Path) -> None:
    args = arguments([])
    assert (args.server, args.db_kind, args.start_timeout) == (None, "sqlite", 300.0)
    (tmp_path / "contracts.parquet").write_bytes(b"")
    args = arguments(["--database", "postgresql", "--market", str(tmp_path)])
    assert (args.db_kind, args.start_timeout) == ("postgres", 3600.0)  # the state is built
    with pytest.raises(SystemExit):
        arguments(["--market", str(tmp_path / "nowhere")])
    with pytest.raises(SystemExit):
        arguments(["--database", "sqlite:////tmp/x.db"])
