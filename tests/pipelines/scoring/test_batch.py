"""The batch scoring flow end to end on a trained tiny market, on SQLite and PostgreSQL: what it
writes equals single-entity scoring, a re-run writes nothing, a later date adds history,
warnings and contract checks are the ones the rules and the last run call for, and once entity
rules are approved the run warns by them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from features.point_in_time.build import build_features
from features.point_in_time.history import prepare
from features.settings import DatabaseSettings, Settings, get_settings
from models.loading import load_scorer
from models.registry import tracking_for
from models.rules.entity import parse_entity_rules
from models.rules.kinds import ENTITY
from models.rules.reviews import record_try, review
from models.scoring import (
    EntityScore,
    contract_inputs,
    covered_through,
    score_entities,
    score_entity,
)
from pipelines.cli.main import app
from pipelines.scoring.adhoc import read_store, score_entity_at
from pipelines.scoring.batch import format_summary, score_batch_flow
from pipelines.scoring.side_effects import SideEffects
from service.core.cases.tables import Case
from service.core.db.audit import verify
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import upgrade
from service.core.db.row_audit import verify_rows
from service.core.db.tables import AuditEntry, ContractCheck, RiskWarning, Score
from tests.trained import Trained, build, copy_home, shared_folder

pytestmark = pytest.mark.e2e

FIRST, LATER = "2020-06-30", "2020-09-30"
# the shipped rules that can fire without an earlier score: on grade, probability, contracts
FIRST_SCORE_RULES = ("grade_d_high_probability", "anomaly_share_high", "anomaly_share_elevated")


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


def _contracts(trained: Trained) -> pd.DataFrame:
    return pd.read_parquet(trained.source / "contracts.parquet")


@pytest.fixture(scope="module")
def expected(trained: Trained) -> EntityScore:
    """The busiest institution of the first half of 2020, scored alone at FIRST."""
    c = _contracts(trained)
    recent = c[pd.to_datetime(c["registered_date"]).between("2020-01-01", FIRST)]
    entity = str(recent["institution_id"].value_counts().index[0])
    return score_entity_at(trained.settings, entity, FIRST, trained.source)


def _count(session: Session, model: type, *where: object) -> int:
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _registered(trained: Trained, after: str, through: str) -> set[str]:
    c = _contracts(trained)
    reg = pd.to_datetime(c["registered_date"])
    return set(c.loc[(reg > after) & (reg <= through), "contract_id"].astype(str))


def test_scoring_everyone_at_once_equals_scoring_each_alone(trained: Trained) -> None:
    scorer = load_scorer(trained.settings)
    tables = read_store(trained.settings, trained.source)
    h, ts = prepare(tables), pd.Timestamp(FIRST)
    features = build_features(h, ts, contracts_from=covered_through(scorer.stored)
                               + pd.Timedelta(days=1))
    later = contract_inputs(features["contract"], tables["contracts"])
    everyone = score_entities(scorer, features, later, ts)
    assert [(s.kind, s.entity_id) for s in everyone] == [
        (kind, str(i)) for kind in ("institution", "broker") for i in features[kind]["entity_id"]]
    inst = tables["institutions"]
    exited = inst.loc[(inst["status"] == "exited") & (pd.to_datetime(inst["status_date"]) <= ts),
                      "institution_id"]
    assert len(exited) and not set(exited) & {s.entity_id for s in everyone}  # not active
    for kind in ("institution", "broker"):
        for s in [s for s in everyone if s.kind == kind][::9]:
            assert s == score_entity(scorer, features, later, s.entity_id, ts)


def test_batch_writes_scores_warnings_and_new_contracts_once(
    trained: Trained, expected: EntityScore, db_url: str, engine: Engine
) -> None:
    settings = Settings(home=trained.settings.home, database=DatabaseSettings(url=db_url))
    sessions = session_factory(engine)
    with sessions.begin() as session:  # the constructed case: grade A at an earlier date
        session.add(Score(
            entity_kind="institution", entity_id=expected.entity_id, as_of=date(2020, 3, 31),
            model_name="earlier", model_version="0", probability=0.01, points=620.0, grade="A",
            reasons_zh=[], reasons_en=[], feature_as_of=date(2020, 3, 31)))

    first = score_batch_flow(FIRST, trained.source, settings)
    assert first.scored > 100 and first.skipped == 0 and not first.already_scored
    assert sum(first.grades.values()) == first.scored
    assert first.first_day == date(2019, 7, 2)  # no earlier batch: the 365-day window
    with sessions() as session:
        row = session.execute(select(Score).where(
            Score.entity_id == expected.entity_id, Score.model_name == "techcredit-credit")
        ).scalar_one()
        assert row.probability == pytest.approx(expected.probability, rel=1e-12)
        assert (row.points, row.grade) == (pytest.approx(expected.points), expected.grade)
        assert row.reasons_zh == [r.text_zh for r in expected.reasons]
        assert (row.as_of, row.feature_as_of) == (date(2020, 6, 30), date(2020, 6, 30))
        assert (row.model_version, row.alias) == ("1", "champion")
        institutions = pd.read_parquet(trained.source / "institutions.parquet")
        assert row.region == institutions.set_index("institution_id").at[
            expected.entity_id, "region"]
        assert _count(session, Score, Score.as_of == date(2020, 6, 30)) == first.scored
        # A at the earlier date, C now: two steps down is orange; a first score alone warns
        # no one (only its grade, probability and contracts can)
        warned = session.execute(select(RiskWarning).where(
            RiskWarning.entity_id == expected.entity_id)).scalar_one()
        assert expected.grade == "C" and warned.tier == "orange"
        assert warned.reason_codes == ["grade_drop_two"]
        assert warned.reasons_en == ["grade fell 2 steps, from A to C"]
        assert warned.region == row.region and warned.state == "open"
        others = session.execute(select(RiskWarning.tier, RiskWarning.reason_codes).where(
            RiskWarning.entity_id != expected.entity_id)).all()
        assert {c for _, codes in others for c in codes} <= set(FIRST_SCORE_RULES)
        assert first.warnings["orange"] >= 1 and first.warnings["blue"] == 0
        assert sum(first.warnings.values()) == 1 + len(others)
        checked = set(session.execute(select(ContractCheck.contract_id).where(
            ContractCheck.source == "batch")).scalars())
        assert checked == _registered(trained, "2019-07-01", FIRST)
        assert first.contracts == len(checked)

    again = score_batch_flow(FIRST, trained.source, settings)
    assert again.already_scored and again.skipped == first.scored and again.contracts == 0
    later = score_batch_flow(LATER, trained.source, settings)
    assert later.scored >= first.scored and later.contracts > 0
    with sessions() as session:
        assert _count(session, Score) == 1 + first.scored + later.scored  # history kept
        history = session.execute(select(Score.as_of, Score.grade).where(
            Score.entity_id == expected.entity_id).order_by(Score.as_of)).all()
        assert [d for d, _ in history] == [date(2020, 3, 31), date(2020, 6, 30),
                                           date(2020, 9, 30)]
        assert _count(session, RiskWarning, RiskWarning.as_of == date(2020, 9, 30)) == sum(
            later.warnings.values())
        checked = list(session.execute(select(ContractCheck.contract_id).where(
            ContractCheck.source == "batch")).scalars())
        assert len(checked) == len(set(checked))  # no contract checked twice
        assert set(checked) == _registered(trained, "2019-07-01", LATER)
        audits = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        assert [(a.actor, a.action) for a in audits] == [("batch", "score.batch")] * 3
        assert audits[1].detail["scored"] == 0 and audits[0].detail["credit_model"] == [
            "techcredit-credit", "1"]
        assert verify(session).ok
        rows = verify_rows(session.connection())  # the bulk inserts' row hashes, every one
        assert rows.ok and rows.rows > 0, rows.reason
    _backfills(settings, trained, sessions)


def _backfills(settings: Settings, trained: Trained, sessions: sessionmaker[Session]) -> None:
    """After LATER, an earlier date is a backfill: scores only, unless warnings and cases are
    asked for."""
    with sessions() as session:
        before = {m: _count(session, m) for m in (RiskWarning, ContractCheck, Case)}
    quiet = score_batch_flow("2020-04-30", trained.source, settings)
    assert quiet.effects == SideEffects(True, False, False) and quiet.scored > 100
    assert (quiet.contracts, quiet.cases_opened) == (0, 0)
    assert "仅写入评分 scores only" in format_summary(quiet)
    with sessions() as session:
        assert {m: _count(session, m) for m in before} == before
        assert _count(session, Score, Score.as_of == date(2020, 4, 30)) == quiet.scored
        audit = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars(
        ).first()
        assert audit is not None and audit.detail["backfill"] is True
        assert (audit.detail["raised_warnings"], audit.detail["opens_cases"]) == (False, False)
    asked = score_batch_flow("2020-05-31", trained.source, settings, warnings=True, cases=True)
    assert asked.effects == SideEffects(True, True, True)
    with sessions() as session:
        assert _count(session, RiskWarning, RiskWarning.as_of == date(2020, 5, 31)) == sum(
            asked.warnings.values())


def test_cli_runs_the_batch_and_refuses_an_unmigrated_database(
    trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("TECHCREDIT_HOME", str(trained.settings.home))
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        args = ["score", "--as-of", FIRST, "--source", str(trained.source)]
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1, out.output
        assert "run `techcredit db upgrade`" in out.output
        assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
        for bad, message in [(["--as-of", "June"], "--as-of must look like"),
                             (["--as-of", "2031-01-31"], "is outside the data"),
                             (["--as-of", FIRST, "--version", "1"], "not --version"),
                             (["--as-of", FIRST, "--cases", "--no-warnings"],
                              "--cases needs --warnings"),
                             (["--entity", "I000001", "--as-of", FIRST, "--backfill"],
                              "are for batch scoring")]:
            out = CliRunner().invoke(app, ["score", *bad, "--source", str(trained.source)])
            assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1, out.output
            assert message in out.output, out.output
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 0, out.output
        assert "批量评分 batch scoring as of 评价日 2020-06-30" in out.output
        assert "techcredit-credit v1 @champion" in out.output and "预警 warnings:" in out.output
    finally:
        get_settings.cache_clear()


EVERYONE = """
version = 9
[anomaly]
threshold = 0.2
window_days = 365
[[rule]]
code = "scored"
tier = "yellow"
when = "grade >= A"
zh = "已评分（{grade}级）"
en = "scored (grade {grade})"
"""


def test_the_batch_warns_by_the_approved_entity_rules(trained: Trained, tmp_path: Path) -> None:
    """The shipped file warns few; an approved rule set that warns every scored entity is
    what the run reads, not the file on disk (the same store, tried and approved first)."""
    home = copy_home(trained.settings.home_dir, tmp_path / "home")
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(home=home, database={"url": url})
    approved = parse_entity_rules(EVERYONE.encode(), "everyone.toml")
    tracking = tracking_for(settings)
    record_try(tracking, ENTITY, approved, {}, {}, {"hits": "all"})
    review(tracking, ENTITY, approved, reviewer="王审", note="warn everyone", approve=True)

    summary = score_batch_flow(FIRST, trained.source, settings)
    assert summary.rules_version == 9
    assert summary.warnings == {"red": 0, "orange": 0, "yellow": summary.scored, "blue": 0}
    with session_factory(engine)() as session:
        warned = session.execute(select(RiskWarning.tier, RiskWarning.reason_codes)).all()
        assert {(t, tuple(c)) for t, c in warned} == {("yellow", ("scored",))}
        assert len(warned) == summary.scored
        (audit,) = session.execute(select(AuditEntry)).scalars().all()
        assert audit.detail["warning_rules"] == [9, approved.sha256]
    engine.dispose()
