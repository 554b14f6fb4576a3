"""an index for the lookup of a user's client order id, which every new order makes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Without it the lookup walked every order of the user (ix_orders_user_id_status).
    op.create_index("ix_orders_user_id_client_order_id", "orders", ["user_id", "client_order_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_user_id_client_order_id", table_name="orders")
