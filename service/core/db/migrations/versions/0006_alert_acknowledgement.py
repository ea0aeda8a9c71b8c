"""Drift alerts are acknowledged by a named person with a note, as every decision is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("acknowledged_by", "acknowledged_at", "acknowledgement")


def upgrade() -> None:
    op.add_column("monitor_alerts", sa.Column("acknowledged_by", sa.String(length=64),
                                              nullable=True))
    op.add_column("monitor_alerts", sa.Column("acknowledged_at", sa.DateTime(timezone=True),
                                              nullable=True))
    op.add_column("monitor_alerts", sa.Column("acknowledgement", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor_alerts") as batch:
        for column in COLUMNS:
            batch.drop_column(column)
