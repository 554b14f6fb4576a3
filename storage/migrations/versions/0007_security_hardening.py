"""security hardening: trading PINs, and which confirmed drafts the user was told about

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_pins",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sealed_hash", sa.Text(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("scrypt_n", sa.Integer(), nullable=False),
        sa.Column("scrypt_r", sa.Integer(), nullable=False),
        sa.Column("scrypt_p", sa.Integer(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_pins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_pins")),
    )
    with op.batch_alter_table("order_drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    # Drafts confirmed before this revision were reported by the code of their time.
    op.execute("UPDATE order_drafts SET reported_at = created_at WHERE status = 'CONFIRMED'")


def downgrade() -> None:
    with op.batch_alter_table("order_drafts", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
    op.drop_table("user_pins")
