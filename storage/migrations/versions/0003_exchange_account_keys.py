"""exchange account keys: encrypted keys table and key status on accounts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_keys",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("api_key", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("passphrase", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_keys_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_keys")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key_status", sa.String(length=16), server_default="NONE", nullable=False)
        )
        batch_op.add_column(sa.Column("key_problem", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("key_checked_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("key_hint", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("can_withdraw", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("removed_at", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("removed_at")
        batch_op.drop_column("can_withdraw")
        batch_op.drop_column("key_hint")
        batch_op.drop_column("key_checked_at")
        batch_op.drop_column("key_problem")
        batch_op.drop_column("key_status")
    op.drop_table("account_keys")
