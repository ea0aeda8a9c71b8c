"""The monitoring flow (模型监控): one month of the champion credit model against its training
window, into the operational database; an ``act`` alert retrains a challenger.

Thin tasks over :mod:`models.monitoring`: the reference (fixed bins of the training window) is
fitted once per model version and kept beside it as an MLflow artifact; the month's rows are
built and scored the way batch scoring builds them; drift checks and the alert are written in
one transaction, once per month and model version, and the calibration by grade once the
month's 12-month labels are in the data. An ``act`` alert runs the training flow's function,
which registers new versions as ``challenger`` with their review reports; the version is noted
on the alert. Monitoring never moves ``champion``: a reviewer promotes.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from features.point_in_time.build import build_features
from features.point_in_time.history import History
from features.point_in_time.labels import entity_labels
from features.settings import Settings, get_settings
from models import panels
from models.loading import load_scorer
from models.monitoring.alerts import month_alert
from models.monitoring.calibration import GradeCalibration, calibration_by_grade
from models.monitoring.drift import DriftResult, Thresholds, drift
from models.monitoring.frames import window_rows, with_scores
from models.monitoring.reference import Reference, fit_reference, gain_importance, top_features
from models.registry import CHAMPION, CREDIT_MODEL, alias_version, store_for
from models.scoring import (
    EntityScorer,
    ModelRef,
    contract_inputs,
    covered_through,
    credit_rows,
    known_scores,
)
from pipelines.build_features import read_panel
from pipelines.scoring.adhoc import check_as_of
from pipelines.scoring.batch import store_task
from pipelines.training.panel import train_panel
from pipelines.training.run import TrainSummary
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import require_migrated
from service.core.db.types import utcnow
from service.core.monitoring import records
from service.core.monitoring.tables import AlertLevel, MonitorAlert

REFERENCE_ARTIFACT = "monitoring/reference.json"  # on the credit version's run
Trainer = Callable[[Settings, Path | None], list[TrainSummary]]


class MonitorError(ValueError):
    """A month that cannot be monitored (bad month, no features for the window); one line."""


@dataclass(frozen=True)
class MonthRows:
    month: str  # YYYY-MM
    as_of: pd.Timestamp  # its last day
    frame: pd.DataFrame  # every institution and broker present then, scored
    labels: np.ndarray | None  # their 12-month outcomes, once the data cover the 12 months


@dataclass(frozen=True)
class AlertView:
    """A stored alert as the console shows it."""

    id: int
    level: str
    variables: tuple[str, ...]
    message_zh: str
    message_en: str
    state: str
    challenger_version: str | None
    retrain_run_id: str | None

    @classmethod
    def of(cls, row: MonitorAlert) -> AlertView:
        return cls(row.id, row.level, tuple(row.variables), row.message_zh, row.message_en,
                   row.state, row.challenger_version, row.retrain_run_id)


@dataclass(frozen=True)
class MonitorSummary:
    month: str
    model: ModelRef
    reference: Reference
    rows: int
    results: tuple[DriftResult, ...]
    already_checked: bool  # an earlier run wrote this month's checks: nothing new written
    alert: AlertView | None  # as stored
    calibration: tuple[GradeCalibration, ...]  # empty until the month's labels are complete
    champion: str | None  # the champion after the run: the one monitored


def parse_month(text: str | None, today: date) -> tuple[str, pd.Timestamp]:
    """``YYYY-MM`` and its last day; no month: the calendar month before ``today``."""
    if text is None:
        last = pd.Timestamp(today).normalize().replace(day=1) - pd.Timedelta(days=1)
        return f"{last:%Y-%m}", last
    found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if found is None or not 1 <= int(found[2]) <= 12:
        raise MonitorError(f"--month must look like 2020-06, got {text!r}")
    first = pd.Timestamp(int(found[1]), int(found[2]), 1)
    return f"{first:%Y-%m}", first + pd.offsets.MonthEnd(0)


def _run_artifact(settings: Settings, ref: ModelRef, path: str) -> dict | None:
    client = store_for(settings).client()
    run_id = client.get_model_version(ref.name, ref.version).run_id
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return json.loads(Path(client.download_artifacts(run_id, path, tmp))
                              .read_text("utf-8"))
        except (MlflowException, OSError):
            return None


def fit_training_reference(settings: Settings, scorer: EntityScorer, window: tuple[str, str]
                           ) -> Reference:
    """The reference from the feature tables of the training window, scored by the version."""
    try:
        entities = {kind: read_panel(kind, settings, labels=False)
                    for kind, *_ in panels.ENTITY_KINDS}
    except FileNotFoundError as e:
        raise MonitorError(str(e)) from None
    known = {pd.Timestamp(d) for p in entities.values() for d in pd.to_datetime(p["as_of"])}
    dates = sorted(d for d in known if pd.Timestamp(window[0]) <= d <= pd.Timestamp(window[1]))
    if not dates:
        raise MonitorError(f"no feature tables in the training window {window[0]} … "
                           f"{window[1]}: run `techcredit features` for those month ends")
    model = scorer.credit
    rows = with_scores(model, window_rows(entities, scorer.stored, dates))
    watched = top_features(gain_importance(model), settings.monitor.top_features)
    return fit_reference(rows, watched, set(model.encoder.levels), bins=settings.monitor.bins,
                         model_name=scorer.credit_ref.name,
                         model_version=scorer.credit_ref.version, window=window)


def reference_for(settings: Settings, scorer: EntityScorer) -> Reference:
    """The version's stored reference, or one fitted now and stored with the version's run."""
    ref = scorer.credit_ref
    stored = _run_artifact(settings, ref, REFERENCE_ARTIFACT)
    if stored is not None:
        return Reference.from_dict(stored)
    data = _run_artifact(settings, ref, "data.json")
    if data is None or "train" not in data.get("windows", {}):
        raise MonitorError(f"{ref.name} v{ref.version} records no training window")
    first, last = data["windows"]["train"]
    reference = fit_training_reference(settings, scorer, (str(first), str(last)))
    client = store_for(settings).client()
    client.log_dict(client.get_model_version(ref.name, ref.version).run_id,
                    reference.as_dict(), REFERENCE_ARTIFACT)
    return reference


def month_labels(h: History, frame: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray | None:
    """Each row's 12-month outcome, or None while the data end before the 12 months do."""
    parts = [entity_labels(h, kind, as_of).assign(entity_kind=kind)
             for kind, *_ in panels.ENTITY_KINDS]
    labels = pd.concat(parts, ignore_index=True).astype({"entity_id": "str"})
    if not labels["label_complete"].all():
        return None
    keyed = frame[["entity_kind", "entity_id"]].merge(
        labels[["entity_kind", "entity_id", "y_12m"]], on=["entity_kind", "entity_id"],
        how="left", validate="one_to_one")
    return keyed["y_12m"].fillna(False).astype(int).to_numpy()


