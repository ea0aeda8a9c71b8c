"""Monitoring on the trained tiny market: a year of contracts shifted (amounts ×10) raises an act
alert and the same month unshifted raises none; the flow writes checks, alerts and calibration
once per month and version on both backends; an act alert's retraining registers a challenger
with its review report and leaves the champion alone.

Everything runs on a copy of the shared trained home (monitoring logs its reference with the
model's run, retraining registers versions): the shared models are never written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from features.point_in_time.build import build_features
from features.point_in_time.history import prepare
from features.settings import DatabaseSettings, Settings, get_settings
from models import panels
from models.loading import load_scorer
from models.monitoring.drift import Level, drift
from models.monitoring.reference import SCORE, Kind
from models.registry import ANOMALY_MODEL, CHALLENGER, CHAMPION, CREDIT_MODEL, alias_version
from models.registry import tracking_for as registry
from models.scoring import CreditInputs, contract_inputs, covered_through, score_entities
from pipelines.build_features import read_panel
from pipelines.cli.main import app
from pipelines.monitor import (
    monitor_flow,
    month_rows,
    parse_month,
    reference_for,
    retrain_for_alert,
    thresholds_of,
)
from pipelines.scoring.adhoc import read_store
from pipelines.training.panel import (
    credit_frame,
    log_credit_inputs,
    read_entity_truth,
    read_tables,
    train_credit,
)
from pipelines.training.run import TrainSummary
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import upgrade
from service.core.monitoring.tables import DriftCheck, GradeCalibrationRow, MonitorAlert
from tests.trained import Trained, build, copy_home, shared_folder

pytestmark = pytest.mark.e2e

# SHIFTED: its year of contract amounts ×10. Both months' institutions (about ten on the 1 %
# market) sit inside the 2015 reference unshifted; SHIFTED is a year later than MONTH because
# the market opens in 2014: in 2016 the reference year's own growth (over a 2014 with few
# contracts) is still as high as a ×10 year's, so only the amount levels would move.
MONTH, SHIFTED = "2016-06", "2017-05"
AMOUNTS = {"inst_amount_90d", "inst_amount_365d", "inst_amount_all", "inst_amount_growth_365d"}


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.fixture(scope="module")
def home(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_home(trained.settings.home_dir, tmp_path_factory.mktemp("monitor") / "home")


@pytest.fixture(scope="module")
def shifted(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The market with every contract amount of the year up to SHIFTED's end multiplied by 10."""
    out = tmp_path_factory.mktemp("shifted") / "market"
    shutil.copytree(trained.source, out)
    contracts = pd.read_parquet(out / "contracts.parquet")
    _, end = parse_month(SHIFTED, pd.Timestamp("2030-01-01").date())
    reg = pd.to_datetime(contracts["registered_date"])
    year = (reg > end - pd.DateOffset(years=1)) & (reg <= end)
    contracts.loc[year, ["amount_yuan", "tech_amount_yuan"]] *= 10
    contracts.to_parquet(out / "contracts.parquet", index=False)
    return out


def _settings(home: Path, db_url: str | None = None) -> Settings:
    return Settings(home=home, database=DatabaseSettings(url=db_url))


def test_shifted_year_acts_and_the_same_month_unshifted_does_not(
    trained: Trained, home: Path, shifted: Path
) -> None:
    """The pure core on real point-in-time features: reference, month rows, drift."""
    settings = _settings(home)
    scorer = load_scorer(settings)
    reference = reference_for(settings, scorer)
    assert reference.window == ("2015-01-31", "2015-12-31")  # the credit version's train period
    panel = pd.concat([read_panel(k, settings, labels=False) for k, *_ in panels.ENTITY_KINDS])
    assert reference.rows == int(pd.to_datetime(panel["as_of"]).dt.year.eq(2015).sum())
    names = [v.name for v in reference.variables]
    assert names[0] == SCORE and len(names) == 1 + settings.monitor.top_features
    assert reference_for(settings, scorer) == reference  # stored with the run, read back
    thresholds = thresholds_of(settings)
    levels = {}
    for label, source in (("plain", trained.source), ("shifted", shifted)):
        tables = read_store(settings, source)
        h = prepare(tables)
        _, as_of = parse_month(SHIFTED, pd.Timestamp("2030-01-01").date())
        rows = month_rows(scorer, tables, h, SHIFTED, as_of)
        results = drift(reference, rows.frame, thresholds)
        levels[label] = {r.variable: r.level for r in results}
        if label == "plain":  # the rows batch scoring scores, with its probabilities
            features_from = covered_through(scorer.stored) + pd.Timedelta(days=1)
            features = build_features(h, as_of, contracts_from=features_from)
            later = contract_inputs(features["contract"], tables["contracts"])
            batch = score_entities(scorer, features, later, as_of)
            assert [(s.kind, s.entity_id) for s in batch] == list(
                zip(rows.frame["entity_kind"], rows.frame["entity_id"], strict=True))
            assert rows.frame["probability"].tolist() == pytest.approx(
                [s.probability for s in batch], rel=1e-12)
            assert rows.labels is not None and len(rows.labels) == len(rows.frame)
    assert set(levels["plain"].values()) == {Level.ok}
    assert {v for v, level in levels["shifted"].items() if level is Level.act} == AMOUNTS


def _count(engine: Engine, model: type, *where: object) -> int:
    with session_factory(engine)() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)
                               ).scalar_one()


