"""Model monitoring: monthly drift checks per variable, alerts (with the retraining they
started) and observed against predicted bad rate per grade.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("monitor_alerts", "grade_calibration", "drift_checks")


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _float(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Float(), nullable=nullable)


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _model() -> list[sa.Column]:
    return [_str("month", 7), _str("model_name", 128), _str("model_version", 32)]


def upgrade() -> None:
    op.create_table(
        "drift_checks", _id(), *_model(), _str("variable", 128), _str("kind", 12), _int("n"),
        _float("psi"), _float("ks", nullable=True), _float("js"), _float("p_value"),
        _str("level", 8), _at("created_at"),
        sa.CheckConstraint("kind IN ('score', 'numeric', 'categorical')",
                           name=op.f("ck_drift_checks_kind")),
        sa.CheckConstraint("level IN ('ok', 'watch', 'act')",
                           name=op.f("ck_drift_checks_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_checks")),
        sa.UniqueConstraint("month", "model_name", "model_version", "variable",
                            name="uq_drift_checks_month_model_variable"),
    )
    op.create_table(
        "grade_calibration", _id(), *_model(), _str("grade", 2), _int("n"), _int("bads"),
        _float("predicted"), _float("observed"), _float("lower"), _float("upper"),
        sa.Column("in_line", sa.Boolean(), nullable=False), _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_calibration")),
        sa.UniqueConstraint("month", "model_name", "model_version", "grade",
                            name="uq_grade_calibration_month_model_grade"),
    )
    op.create_table(
        "monitor_alerts", _id(), *_model(), _str("level", 8),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False), _str("state", 16),
        _str("retrain_run_id", 64, nullable=True), _str("challenger_version", 32, nullable=True),
        _at("created_at"), _at("retrained_at", nullable=True),
        sa.CheckConstraint("level IN ('watch', 'act')", name=op.f("ck_monitor_alerts_level")),
        sa.CheckConstraint("state IN ('open', 'acknowledged')",
                           name=op.f("ck_monitor_alerts_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alerts")),
        sa.UniqueConstraint("month", "model_name", "model_version",
                            name="uq_monitor_alerts_month_model"),
    )
    op.create_index("ix_monitor_alerts_state", "monitor_alerts", ["state", "month"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)  # their indexes go with them