def month_rows(scorer: EntityScorer, tables: dict[str, pd.DataFrame], h: History, month: str,
               as_of: pd.Timestamp) -> MonthRows:
    """Every institution and broker present at the month's end, scored as batch scoring does
    (:func:`models.scoring.score_entities`), with their labels when known."""
    features = build_features(h, as_of, contracts_from=covered_through(scorer.stored)
                              + pd.Timedelta(days=1))
    later = contract_inputs(features["contract"], tables["contracts"])
    rows = credit_rows(features, known_scores(scorer, later, as_of), as_of)
    frame = with_scores(scorer.credit, rows)
    return MonthRows(month, as_of, frame, month_labels(h, frame, as_of))


@dataclass(frozen=True)
class Written:
    already_checked: bool
    alert: AlertView | None


def write(engine: Engine, model: ModelRef, month: str, results: list[DriftResult],
          thresholds: Thresholds, retrain: bool, calibration: list[GradeCalibration]
          ) -> Written:
    """Checks and alert once per month and version; calibration once; one transaction."""
    key = (model.name, model.version)
    with session_factory(engine).begin() as session:
        already = records.month_checked(session, month, key)
        if not already:
            records.insert_checks(session, month, key, results)
            draft = month_alert(month, f"{model.name} v{model.version}", results, thresholds,
                                retrain)
            if draft is not None:
                records.insert_alert(session, month, key, draft)
        if calibration and not records.calibration_stored(session, month, key):
            records.insert_calibration(session, month, key, calibration)
        session.flush()
        alert = records.alert_of(session, month, key)
        return Written(already, None if alert is None else AlertView.of(alert))


def retrain_for_alert(engine: Engine, settings: Settings, source: Path | None, alert_id: int,
                      trainer: Trainer = train_panel) -> AlertView:
    """Run ``trainer`` (the training flow's function: new versions become challenger with
    their review reports) and note the credit challenger on the alert. Refuses to record a
    run that moved ``champion``: promotion is a reviewer's decision, never monitoring's."""
    registry = store_for(settings)
    before = alias_version(registry, CREDIT_MODEL, CHAMPION)
    summaries = trainer(settings, source)
    credit = next((s for s in summaries if s.model_name == CREDIT_MODEL), None)
    if credit is None:
        raise MonitorError("retraining registered no credit model version")
    after = alias_version(registry, CREDIT_MODEL, CHAMPION)
    if after != before:
        raise MonitorError(f"retraining moved champion from v{before} to v{after}; "
                           "monitoring never promotes")
    with session_factory(engine).begin() as session:
        return AlertView.of(records.record_retrain(session, alert_id, credit.run_id,
                                                 credit.version, utcnow()))


@task(name="load-champion", cache_policy=NO_CACHE)
def scorer_task(settings: Settings) -> EntityScorer:
    return load_scorer(settings, CHAMPION)


