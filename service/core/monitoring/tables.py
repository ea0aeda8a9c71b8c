"""The monitoring tables: one drift check per month, model version and variable; at most one
alert per month and model version; observed against predicted bad rate per grade once the
month's labels are known.

Rows are keyed by month and model version so that a re-run of a month adds nothing; an alert
records the retraining it started (the run and the challenger version), never a promotion.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.monitoring.drift import Level
from models.monitoring.reference import Kind
from service.core.db.tables import Base
from service.core.db.types import BigId, one_of, utcnow


class AlertLevel(StrEnum):
    watch = "watch"  # 关注
    act = "act"  # 处置: retraining starts


class AlertState(StrEnum):
    open = "open"
    acknowledged = "acknowledged"


class DriftCheck(Base):
    __tablename__ = "drift_checks"
    __table_args__ = (
        UniqueConstraint("month", "model_name", "model_version", "variable",
                         name="uq_drift_checks_month_model_variable"),
        CheckConstraint(one_of("level", Level), name="level"),
        CheckConstraint(one_of("kind", Kind), name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    variable: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(12))
    n: Mapped[int] = mapped_column(Integer)  # rows of the month
    psi: Mapped[float] = mapped_column(Float)
    ks: Mapped[float | None] = mapped_column(Float)  # None for categorical variables
    js: Mapped[float] = mapped_column(Float)  # Jensen–Shannon distance, base 2
    p_value: Mapped[float] = mapped_column(Float)  # Jensen–Shannon (G-) test
    level: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitorAlert(Base):
    __tablename__ = "monitor_alerts"
    __table_args__ = (
        UniqueConstraint("month", "model_name", "model_version",
                         name="uq_monitor_alerts_month_model"),
        CheckConstraint(one_of("level", AlertLevel), name="level"),
        CheckConstraint(one_of("state", AlertState), name="state"),
        Index("ix_monitor_alerts_state", "state", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8))
    variables: Mapped[list[str]] = mapped_column(JSON)  # at watch or act, worst first
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=AlertState.open.value)
    retrain_run_id: Mapped[str | None] = mapped_column(String(64))  # the challenger's run
    challenger_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retrained_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledgement: Mapped[str | None] = mapped_column(Text)  # what the person will do


class GradeCalibrationRow(Base):
    __tablename__ = "grade_calibration"
    __table_args__ = (
        UniqueConstraint("month", "model_name", "model_version", "grade",
                         name="uq_grade_calibration_month_model_grade"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(2))
    n: Mapped[int] = mapped_column(Integer)
    bads: Mapped[int] = mapped_column(Integer)
    predicted: Mapped[float] = mapped_column(Float)  # mean predicted probability
    observed: Mapped[float] = mapped_column(Float)  # observed 12-month bad rate
    lower: Mapped[float] = mapped_column(Float)  # 95 % binomial interval of observed
    upper: Mapped[float] = mapped_column(Float)
    in_line: Mapped[bool] = mapped_column(Boolean)  # predicted inside the interval
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
