"""The case tables: a case, its events (every step, with who, when, why and on what evidence),
evidence files (kept with their SHA-256), and joint-punishment measures.

A case row carries its ``version`` for optimistic locking: a transition updates it only where
the version is still the one it read, so of two concurrent transitions exactly one wins.
``active_key`` is set while the case is open and is unique, so one subject and conduct never
has two open cases: a second opening merges into the first.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.core.cases.enums import CaseSource, CaseState, Severity, SubjectKind
from service.core.db.tables import Base
from service.core.db.types import BigId, one_of, utcnow


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(one_of("state", CaseState), name="state"),
        CheckConstraint(one_of("subject_kind", SubjectKind), name="subject_kind"),
        CheckConstraint(one_of("source", CaseSource), name="source"),
        CheckConstraint(f"severity IS NULL OR {one_of('severity', Severity)}", name="severity"),
        Index("ix_cases_subject", "subject_kind", "subject_id"),
        Index("ix_cases_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32))
    subject_name: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(8))
    conduct: Mapped[str | None] = mapped_column(String(32))  # None: not yet established
    severity: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(8))
    active_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    assignee: Mapped[str | None] = mapped_column(String(64))
    # the model's part: the warning that opened the case, with its score and reasons
    warning_id: Mapped[int | None] = mapped_column(BigId)
    model_name: Mapped[str | None] = mapped_column(String(128))
    model_version: Mapped[str | None] = mapped_column(String(32))
    score_points: Mapped[float | None] = mapped_column(Float)
    # model evidence: the warnings, scores, reasons and contracts behind the case
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # the decision and its notice
    basis: Mapped[str | None] = mapped_column(Text)  # legal basis
    decision_number: Mapped[str | None] = mapped_column(String(64))
    decided_on: Mapped[date | None] = mapped_column(Date)
    notice_on: Mapped[date | None] = mapped_column(Date)
    objection_due: Mapped[date | None] = mapped_column(Date)
    objection_on: Mapped[date | None] = mapped_column(Date)
    answer_due: Mapped[date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # the list
    listed_on: Mapped[date | None] = mapped_column(Date)
    repair_from: Mapped[date | None] = mapped_column(Date)
    publication_ends: Mapped[date | None] = mapped_column(Date)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    repair_due: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    # a four-eyes step waiting for its second person
    pending_action: Mapped[str | None] = mapped_column(String(20))
    pending_by: Mapped[str | None] = mapped_column(String(64))
    pending_payload: Mapped[dict[str, Any] | None]

    __mapper_args__ = {"version_id_col": version}  # UPDATE … WHERE version = the one read


class CaseEvent(Base):
    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]]
    file_ids: Mapped[list[int]] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(32))


class CaseFile(Base):
    """Evidence, stored in the database with its SHA-256 so what was decided on can be
    shown byte for byte later."""

    __tablename__ = "case_files"
    __table_args__ = (Index("ix_case_files_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Measure(Base):
    """A joint-punishment measure (联合惩戒措施) another agency applies to a listed subject."""

    __tablename__ = "case_measures"
    __table_args__ = (Index("ix_case_measures_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(200))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]
    lifted_reason: Mapped[str | None] = mapped_column(Text)
