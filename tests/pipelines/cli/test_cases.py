"""``techcredit cases sweep | export`` on both backends: a listed case is exported with the
fields other agencies need, and leaves the list when the sweep passes its maximum; ``--json``
says which cases the sweep moved and lists the entries."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from features.settings import Settings, get_settings
from pipelines.cli.main import app
from service.core.cases import records
from service.core.cases.calendar import WorkCalendar
from service.core.cases.enums import CaseSource
from service.core.cases.machine import Action
from service.core.cases.policy import CasePolicy

A, B = records.Actor("officer-a", "regulator"), records.Actor("officer-b", "regulator")


@pytest.fixture
def listed(sessions: sessionmaker[Session], db_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A general case listed on 2026-10-26 (decided 2026-09-28: published until 2027-09-28)."""
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    policy, cal = CasePolicy.from_settings(Settings()), WorkCalendar()
    with sessions() as s, s.begin():
        subject = records.Subject("institution", "I000042", "示范转移中心", "110000")
        case = records.open_case(s, subject, "inflated_amount", CaseSource.manual, A,
                               datetime(2026, 9, 28, tzinfo=UTC), "audit finding").case
        steps = [(Action.investigate, A, {}), (Action.determine, A, {
            "conduct": "inflated_amount", "severity": "general", "basis": "第二十条",
            "decision_number": "京科〔2026〕7号"}), (Action.determine, B, {}),
            (Action.notify, A, {}), (Action.list, A, {}), (Action.list, B, {})]
        for action, actor, fields in steps:
            day = date(2026, 10, 26) if action == Action.list else date(2026, 9, 28)
            records.act(s, case, action, actor, day, datetime.now(UTC),
                      records.ActionInput(reason="step", **fields), policy, cal)
        assert case.state == "listed"
        case_id = case.id
    yield case_id
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_export_then_sweep_at_the_maximum(listed: int) -> None:
    out = run("cases", "export", "--today", "2026-11-25")
    assert out.exit_code == 0, out.output
    [row] = list(csv.DictReader(io.StringIO(out.output)))
    assert (row["subject_name"], row["unified_code"], row["conduct_zh"], row["severity_zh"],
            row["decision_number"], row["decision_date"], row["published_until"]) == (
        "示范转移中心", "I000042", "虚增合同金额", "一般", "京科〔2026〕7号", "2026-09-28",
        "2027-09-28")
    as_json = json.loads(run("cases", "export", "--format", "json", "--today",
                             "2026-11-25").output)
    assert [e["status"] for e in as_json] == ["listed"]
    early = run("cases", "sweep", "--today", "2027-09-27")
    assert early.exit_code == 0 and "0 case(s)" in early.output
    swept = run("cases", "sweep", "--today", "2027-09-28")
    assert swept.exit_code == 0 and f"1 case(s) {listed}" in swept.output
    assert json.loads(run("cases", "export", "--format", "json", "--today",
                          "2027-09-28").output) == []


def test_a_bad_date_is_one_line_and_exit_2(listed: int) -> None:
    out = run("cases", "sweep", "--today", "28/09/2027")
    assert out.exit_code == 2 and "is not a date YYYY-MM-DD" in out.output


def test_sweep_and_export_as_json(listed: int) -> None:
    export = run("cases", "export", "--json", "--today", "2026-11-25")
    assert export.exit_code == 0, export.output
    [entry] = json.loads(export.stdout)
    assert (entry["unified_code"], entry["decision_date"], entry["published_until"],
            entry["status"]) == ("I000042", "2026-09-28", "2027-09-28", "listed")
    assert json.loads(run("cases", "export", "--format", "json", "--today",
                          "2026-11-25").stdout) == [entry]
    early = run("cases", "sweep", "--today", "2027-09-27", "--json")
    assert early.exit_code == 0 and json.loads(early.stdout) == {"today": "2027-09-27",
                                                                 "removed": []}
    swept = run("cases", "sweep", "--today", "2027-09-28", "--json")
    assert swept.exit_code == 0, swept.output
    body = json.loads(swept.stdout)
    assert body["today"] == "2027-09-28"
    [case] = body["removed"]
    assert case == {"case_id": listed, "subject_kind": "institution", "subject_id": "I000042",
                    "subject_name": "示范转移中心", "severity": "general",
                    "listed_on": "2026-10-26", "publication_ends": "2027-09-28",
                    "state": "removed"}
    assert json.loads(run("cases", "export", "--json", "--today", "2027-09-28").stdout) == []
