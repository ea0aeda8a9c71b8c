"""The monitoring records on both backends: a month's checks and alert keyed by month and model
version (a second alert of the same key is refused by the database), calibration stored once,
an acknowledgement that is the record once made, and the order people read alerts in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.monitoring.alerts import AlertDraft
from models.monitoring.calibration import GradeCalibration
from models.monitoring.drift import DriftResult, Level
from models.monitoring.reference import Kind
from service.core.monitoring import records
from service.core.monitoring.records import AlertAlreadyAcknowledged, AlertMissing
from service.core.monitoring.tables import GradeCalibrationRow, MonitorAlert

V1, V2 = ("techcredit-credit", "1"), ("techcredit-credit", "2")
AT = datetime(2021, 2, 3, 4, 5, tzinfo=UTC)
CHECKS = [DriftResult("score", Kind.score, 120, 0.04, 0.08, 0.05, 0.3, Level.ok),
          DriftResult("inst_amount_365d", Kind.numeric, 120, 0.31, 0.2, 0.18, 0.001, Level.act),
          DriftResult("institution_type", Kind.categorical, 120, 0.12, None, 0.1, 0.004,
                      Level.watch)]


def _draft(month: str, level: Level = Level.act) -> AlertDraft:
    return AlertDraft(month, level, ("inst_amount_365d", "institution_type"), f"{month} 漂移",
                      f"{month} drift")


def _alert(sessions: sessionmaker[Session], month: str, model: tuple[str, str] = V1) -> int:
    with sessions.begin() as session:
        records.insert_alert(session, month, model, _draft(month))
        session.flush()
        alert = records.alert_of(session, month, model)
        assert alert is not None
        return alert.id


def test_a_month_is_checked_once_per_model_version_with_its_alert(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert not records.month_checked(session, "2021-01", V1)
        records.insert_checks(session, "2021-01", V1, CHECKS)
        records.insert_alert(session, "2021-01", V1, _draft("2021-01"))
    with sessions() as session:
        assert records.month_checked(session, "2021-01", V1)
        assert not records.month_checked(session, "2021-01", V2)
        assert not records.month_checked(session, "2021-02", V1)
        alert = records.alert_of(session, "2021-01", V1)
        assert alert is not None
        assert (alert.level, alert.variables, alert.message_en, alert.state,
                alert.acknowledged_by, alert.challenger_version) == (
            "act", ["inst_amount_365d", "institution_type"], "2021-01 drift", "open", None, None)
        assert records.alert_of(session, "2021-01", V2) is None
        worst_first = records.month_checks(session, alert)
    assert [(c.variable, c.kind, c.psi, c.ks, c.level) for c in worst_first] == [
        ("inst_amount_365d", "numeric", 0.31, 0.2, "act"),
        ("institution_type", "categorical", 0.12, None, "watch"),
        ("score", "score", 0.04, 0.08, "ok")]
    with pytest.raises(IntegrityError), sessions.begin() as session:
        records.insert_alert(session, "2021-01", V1, _draft("2021-01", Level.watch))
    _alert(sessions, "2021-01", V2)  # the next model version is checked on its own


def test_calibration_is_stored_apart_and_an_empty_month_stores_nothing(
        sessions: sessionmaker[Session]) -> None:
    rows = [GradeCalibration("A", 40, 1, 0.02, 0.025, 0.001, 0.13),
            GradeCalibration("D", 10, 6, 0.2, 0.6, 0.26, 0.88)]
    with sessions.begin() as session:
        records.insert_calibration(session, "2020-01", V1, [])
        assert not records.calibration_stored(session, "2020-01", V1)
        records.insert_calibration(session, "2020-01", V1, rows)
    with sessions() as session:
        assert records.calibration_stored(session, "2020-01", V1)
        assert not records.calibration_stored(session, "2020-01", V2)
        stored = session.scalars(select(GradeCalibrationRow).order_by(
            GradeCalibrationRow.grade)).all()
    assert [(r.month, r.model_version, r.grade, r.n, r.bads, r.predicted, r.observed, r.lower,
             r.upper, r.in_line) for r in stored] == [
        ("2020-01", "1", "A", 40, 1, 0.02, 0.025, 0.001, 0.13, True),
        ("2020-01", "1", "D", 10, 6, 0.2, 0.6, 0.26, 0.88, False)]


def test_an_alert_is_acknowledged_once_and_the_first_note_is_kept(
        sessions: sessionmaker[Session]) -> None:
    alert_id = _alert(sessions, "2021-01")
    with sessions.begin() as session:
        done = records.acknowledge(session, alert_id, "reviewer", "retrain next month", AT)
    assert (done.state, done.acknowledged_by, done.acknowledged_at, done.acknowledgement) == (
        "acknowledged", "reviewer", AT, "retrain next month")
    with pytest.raises(AlertAlreadyAcknowledged, match=f"alert {alert_id} was acknowledged by "
                                                       "reviewer"), sessions.begin() as session:
        records.acknowledge(session, alert_id, "admin", "another note", AT)
    with pytest.raises(AlertMissing, match="no drift alert 987654"), sessions.begin() as session:
        records.acknowledge(session, 987654, "admin", "note", AT)
    with sessions() as session:
        kept = session.get_one(MonitorAlert, alert_id)
    assert (kept.acknowledged_by, kept.acknowledgement) == ("reviewer", "retrain next month")


def test_recent_alerts_put_the_open_ones_first_newest_first(
        sessions: sessionmaker[Session]) -> None:
    ids = {month: _alert(sessions, month) for month in ("2020-10", "2020-11", "2020-12",
                                                         "2021-01")}
    with sessions.begin() as session:
        for month in ("2020-11", "2021-01"):
            records.acknowledge(session, ids[month], "reviewer", "read", AT)
    with sessions() as session:
        assert [a.month for a in records.recent_alerts(session)] == [
            "2020-12", "2020-10", "2021-01", "2020-11"]
        assert [a.month for a in records.recent_alerts(session, limit=3)] == [
            "2020-12", "2020-10", "2021-01"]


def test_a_retraining_is_noted_on_its_alert(sessions: sessionmaker[Session]) -> None:
    alert_id = _alert(sessions, "2021-01")
    with sessions.begin() as session:
        records.record_retrain(session, alert_id, "run-abc", "2", AT)
    with sessions() as session:
        alert = session.get_one(MonitorAlert, alert_id)
    assert (alert.retrain_run_id, alert.challenger_version, alert.retrained_at, alert.state) == (
        "run-abc", "2", AT, "open")
