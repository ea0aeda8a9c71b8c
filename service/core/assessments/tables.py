"""The assessment tables: a year's assessment, its results per institution, every decision on
it (run, adjustment, publication, appeal, appeal decision) and the institution statuses it set.

A result keeps the model's proposal (``model_outcome``) beside the outcome in force
(``outcome``), so a published outcome always shows whether people changed it, and the events
say who, when and why. It also keeps the institution's credit standing the draft read, and
the written reason a pass despite grade D or a red warning was published with.
``assessments.version`` is the optimistic lock of the whole year: each
adjustment and the publication update it only where it is still the version the client saw, so
of two concurrent decisions exactly one wins. ``institution_status`` is append-only: the
latest row of an institution's latest assessment year is its status of record, with the
decision it rests on.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db.tables import Base
from service.core.db.types import BigId, one_of, utcnow


class AssessmentState(StrEnum):
    draft = "draft"  # 草稿: computed, may be adjusted or replaced by a re-run
    published = "published"  # 已发布: final, open to appeals


class Outcome(StrEnum):
    passed = "pass"  # 合格
    warning = "warning"  # 警告
    exit = "exit"  # 退出


OUTCOME_ZH = {Outcome.passed: "通过", Outcome.warning: "警告", Outcome.exit: "退出"}


class AppealState(StrEnum):
    filed = "filed"  # 已提出
    upheld = "upheld"  # 成立: the outcome changed
    rejected = "rejected"  # 不成立


class EventKind(StrEnum):
    run = "run"  # the draft computed (or replaced)
    adjust = "adjust"
    publish = "publish"
    appeal = "appeal"
    decide = "decide"


class InstitutionStatus(StrEnum):
    active = "active"
    warned = "warned"
    exited = "exited"


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (CheckConstraint(one_of("state", AssessmentState), name="state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    state: Mapped[str] = mapped_column(String(12))
    config_version: Mapped[int] = mapped_column(Integer)
    config_sha256: Mapped[str] = mapped_column(String(64))
    quota: Mapped[int] = mapped_column(Integer)
    # the indicator definitions it was computed with (models.assessment.config.Indicator)
    indicator_system: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))  # who ran the (latest) draft
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))  # who ran or last adjusted it
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # UPDATE … WHERE version = the one read


class AssessmentResult(Base):
    __tablename__ = "assessment_results"
    __table_args__ = (
        UniqueConstraint("assessment_id", "institution_id",
                         name="uq_assessment_results_institution"),
        CheckConstraint(one_of("outcome", Outcome), name="outcome"),
        CheckConstraint(one_of("model_outcome", Outcome), name="model_outcome"),
        Index("ix_assessment_results_institution", "institution_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("assessments.id", ondelete="CASCADE"))
    institution_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    institution_type: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(8))
    tier: Mapped[str] = mapped_column(String(32))
    group_key: Mapped[str] = mapped_column(String(80))
    group_size: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    report_year: Mapped[int | None] = mapped_column(Integer)
    failed: Mapped[bool] = mapped_column(Boolean)
    model_outcome: Mapped[str] = mapped_column(String(8))  # what the indicators proposed
    outcome: Mapped[str] = mapped_column(String(8))  # in force: after adjustments and appeals
    basis: Mapped[list[str]]
    reasons_zh: Mapped[list[str]]
    reasons_en: Mapped[list[str]]
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    adjusted_by: Mapped[str | None] = mapped_column(String(64))
    adjusted_at: Mapped[datetime | None]
    # the latest score and its warning when the draft was made
    # (models.assessment.credit.CreditStanding); None: never scored
    credit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pass_reason: Mapped[str | None] = mapped_column(Text)  # why a flagged pass was published


class AssessmentEvent(Base):
    """One decision: who, when, why, and the outcome before and after."""

    __tablename__ = "assessment_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", EventKind), name="kind"),
        Index("ix_assessment_events_assessment", "assessment_id", "institution_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("assessments.id", ondelete="CASCADE"))
    institution_id: Mapped[str | None] = mapped_column(String(32))  # None: the whole year
    kind: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(String(8))
    after: Mapped[str | None] = mapped_column(String(8))
    appeal_id: Mapped[int | None] = mapped_column(BigId)
    detail: Mapped[dict[str, Any]]


class AssessmentAppeal(Base):
    """An appeal against a published outcome. ``open_key`` is set while it is undecided and is
    unique, so an institution has at most one open appeal per assessment."""

    __tablename__ = "assessment_appeals"
    __table_args__ = (
        CheckConstraint(one_of("state", AppealState), name="state"),
        Index("ix_assessment_appeals_assessment", "assessment_id", "institution_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("assessments.id", ondelete="CASCADE"))
    institution_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(12))
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    requested_outcome: Mapped[str | None] = mapped_column(String(8))
    deadline: Mapped[datetime]  # the end of the filing window it was filed in
    outcome_before: Mapped[str] = mapped_column(String(8))
    outcome_after: Mapped[str | None] = mapped_column(String(8))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)


class InstitutionStatusRecord(Base):
    """An institution's status as decided by a published assessment or an appeal on it."""

    __tablename__ = "institution_status"
    __table_args__ = (
        CheckConstraint(one_of("status", InstitutionStatus), name="status"),
        Index("ix_institution_status_institution", "institution_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    institution_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(8))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    year: Mapped[int] = mapped_column(Integer)  # the assessment year it rests on
    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("assessments.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(Text)  # e.g. "assessment 2020 published; outcome exit"
    decided_by: Mapped[str] = mapped_column(String(64))
