"""brackets: the bracket table, each order's leg in its bracket, PAPER OCO pairs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brackets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("entry_price", storage.types.DecimalText(), nullable=True),
        sa.Column("stop_price", storage.types.DecimalText(), nullable=False),
        sa.Column("active_stop", storage.types.DecimalText(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("breakeven", sa.Boolean(), nullable=False),
        sa.Column("exit_mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("close_reason", sa.String(length=24), nullable=True),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.Column("reported", sa.Text(), nullable=False),
        sa.Column("stop_moved", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_brackets_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_brackets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brackets")),
    )
    with op.batch_alter_table("brackets", schema=None) as batch_op:
        batch_op.create_index("ix_brackets_status", ["status"], unique=False)
        batch_op.create_index("ix_brackets_user_id_status", ["user_id", "status"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bracket_leg", sa.String(length=16), nullable=True))

    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oco_with", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.drop_column("oco_with")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("bracket_leg")

    with op.batch_alter_table("brackets", schema=None) as batch_op:
        batch_op.drop_index("ix_brackets_user_id_status")
        batch_op.drop_index("ix_brackets_status")

    op.drop_table("brackets")
