"""The tables of the operational database, declared once; the migrations must match them.

Scores, checks and warnings are written by batch and real-time scoring, never updated in
place: a re-score is a new row (new model version or as-of), so any past answer can be
explained with the model that gave it. ``tests/service/core/db/test_migrate.py`` compares this
metadata with the migrated schema on both backends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.rules.tier import Tier
from service.core.db.types import (
    BigId,
    CheckSource,
    EntityKind,
    RescoreCause,
    Role,
    UtcDateTime,
    WarningState,
    one_of,
    utcnow,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class Score(Base):
    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint(
            "entity_kind", "entity_id", "as_of", "model_name", "model_version",
            name="uq_scores_entity_as_of_model",
        ),
        CheckConstraint(one_of("entity_kind", EntityKind), name="entity_kind"),
        Index("ix_scores_entity_as_of", "entity_kind", "entity_id", "as_of"),
        Index("ix_scores_as_of_points", "as_of", "points", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(8))  # province code of the entity
    as_of: Mapped[date] = mapped_column(Date)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    alias: Mapped[str | None] = mapped_column(String(32))
    probability: Mapped[float] = mapped_column(Float)
    points: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(2))
    reasons_zh: Mapped[list[str]]
    reasons_en: Mapped[list[str]]
    # each reason as data (code, points, action zh/en) and the credit repair guidance
    reason_detail: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    repair: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    feature_as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContractCheck(Base):
    __tablename__ = "contract_checks"
    __table_args__ = (
        CheckConstraint(one_of("tier", Tier), name="tier"),
        CheckConstraint(one_of("source", CheckSource), name="source"),
        Index("ix_contract_checks_contract", "contract_id", "checked_at"),
        Index("ix_contract_checks_source_date", "source", "registered_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8), server_default=CheckSource.check.value)
    registered_date: Mapped[date | None] = mapped_column(Date)
    institution_id: Mapped[str | None] = mapped_column(String(32))
    broker_id: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(8))
    alias: Mapped[str | None] = mapped_column(String(32))
    checked_by: Mapped[str | None] = mapped_column(String(64))  # the user; None for batch
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    probability: Mapped[float] = mapped_column(Float)
    tier: Mapped[str | None] = mapped_column(String(8))  # None: no warning
    reasons_zh: Mapped[list[str]]
    reasons_en: Mapped[list[str]]
    rule_hits: Mapped[list[str]]
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))


class RescoreRequest(Base):
    """An entity to re-score because evidence against it arrived (事件驱动重评): written in
    the same transaction as the evidence (the check, the listing), done by the re-score flow
    (``techcredit rescore``), which records the score it wrote. Never deleted: the record of
    why a score was computed between month-ends."""

    __tablename__ = "rescore_requests"
    __table_args__ = (
        CheckConstraint(one_of("entity_kind", EntityKind), name="entity_kind"),
        CheckConstraint(one_of("cause", RescoreCause), name="cause"),
        Index("ix_rescore_requests_pending", "done_at", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(16))
    cause_id: Mapped[str] = mapped_column(String(64))  # the contract, or the listed case's id
    day: Mapped[date] = mapped_column(Date)  # the evidence's date: the score is as of it
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    score_id: Mapped[int | None] = mapped_column(BigInteger)  # the score written (None: none)


class RiskWarning(Base):
    __tablename__ = "warnings"
    __table_args__ = (
        CheckConstraint(one_of("entity_kind", EntityKind), name="entity_kind"),
        CheckConstraint(one_of("tier", Tier), name="tier"),
        CheckConstraint(one_of("state", WarningState), name="state"),
        Index("ix_warnings_entity", "entity_kind", "entity_id", "as_of"),
        Index("ix_warnings_state_tier", "state", "tier"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(8))
    tier: Mapped[str] = mapped_column(String(8))
    reason_codes: Mapped[list[str]]
    reasons_zh: Mapped[list[str]]
    reasons_en: Mapped[list[str]]
    as_of: Mapped[date] = mapped_column(Date)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8), default=WarningState.open.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Override(Base):
    """A regulator's grade beside the model's; the model score stays visible."""

    __tablename__ = "overrides"
    __table_args__ = (
        CheckConstraint(one_of("entity_kind", EntityKind), name="entity_kind"),
        Index("ix_overrides_entity", "entity_kind", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    regions: Mapped[list[str]]  # province codes a regulator sees; empty: all
    institution_id: Mapped[str | None] = mapped_column(String(32))
    # the registration offices an office user registers contracts for; empty: none
    offices: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    """Only a SHA-256 of the token is kept; ``prefix`` (not secret) finds the row."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class ConsoleSession(Base):
    """A console sign-in: the browser holds a random session id, the database only its SHA-256
    and the token it was opened with, so a stolen cookie is not an API token, and revoking
    the token (or its user) ends every session opened with it."""

    __tablename__ = "console_sessions"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only and hash-chained (see ``service.core.db.audit``); ``id`` is the chain position,
    assigned under a lock, so a gap is a deleted entry."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    entity_kind: Mapped[str | None] = mapped_column(String(16))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16))  # None: written before keying


class RowHash(Base):
    """The content hash of a protected row after each change the application made, chained
    and keyed as the audit log is (see ``service.core.db.row_audit``)."""

    __tablename__ = "row_hashes"
    __table_args__ = (Index("ix_row_hashes_row", "table_name", "row_key", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))  # None: the row was deleted
    key_id: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
