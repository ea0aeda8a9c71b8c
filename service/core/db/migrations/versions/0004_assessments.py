"""The annual assessment: assessments, their results, events and appeals, and the institution
statuses that published assessments decide.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OUTCOMES = "('pass', 'warning', 'exit')"
TABLES = ("institution_status", "assessment_appeals", "assessment_events", "assessment_results",
          "assessments")


def _id(name: str = "id", nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                     nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=False)


def _parent(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_assessment_id_assessments"))


def upgrade() -> None:
    op.create_table(
        "assessments", _id(), _int("year"), _str("state", 12), _int("config_version"),
        _str("config_sha256", 64), _int("quota"), _json("indicator_system"),
        _str("created_by", 64), _at("created_at"),
        _str("updated_by", 64), _at("updated_at"), _str("published_by", 64, nullable=True),
        _at("published_at", nullable=True), _int("version"),
        sa.CheckConstraint("state IN ('draft', 'published')", name=op.f("ck_assessments_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint("year", name=op.f("uq_assessments_year")),
    )
    op.create_table(
        "assessment_results", _id(), _id("assessment_id"), _str("institution_id", 32),
        _str("name", 200), _str("institution_type", 32), _str("region", 8), _str("tier", 32),
        _str("group_key", 80), _int("group_size"), _int("rank"),
        sa.Column("total", sa.Float(), nullable=False), _int("report_year", nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False), _str("model_outcome", 8),
        _str("outcome", 8), _json("basis"), _json("reasons_zh"), _json("reasons_en"),
        _json("indicators"), _str("adjusted_by", 64, nullable=True),
        _at("adjusted_at", nullable=True),
        sa.CheckConstraint(f"outcome IN {OUTCOMES}", name=op.f("ck_assessment_results_outcome")),
        sa.CheckConstraint(f"model_outcome IN {OUTCOMES}",
                           name=op.f("ck_assessment_results_model_outcome")),
        _parent("assessment_results"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_results")),
        sa.UniqueConstraint("assessment_id", "institution_id",
                            name="uq_assessment_results_institution"),
    )
    op.create_index("ix_assessment_results_institution", "assessment_results",
                    ["institution_id"])
    op.create_table(
        "assessment_events", _id(), _id("assessment_id"), _str("institution_id", 32, True),
        _str("kind", 12), _str("actor", 64), _str("role", 16, True), _at("at"),
        _text("reason", True), _str("before", 8, True), _str("after", 8, True),
        _id("appeal_id", nullable=True), _json("detail"),
        sa.CheckConstraint("kind IN ('run', 'adjust', 'publish', 'appeal', 'decide')",
                           name=op.f("ck_assessment_events_kind")),
        _parent("assessment_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_events")),
    )
    op.create_index("ix_assessment_events_assessment", "assessment_events",
                    ["assessment_id", "institution_id"])
    op.create_table(
        "assessment_appeals", _id(), _id("assessment_id"), _str("institution_id", 32),
        _str("state", 12), _str("open_key", 64, True), _str("filed_by", 64), _at("filed_at"),
        _text("reason"), _str("requested_outcome", 8, True), _at("deadline"),
        _str("outcome_before", 8), _str("outcome_after", 8, True),
        _str("decided_by", 64, True), _at("decided_at", True), _text("decision_reason", True),
        sa.CheckConstraint("state IN ('filed', 'upheld', 'rejected')",
                           name=op.f("ck_assessment_appeals_state")),
        _parent("assessment_appeals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_appeals")),
        sa.UniqueConstraint("open_key", name=op.f("uq_assessment_appeals_open_key")),
    )
    op.create_index("ix_assessment_appeals_assessment", "assessment_appeals",
                    ["assessment_id", "institution_id"])
    op.create_table(
        "institution_status", _id(), _str("institution_id", 32), _str("status", 8),
        _at("since"), _int("year"), _id("assessment_id"), _text("basis"),
        _str("decided_by", 64),
        sa.CheckConstraint("status IN ('active', 'warned', 'exited')",
                           name=op.f("ck_institution_status_status")),
        _parent("institution_status"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_status")),
    )
    op.create_index("ix_institution_status_institution", "institution_status",
                    ["institution_id", "id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)  # their indexes go with them
