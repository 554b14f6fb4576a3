"""portfolio analytics: equity snapshots, last account valuations, stress scenarios, rebalancing plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stress_scenarios",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("shocks", sa.Text(), nullable=False),
        sa.Column("others", storage.types.DecimalText(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stress_scenarios")),
        sa.UniqueConstraint("name", name=op.f("uq_stress_scenarios_name")),
    )

    op.create_table(
        "equity_snapshots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("taken_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("equity", storage.types.DecimalText(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("benchmarks", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_equity_snapshots_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equity_snapshots")),
    )
    with op.batch_alter_table("equity_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_equity_snapshots_user_id_taken_at", ["user_id", "taken_at"], unique=False)

    op.create_table(
        "account_valuations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("valued_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("holdings", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_valuations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_valuations")),
    )

    op.create_table(
        "rebalance_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("orders", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_rebalance_plans_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_rebalance_plans_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebalance_plans")),
    )
    with op.batch_alter_table("rebalance_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rebalance_plans_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rebalance_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rebalance_plans_user_id"))
    op.drop_table("rebalance_plans")
    op.drop_table("account_valuations")
    with op.batch_alter_table("equity_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_equity_snapshots_user_id_taken_at")
    op.drop_table("equity_snapshots")
    op.drop_table("stress_scenarios")
