"""Regions on scores and warnings (filters, a regulator's region limit); contract checks
record where they came from (a real-time check or the batch run) and the contract's parties.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SOURCES = "source IN ('check', 'batch')"


def _str(name: str, length: int, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(_str("region", 8))
        batch.create_index("ix_scores_as_of_points", ["as_of", "points", "id"])
    with op.batch_alter_table("warnings") as batch:
        batch.add_column(_str("region", 8))
    with op.batch_alter_table("contract_checks") as batch:
        # rows checked before this revision were real-time checks
        batch.add_column(sa.Column("source", sa.String(length=8), nullable=False,
                                   server_default="check"))
        batch.add_column(sa.Column("registered_date", sa.Date(), nullable=True))
        batch.add_column(_str("institution_id", 32))
        batch.add_column(_str("broker_id", 32))
        batch.add_column(_str("region", 8))
        batch.add_column(_str("alias", 32))
        batch.add_column(_str("checked_by", 64))
        batch.create_check_constraint("source", SOURCES)
        batch.create_index("ix_contract_checks_source_date", ["source", "registered_date"])


def downgrade() -> None:
    with op.batch_alter_table("contract_checks") as batch:
        batch.drop_index("ix_contract_checks_source_date")
        batch.drop_constraint(op.f("ck_contract_checks_source"), type_="check")
        for column in ("checked_by", "alias", "region", "broker_id", "institution_id",
                       "registered_date", "source"):
            batch.drop_column(column)
    with op.batch_alter_table("warnings") as batch:
        batch.drop_column("region")
    with op.batch_alter_table("scores") as batch:
        batch.drop_index("ix_scores_as_of_points")
        batch.drop_column("region")
