"""The audit chain is keyed (HMAC; entries name their key), every protected row's content hash
is chained in ``row_hashes``, and on PostgreSQL neither chain can be updated or deleted.

Entries written before this revision keep their plain SHA-256 hashes and ``key_id`` NULL; the
first entry appended afterwards is keyed and links to the old head, which re-anchors the old
chain once (see ``service.core.db.audit``). Rows written before this revision have no recorded
hash: ``techcredit audit adopt`` records them once, after the operator has checked them.

The triggers refuse UPDATE, DELETE and TRUNCATE of ``audit_log`` and ``row_hashes`` for every
role, the application's included; only a superuser can bypass them (``session_replication_role
= replica``) or drop them, and that is what the checkpoints outside the database then catch.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHAINS = ("audit_log", "row_hashes")
REFUSE = """
CREATE OR REPLACE FUNCTION techcredit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "row_hashes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_row_hashes")),
        sa.UniqueConstraint("hash", name=op.f("uq_row_hashes_hash")),
    )
    op.create_index("ix_row_hashes_row", "row_hashes", ["table_name", "row_key", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(REFUSE)
    for table in CHAINS:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION techcredit_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION techcredit_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CHAINS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS techcredit_append_only()")
    op.drop_table("row_hashes")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
