"""``techcredit db | users | audit`` on both backends: the happy path, and every refusal in one
line with exit code 2 (never a traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner, Result

from features.settings import get_settings
from pipelines.cli.main import app
from service.core.cases import records
from service.core.cases.enums import CaseSource
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import head_revision
from tests.service.backends import BACKENDS, empty_database, fresh_postgres_database, tamper


@pytest.fixture(scope="module")
def postgres_module_db() -> Iterator[str]:
    with fresh_postgres_database("cli_db") as url:
        yield url


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """The tests switch ``TECHCREDIT_DATABASE_URL``; settings are read again after each."""
    yield
    get_settings.cache_clear()


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> str:
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database on each backend, made the settings' database."""
    module_db = (request.getfixturevalue("postgres_module_db")
                 if request.param == "postgresql" else None)
    return use_database(monkeypatch, empty_database(request.param, tmp_path, module_db))


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def refused_in_one_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, no traceback
    assert len(result.output.strip().splitlines()) == 1, result.output
    return result.output.strip()


def test_upgrade_users_and_audit_from_an_empty_database(db_url: str, tmp_path: Path) -> None:
    empty = run("db", "current")
    assert empty.exit_code == 0 and "is at revision none (empty)" in empty.output
    unmigrated = refused_in_one_line(run("users", "list"))
    assert unmigrated.endswith(f"the code needs {head_revision()}: run `techcredit db upgrade`")

    assert run("db", "upgrade").exit_code == 0
    assert f"revision {head_revision()}, up to date" in run("db", "current").output
    added = run("users", "add", "王监管", "--role", "regulator", "--regions", "110000,310000",
                "--expires-days", "30")
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert token.startswith("tc_")
    pd.DataFrame({"institution_id": ["I1"]}).to_parquet(tmp_path / "institutions.parquet")
    unknown = refused_in_one_line(run("users", "add", "inst", "--role", "institution",
                                      "--institution", "I999999", "--source", str(tmp_path)))
    assert unknown == "unknown institution 'I999999': not in the register's institutions"
    institution = run("users", "add", "inst", "--role", "institution", "--institution", "I1",
                      "--source", str(tmp_path))
    assert institution.exit_code == 0, institution.output
    assert run("users", "revoke", "inst").exit_code == 0
    listed = run("users", "list").output.splitlines()
    assert listed[0].split()[:3] == ["inst", "institution", "I1"] and "revoked" in listed[0]
    assert listed[1].split()[:3] == ["王监管", "regulator", "110000,310000"]
    assert listed[1].endswith("active")

    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("OK: 3 entries, head 3:")
    head = verified.output.splitlines()[0].rpartition(" ")[2]
    assert run("audit", "verify", "--expect-head", head).exit_code == 0
    assert run("audit", "verify", "--expect-head", "4:" + "0" * 64).exit_code == 1
    assert run("audit", "verify", "--expect-head", "three").exit_code == 2
    engine = create_engine(db_url)
    tamper(engine, "UPDATE audit_log SET entity_id = 'someone' WHERE id = 2")
    engine.dispose()
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert broken.output.strip() == ("BROKEN at entry 2 (edited): entry 2 was edited: its hash "
                                     "does not match it; 1 entries sound before it")


def test_an_office_user_is_bound_to_its_offices(db_url: str) -> None:
    assert run("db", "upgrade").exit_code == 0
    assert run("users", "add", "登记处", "--role", "office").exit_code == 0
    assert run("users", "add", "王监管", "--role", "regulator").exit_code == 0
    bound = run("users", "offices", "登记处", "--offices", "OF11000001,OF11000002")
    assert bound.exit_code == 0 and "registers for OF11000001, OF11000002" in bound.output
    [office] = [line.split()[:3] for line in run("users", "list").output.splitlines()
                if line.startswith("登记处")]
    assert office == ["登记处", "office", "OF11000001,OF11000002"]
    assert refused_in_one_line(run("users", "offices", "王监管", "--offices", "OF11000001")
                               ) == "offices bind office users only, not role 'regulator'"


@pytest.mark.parametrize(("args", "message"), [
    (["users", "add", "x", "--role", "wizard"], "unknown role 'wizard': one of regulator, "
                                               "office, institution, reviewer, auditor, "
                                               "assessor, admin"),
    (["users", "add", "x", "--role", "office", "--regions", "110000"],
     "regions limit regulators only, not role 'office'"),
    (["users", "revoke", "nobody"], "no user 'nobody'"),
])
def test_bad_input_is_refused_in_one_line(db_url: str, args: list[str], message: str) -> None:
    assert run("db", "upgrade").exit_code == 0
    assert refused_in_one_line(run(*args)) == message


@pytest.mark.parametrize(("url", "start"), [
    ("postgresql://postgres@127.0.0.1:1/nowhere",
     "cannot use database postgresql+psycopg://postgres@127.0.0.1:1/nowhere: "),
    ("nosuchdb://x", "bad database URL 'nosuchdb://x': "),
])
def test_an_unusable_database_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, url: str, start: str
) -> None:
    use_database(monkeypatch, url)
    for command in (["db", "upgrade"], ["db", "current"], ["audit", "verify"], ["users", "list"]):
        assert refused_in_one_line(run(*command)).startswith(start)


def test_verify_in_a_process_of_its_own_checks_every_domain_table(db_url: str,
                                                                   tmp_path: Path) -> None:
    """The command runs in a fresh interpreter, where no domain module has been imported: a
    case written by the application must read as sound, not as deleted."""
    assert run("db", "upgrade").exit_code == 0
    engine = make_engine(db_url)
    with session_factory(engine).begin() as session:
        records.open_case(session, records.Subject("institution", "I000001", "某机构", "110000"),
                          "inflated_amount", CaseSource.manual,
                          records.Actor("王监管", "regulator"), datetime.now(UTC), "audit finding")
    engine.dispose()
    command = [str(Path(sys.executable).with_name("techcredit")), "audit", "verify"]
    env = {**os.environ, "TECHCREDIT_HOME": str(tmp_path / "home")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "protected rows match" in done.stdout and "cases" not in done.stderr
