"""order management: trigger flags, stored checks, TWAPs, holdings, PAPER matching state

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_holdings",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("quantity", storage.types.DecimalText(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_holdings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "asset", name=op.f("pk_account_holdings")),
    )
    op.create_table(
        "twaps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("total_quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("slices", sa.Integer(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("slices_sent", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("next_run_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_twaps_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_twaps_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_twaps")),
    )
    with op.batch_alter_table("twaps", schema=None) as batch_op:
        batch_op.create_index("ix_twaps_status_next_run_at", ["status", "next_run_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_twaps_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_trigger", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("checks", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lookup_misses", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("twap_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("replaces_order_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_orders_twap_id"), ["twap_id"], unique=False)

    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reduce_only", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("post_only", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("triggered", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(
            sa.Column("locked", storage.types.DecimalText(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("matched_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("liquidity_candle", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("liquidity_used", storage.types.DecimalText(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_slippage", storage.types.DecimalText(), server_default="0.005", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("max_slippage")

    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.drop_column("liquidity_used")
        batch_op.drop_column("liquidity_candle")
        batch_op.drop_column("matched_until")
        batch_op.drop_column("locked")
        batch_op.drop_column("triggered")
        batch_op.drop_column("post_only")
        batch_op.drop_column("reduce_only")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_twap_id"))
        batch_op.drop_column("replaces_order_id")
        batch_op.drop_column("twap_id")
        batch_op.drop_column("lookup_misses")
        batch_op.drop_column("checks")
        batch_op.drop_column("is_trigger")

    with op.batch_alter_table("twaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_twaps_user_id"))
        batch_op.drop_index("ix_twaps_status_next_run_at")

    op.drop_table("twaps")
    op.drop_table("account_holdings")