def test_flow_writes_checks_alerts_and_calibration_once(
    home: Path, trained: Trained, shifted: Path, db_url: str, engine: Engine
) -> None:
    settings = _settings(home, db_url)
    plain = monitor_flow(MONTH, False, trained.source, settings)
    assert plain.alert is None and not plain.already_checked and plain.champion == "1"
    assert [r.level for r in plain.results] == [Level.ok] * 11
    assert plain.results[0].kind is Kind.score and sum(c.n for c in plain.calibration) == (
        plain.rows)
    moved = monitor_flow(SHIFTED, False, shifted, settings)
    assert moved.alert is not None and moved.alert.level == "act"
    assert set(moved.alert.variables) == AMOUNTS and moved.alert.challenger_version is None
    assert "automatic retraining is off" in moved.alert.message_en
    again = monitor_flow(SHIFTED, False, shifted, settings)
    assert again.already_checked and again.alert == moved.alert
    assert _count(engine, DriftCheck) == 22 and _count(engine, MonitorAlert) == 1
    assert _count(engine, DriftCheck, DriftCheck.level == "act") == 4
    assert _count(engine, GradeCalibrationRow) == len(plain.calibration) + len(moved.calibration)
    with session_factory(engine)() as session:
        alert = session.execute(select(MonitorAlert)).scalar_one()
        assert (alert.month, alert.model_name, alert.model_version, alert.state) == (
            SHIFTED, CREDIT_MODEL, "1", "open")
        assert alert.message_zh.startswith(f"{SHIFTED} {CREDIT_MODEL} v1 分布显著漂移")


def retrain_credit(settings: Settings, source: Path | None) -> list[TrainSummary]:
    """The credit half of the training flow on the champion's anomaly version: the real fit,
    review report and registration, without the minute the anomaly model takes."""
    scorer = load_scorer(settings)
    credit = panels.with_truth_risk(
        credit_frame(settings, read_tables(settings, source), scorer.stored),
        read_entity_truth(settings, source))
    summary, fit = train_credit(settings, credit, scorer.anomaly_ref.label())
    log_credit_inputs(settings, summary, CreditInputs(
        ANOMALY_MODEL, scorer.anomaly_ref.version, fit.model.features))
    return [summary]


def test_an_act_alert_retrains_a_challenger_and_never_moves_the_champion(
    home: Path, shifted: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = _settings(home, url)
    tracking = registry(settings)
    alert = monitor_flow(SHIFTED, False, shifted, settings).alert
    assert alert is not None and alert.level == "act"
    done = retrain_for_alert(engine, settings, shifted, alert.id, trainer=retrain_credit)
    version = alias_version(tracking, CREDIT_MODEL, CHALLENGER)
    assert version is not None and int(version) > 1 and done.challenger_version == version
    assert alias_version(tracking, CREDIT_MODEL, CHAMPION) == "1"
    client = tracking.client()
    run_id = client.get_model_version(CREDIT_MODEL, version).run_id
    assert done.retrain_run_id == run_id
    assert {a.path for a in client.list_artifacts(run_id, "review")} >= {"review/review.html",
                                                                         "review/review.json"}
    with session_factory(engine)() as session:
        row = session.execute(select(MonitorAlert)).scalar_one()
        assert (row.challenger_version, row.retrain_run_id) == (version, run_id)
        assert row.retrained_at is not None
    # a re-run finds the month checked and the alert retrained: nothing is trained again
    again = monitor_flow(SHIFTED, True, shifted, settings)
    assert again.already_checked and again.alert.challenger_version == version
    assert alias_version(tracking, CREDIT_MODEL, CHALLENGER) == version and again.champion == "1"
    engine.dispose()


def test_cli_monitors_a_month_and_refuses_in_one_line(
    home: Path, trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TECHCREDIT_HOME", str(home))
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", f"sqlite:///{tmp_path / 'ops.db'}")
    get_settings.cache_clear()
    try:
        args = ["monitor", "--month", MONTH, "--source", str(trained.source)]
        for bad, message in [(["monitor", "--month", "June"], "--month must look like 2020-06"),
                             (args, "run `techcredit db upgrade`")]:
            out = CliRunner().invoke(app, bad)
            assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1, out.output
            assert message in out.output
        assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
        out = CliRunner().invoke(app, ["monitor", "--month", "2031-01", "--source",
                                       str(trained.source)])
        assert out.exit_code == 2 and "is outside the data" in out.output, out.output
        out = CliRunner().invoke(app, [*args, "--no-retrain"])
        assert out.exit_code == 0, out.output
        assert f"模型监控 model monitoring {MONTH}: {CREDIT_MODEL} v1 @champion" in out.output
        assert "预警 alert: none" in out.output and "等级 grade" in out.output
    finally:
        get_settings.cache_clear()


@pytest.mark.slow  # the full training flow (both models): its effect is covered fast above
def test_the_flow_retrains_with_the_training_flow_on_an_act_alert(
    trained: Trained, shifted: Path, tmp_path: Path
) -> None:
    home = copy_home(trained.settings.home_dir, tmp_path / "home")
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = _settings(home, url)
    summary = monitor_flow(SHIFTED, True, shifted, settings)
    tracking = registry(settings)
    assert summary.alert is not None and summary.alert.level == "act"
    assert summary.alert.challenger_version == alias_version(tracking, CREDIT_MODEL, CHALLENGER)
    assert summary.alert.challenger_version == "2" and summary.champion == "1"
    assert alias_version(tracking, ANOMALY_MODEL, CHALLENGER) == "2"
    assert alias_version(tracking, ANOMALY_MODEL, CHAMPION) == "1"
    assert "retraining started" in summary.alert.message_en