@task(name="reference", cache_policy=NO_CACHE)
def reference_task(settings: Settings, scorer: EntityScorer) -> Reference:
    return reference_for(settings, scorer)


@task(name="month-rows", cache_policy=NO_CACHE)  # inputs are models and whole tables
def month_task(scorer: EntityScorer, tables: dict[str, pd.DataFrame], h: History, month: str,
               as_of: pd.Timestamp) -> MonthRows:
    return month_rows(scorer, tables, h, month, as_of)


@task(name="write-checks", cache_policy=NO_CACHE)
def write_task(engine: Engine, model: ModelRef, month: str, results: list[DriftResult],
               thresholds: Thresholds, retrain: bool, calibration: list[GradeCalibration]
               ) -> Written:
    return write(engine, model, month, results, thresholds, retrain, calibration)


@task(name="retrain", cache_policy=NO_CACHE)
def retrain_task(engine: Engine, settings: Settings, source: Path | None, alert_id: int
                 ) -> AlertView:
    return retrain_for_alert(engine, settings, source, alert_id)


def thresholds_of(settings: Settings) -> Thresholds:
    return Thresholds(**settings.drift.model_dump())


@flow(name="monitor")
def monitor_flow(month: str | None = None, retrain: bool | None = None,
                 source: Path | None = None, settings: Settings | None = None
                 ) -> MonitorSummary:
    """Monitor the champion credit model on ``month`` (YYYY-MM; default: last month): drift
    checks and alerts into the database, calibration by grade once labels exist, and for an
    ``act`` alert (unless ``retrain`` is false) a retrained challenger (模型监控)."""
    s = settings or get_settings()
    wanted = s.monitor.retrain if retrain is None else retrain
    label, as_of = parse_month(month, date.today())
    thresholds = thresholds_of(s)
    engine = make_engine(s.db_url)
    try:
        require_migrated(engine)  # refuse before the slow part
        tables, h = store_task(s, source)
        check_as_of(h, as_of)
        scorer = scorer_task(s)
        reference = reference_task(s, scorer)
        rows = month_task(scorer, tables, h, label, as_of)
        results = drift(reference, rows.frame, thresholds)
        calibration = ([] if rows.labels is None
                       else calibration_by_grade(rows.frame, rows.labels))
        written = write_task(engine, scorer.credit_ref, label, results, thresholds, wanted,
                             calibration)
        alert = written.alert
        if (alert is not None and alert.level == AlertLevel.act.value and wanted
                and alert.challenger_version is None):
            alert = retrain_task(engine, s, source, alert.id)
        return MonitorSummary(label, scorer.credit_ref, reference, len(rows.frame),
                              tuple(results), written.already_checked, alert,
                              tuple(calibration),
                              alias_version(store_for(s), CREDIT_MODEL, CHAMPION))
    finally:
        engine.dispose()


def format_summary(s: MonitorSummary) -> str:
    """The month in Chinese and English: every variable, the alert, retraining, calibration."""
    ref = s.reference
    lines = [
        f"模型监控 model monitoring {s.month}: {s.model.label()}, {s.rows} entities",
        f"参照 reference: training window {ref.window[0]} … {ref.window[1]} "
        f"({ref.rows} rows, {ref.bins} fixed bins)",
        f"  {'variable':<34}{'n':>6}{'PSI':>8}{'KS':>7}{'JS':>7}{'p':>9}  level",
    ]
    for r in s.results:
        ks = "-" if r.ks is None else f"{r.ks:.3f}"
        lines.append(f"  {r.variable:<34}{r.n:>6}{r.psi:>8.3f}{ks:>7}{r.js:>7.3f}"
                     f"{r.p_value:>9.2g}  {r.level.value}")
    if s.already_checked:
        lines.append("已检查 already checked: this month and version are in the database; "
                     "nothing new written / 未重复写入")
    if s.alert is None:
        lines.append("预警 alert: none / 无漂移预警")
    else:
        lines += [f"预警 alert [{s.alert.level}, {s.alert.state}]: {s.alert.message_zh}",
                  f"  {s.alert.message_en}"]
        if s.alert.challenger_version is not None:
            lines.append(f"重新训练 retrained: {s.model.name} v{s.alert.challenger_version} "
                         f"registered as challenger (run {s.alert.retrain_run_id}) for review")
    lines.append(f"冠军模型 champion: v{s.champion} (monitoring never promotes / 监控不晋升模型)")
    if not s.calibration:
        lines.append("标签 labels: the 12 months after this month are not all in the data yet; "
                     "calibration by grade waits / 标签未满12个月")
    for c in s.calibration:
        lines.append(f"  等级 grade {c.grade}: n {c.n}, predicted {c.predicted:.2%}, observed "
                     f"{c.observed:.2%} [{c.lower:.2%}, {c.upper:.2%}]"
                     f"{'' if c.in_line else '  偏离 out of line'}")
    return "\n".join(lines)
