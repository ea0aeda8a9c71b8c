"""The assessment flow end to end (``techcredit assess`` and ``report``) on the shared trained
market, the draft's write rules (a re-run replaces a draft, a published year and an unknown
runner are refused), and batch scoring leaving out the institutions an assessment made exit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from features.settings import get_settings
from features.synthetic.market import generate_market
from features.synthetic.spec import MarketSpec
from models.assessment.config import load_config
from pipelines.assess import AssessError, compute, read_inputs, write
from pipelines.cli.main import app
from pipelines.scoring.batch import write_task
from service.core.assessments.tables import (
    Assessment,
    AssessmentEvent,
    AssessmentResult,
    InstitutionStatusRecord,
)
from service.core.db.engine import make_engine, session_factory
from service.core.db.tables import AuditEntry, Score
from service.core.db.users import add_user
from tests.service.web.api.conftest import AS_OF, _batch, batch_score
from tests.trained import Trained, build, shared_folder

CREDIT = "credit_points"


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.mark.e2e
def test_assess_and_report_from_the_command_line(trained: Trained, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        assert runner.invoke(app, ["users", "add", "alice", "--role", "assessor"]).exit_code == 0
        engine = make_engine(url)
        batch_score(trained, engine, AS_OF)  # credit scores dated 2020-06-30
        args = ["assess", "--year", "2020", "--by", "alice", "--source", str(trained.source)]
        out = runner.invoke(app, args)
        assert out.exit_code == 0, out.output
        with session_factory(engine)() as session:
            a = session.scalars(select(Assessment)).one()
            rows = session.scalars(select(AssessmentResult)).all()
            entry = session.scalars(select(AuditEntry).where(
                AuditEntry.action == "assessment.run")).one()
        counts = {o: sum(r.outcome == o for r in rows) for o in ("pass", "warning", "exit")}
        assert f"参评机构 assessed {len(rows)}: 合格 pass {counts['pass']}, 警告 warning " \
               f"{counts['warning']}, 退出 exit {counts['exit']}" in out.output
        assert (a.year, a.state, a.created_by, a.version) == (2020, "draft", "alice", 1)
        assert a.config_sha256 == load_config().sha256 and len(a.indicator_system) == 11
        assert entry.actor == "alice" and entry.detail["counts"] == counts
        scored = [r for r in rows if next(i for i in r.indicators if i["code"] == CREDIT)[
            "value"] is not None]
        assert scored and all(r.model_outcome == r.outcome for r in rows)
        names = [i.name_en for i in load_config().indicators]
        for r in rows:  # a warning or an exit is explained indicator by indicator
            if r.outcome != "pass":
                assert any(line.startswith(n) for n in names for line in r.reasons_en), r
        out = runner.invoke(app, [*args[:3], "--by", "nobody", *args[5:]])
        assert out.exit_code == 2 and "'nobody' is not an active assessor" in out.output
        report_dir = tmp_path / "reports"
        out = runner.invoke(app, ["report", "--year", "2020", "--no-pdf", "--lang", "en",
                                  "--out", str(report_dir)])
        assert out.exit_code == 0, out.output
        assert (report_dir / "year-2020.en.html").exists()
        assert len(list(report_dir.glob("*.en.html"))) == len(rows) + 1
        out = runner.invoke(app, ["report", "--year", "2011", "--no-pdf"])
        assert out.exit_code == 2 and "no assessment of 2011" in out.output
        engine.dispose()
    finally:
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate_market(MarketSpec(first_year=2016, last_year=2020, scale=0.01, seed=3)).tables


def test_a_rerun_replaces_the_draft_and_a_published_year_is_refused(
        engine: Engine, tables: dict[str, pd.DataFrame]) -> None:
    config = load_config()
    with session_factory(engine).begin() as session:
        add_user(session, "alice", "assessor")
        add_user(session, "viewer", "regulator")

    def run(by: str = "alice", quota: int = 0) -> object:
        inputs = read_inputs(engine, tables, 2019, date(2026, 1, 1))
        return write(engine, config, compute(config, tables, inputs, 2019, quota), inputs, by)

    first = run()
    assert (first.version, first.replaced, first.quota) == (1, False, 0)
    second = run(quota=2)
    assert (second.version, second.replaced, second.quota) == (2, True, 2)
    with session_factory(engine)() as session:
        assert session.scalar(select(Assessment.version)) == 2
        ids = session.scalars(select(AssessmentResult.institution_id)).all()
        assert len(ids) == len(set(ids)) == second.assessed  # the old results are gone
        runs = session.scalars(select(AssessmentEvent.reason).where(
            AssessmentEvent.kind == "run")).all()
        assert runs == [None, "replaced the draft / 重新生成草稿"]
    with pytest.raises(AssessError, match="'viewer' is not an active assessor"):
        run("viewer")
    with session_factory(engine).begin() as session:
        session.execute(update(Assessment).values(state="published"))
    with pytest.raises(AssessError, match="the assessment of 2019 is published: it changes "
                                          "only through appeals"):
        run()
    with pytest.raises(AssessError, match="--year 2031 is outside the data"):
        compute(config, tables, read_inputs(engine, tables, 2031, date(2026, 1, 1)), 2031, 0)


def test_batch_scoring_leaves_out_institutions_an_assessment_made_exit(
        trained: Trained, engine: Engine) -> None:
    models, scored, rules = _batch(trained.settings.home, trained.source, AS_OF)
    gone = next(s.entity_id for s in scored.scores if s.kind == "institution")
    with session_factory(engine).begin() as session:
        a = Assessment(year=2019, state="published", config_version=1, config_sha256="0" * 64,
                       quota=0, indicator_system=[], created_by="alice", updated_by="bob",
                       published_by="bob")
        session.add(a)
        session.flush()
        for status in ("warned", "exited"):  # the latest decision counts
            session.add(InstitutionStatusRecord(institution_id=gone, status=status, year=2019,
                                                assessment_id=a.id, basis="test",
                                                decided_by="bob"))
    summary = write_task.fn(engine, models, scored, rules)
    assert summary.scored == len(scored.scores) - 1 and summary.skipped == 0
    with session_factory(engine)() as session:
        ids = set(session.scalars(select(Score.entity_id)))
    assert gone not in ids and len(ids) == summary.scored
