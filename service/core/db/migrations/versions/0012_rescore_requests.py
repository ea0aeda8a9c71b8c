"""Event-driven re-scoring: an entity is queued for a score the day evidence against it arrives
(a contract it handled checked red, a related entity listed), and the queue keeps why and which
score answered.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rescore_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("cause_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("entity_kind IN ('institution', 'broker')",
                           name=op.f("ck_rescore_requests_entity_kind")),
        sa.CheckConstraint("cause IN ('red_contract', 'listed')",
                           name=op.f("ck_rescore_requests_cause")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescore_requests")),
    )
    op.create_index("ix_rescore_requests_pending", "rescore_requests", ["done_at", "day"])


def downgrade() -> None:
    op.drop_table("rescore_requests")
