"""Initial schema: scores, contract checks, warnings, overrides, users, tokens, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ENTITY_KINDS = "entity_kind IN ('institution', 'broker')"
TIERS = "tier IN ('red', 'orange', 'yellow', 'blue')"
ROLES = "role IN ('regulator', 'office', 'institution', 'reviewer', 'auditor', 'admin')"


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "scores", _id(), _str("entity_kind", 16), _str("entity_id", 32),
        sa.Column("as_of", sa.Date(), nullable=False),
        _str("model_name", 128), _str("model_version", 32), _str("alias", 32, nullable=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        _str("grade", 2), _json("reasons_zh"), _json("reasons_en"),
        sa.Column("feature_as_of", sa.Date(), nullable=False), _at("created_at"),
        sa.CheckConstraint(ENTITY_KINDS, name=op.f("ck_scores_entity_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint("entity_kind", "entity_id", "as_of", "model_name", "model_version",
                            name="uq_scores_entity_as_of_model"),
    )
    op.create_index("ix_scores_entity_as_of", "scores", ["entity_kind", "entity_id", "as_of"])

    op.create_table(
        "contract_checks", _id(), _str("contract_id", 64), _at("checked_at"),
        sa.Column("probability", sa.Float(), nullable=False), _str("tier", 8, nullable=True),
        _json("reasons_zh"), _json("reasons_en"), _json("rule_hits"),
        _str("model_name", 128), _str("model_version", 32),
        sa.CheckConstraint(TIERS, name=op.f("ck_contract_checks_tier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_checks")),
    )
    op.create_index("ix_contract_checks_contract", "contract_checks",
                    ["contract_id", "checked_at"])

    op.create_table(
        "warnings", _id(), _str("entity_kind", 16), _str("entity_id", 32), _str("tier", 8),
        _json("reason_codes"), _json("reasons_zh"), _json("reasons_en"),
        sa.Column("as_of", sa.Date(), nullable=False),
        _str("model_name", 128), _str("model_version", 32), _str("state", 8), _at("created_at"),
        sa.CheckConstraint(ENTITY_KINDS, name=op.f("ck_warnings_entity_kind")),
        sa.CheckConstraint(TIERS, name=op.f("ck_warnings_tier")),
        sa.CheckConstraint("state IN ('open', 'closed')", name=op.f("ck_warnings_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
    )
    op.create_index("ix_warnings_entity", "warnings", ["entity_kind", "entity_id", "as_of"])
    op.create_index("ix_warnings_state_tier", "warnings", ["state", "tier"])

    op.create_table(
        "overrides", _id(), _str("entity_kind", 16), _str("entity_id", 32), _str("grade", 2),
        sa.Column("reason", sa.Text(), nullable=False), _str("set_by", 64),
        _at("expires_at"), _at("created_at"), _at("revoked_at", nullable=True),
        sa.CheckConstraint(ENTITY_KINDS, name=op.f("ck_overrides_entity_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overrides")),
    )
    op.create_index("ix_overrides_entity", "overrides", ["entity_kind", "entity_id"])

    op.create_table(
        "users", _id(), _str("name", 64), _str("role", 16), _json("regions"),
        _str("institution_id", 32, nullable=True), _at("created_at"),
        _at("revoked_at", nullable=True),
        sa.CheckConstraint(ROLES, name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens", _id(),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        _str("prefix", 16), _str("hash", 64), _at("created_at"),
        _at("expires_at", nullable=True), _at("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_tokens_prefix")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        _at("at"), _str("actor", 64), _str("role", 16, nullable=True), _str("action", 64),
        _str("entity_kind", 16, nullable=True), _str("entity_id", 64, nullable=True),
        _str("source", 64, nullable=True), _str("outcome", 16), _json("detail"),
        _str("prev_hash", 64), _str("hash", 64),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )


def downgrade() -> None:
    for table in ("audit_log", "api_tokens", "users", "overrides", "warnings",
                  "contract_checks", "scores"):
        op.drop_table(table)  # their indexes go with them
