"""Reads and inserts of the monitoring tables, inside the caller's transaction.

The month's drift checks and its alert are written together, once per month and model
version: a re-run finds the checks and adds nothing. Calibration by grade is written apart,
once, by the first run after the month's labels are complete, which may be a year later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, insert, select
from sqlalchemy.orm import Session

from models.monitoring.alerts import AlertDraft
from models.monitoring.calibration import GradeCalibration
from models.monitoring.drift import DriftResult
from service.core.monitoring.tables import AlertState, DriftCheck, GradeCalibrationRow, MonitorAlert
from service.core.paging import Key, Keyset, Page, PageRequest, fetch

Model = tuple[str, str]  # (registered name, version)


def _key(table: type, month: str, model: Model) -> tuple:
    return table.month == month, table.model_name == model[0], table.model_version == model[1]


def month_checked(session: Session, month: str, model: Model) -> bool:
    """Whether this month was already checked against this model version."""
    found = session.execute(select(DriftCheck.id).where(*_key(DriftCheck, month, model))
                            .limit(1)).first()
    return found is not None


def insert_checks(session: Session, month: str, model: Model, results: list[DriftResult]
                  ) -> None:
    session.execute(insert(DriftCheck), [{
        "month": month, "model_name": model[0], "model_version": model[1],
        "variable": r.variable, "kind": r.kind.value, "n": r.n, "psi": r.psi, "ks": r.ks,
        "js": r.js, "p_value": r.p_value, "level": r.level.value} for r in results])


def insert_alert(session: Session, month: str, model: Model, draft: AlertDraft) -> None:
    session.add(MonitorAlert(
        month=month, model_name=model[0], model_version=model[1], level=draft.level.value,
        variables=list(draft.variables), message_zh=draft.message_zh,
        message_en=draft.message_en))


def alert_of(session: Session, month: str, model: Model) -> MonitorAlert | None:
    return session.execute(select(MonitorAlert).where(*_key(MonitorAlert, month, model))
                           ).scalar_one_or_none()


def record_retrain(session: Session, alert_id: int, run_id: str, version: str, at: datetime
                   ) -> MonitorAlert:
    """Note on the alert the training run it started and the challenger version it made."""
    alert = session.get_one(MonitorAlert, alert_id)
    alert.retrain_run_id, alert.challenger_version, alert.retrained_at = run_id, version, at
    return alert


def calibration_stored(session: Session, month: str, model: Model) -> bool:
    found = session.execute(select(GradeCalibrationRow.id)
                            .where(*_key(GradeCalibrationRow, month, model)).limit(1)).first()
    return found is not None


def insert_calibration(session: Session, month: str, model: Model,
                       rows: list[GradeCalibration]) -> None:
    if rows:
        session.execute(insert(GradeCalibrationRow), [{
            "month": month, "model_name": model[0], "model_version": model[1],
            "grade": r.grade, "n": r.n, "bads": r.bads, "predicted": r.predicted,
            "observed": r.observed, "lower": r.lower, "upper": r.upper,
            "in_line": r.in_line} for r in rows])


class AlertMissing(LookupError):
    pass


class AlertAlreadyAcknowledged(RuntimeError):
    pass


def acknowledge(session: Session, alert_id: int, who: str, note: str, at: datetime
                ) -> MonitorAlert:
    """Close an open alert with the name of who read it and what they will do. Once only: the
    first acknowledgement is the record, a second is refused rather than overwriting it."""
    alert = session.get(MonitorAlert, alert_id, with_for_update=True)
    if alert is None:
        raise AlertMissing(f"no drift alert {alert_id} / 无此漂移预警")
    if alert.state == AlertState.acknowledged.value:
        raise AlertAlreadyAcknowledged(
            f"alert {alert_id} was acknowledged by {alert.acknowledged_by} / 该预警已确认")
    alert.state, alert.acknowledged_by = AlertState.acknowledged.value, who
    alert.acknowledged_at, alert.acknowledgement = at, note
    return alert


# open ones first (what still needs a person), then the newest
OPEN_FIRST = Keyset("monitor-alerts", (
    Key(case((MonitorAlert.state == AlertState.open.value, 1), else_=0), int, descending=True),
    Key(MonitorAlert.id, int, descending=True)))


def alerts(session: Session, ask: PageRequest) -> Page[MonitorAlert]:
    """The alerts, open ones first, then the newest; counted (one a month and model)."""
    return fetch(session, select(MonitorAlert), OPEN_FIRST, ask, counted=True)


def recent_alerts(session: Session, limit: int = 24) -> list[MonitorAlert]:
    """The first alerts of :func:`alerts`, for a page that shows only those."""
    return alerts(session, PageRequest(limit)).items


def month_checks(session: Session, alert: MonitorAlert) -> list[DriftCheck]:
    """The drift checks behind an alert, worst first."""
    return list(session.scalars(select(DriftCheck).where(*_key(DriftCheck, alert.month, (
        alert.model_name, alert.model_version))).order_by(DriftCheck.psi.desc())))
