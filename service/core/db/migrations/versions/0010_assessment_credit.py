"""An assessment result keeps the institution's credit standing the draft read (latest score,
grade and the warning of that date) and the written reason a pass despite grade D or a red
warning was published with.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = ("credit", "pass_reason")


def upgrade() -> None:
    op.add_column("assessment_results", sa.Column("credit", sa.JSON(), nullable=True))
    op.add_column("assessment_results", sa.Column("pass_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment_results") as batch:
        for column in COLUMNS:
            batch.drop_column(column)
