"""A score keeps its reasons as data (reason code, points, the action in zh and en) and its
credit repair guidance (the smallest actionable changes that would move the entity up one
grade), so the API and the console answer with both. Older scores have neither (null).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("reason_detail", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("repair", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("repair")
        batch.drop_column("reason_detail")
