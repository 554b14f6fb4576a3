"""sent once: the state of each order the user was last notified about, and a bracket's steps sent once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notified_status", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("notified_filled", storage.types.DecimalText(), nullable=True))
        batch_op.create_index("ix_orders_updated_at", ["updated_at"], unique=False)
    # Orders stored before this revision were notified by the code of their time; nobody
    # gets an old message at the first start after the upgrade.
    op.execute("UPDATE orders SET notified_status = status, notified_filled = filled_quantity")
    _backfill_bracket_steps()


def _backfill_bracket_steps() -> None:
    """Record as notified each once-only step a bracket has taken: the code of its time emitted it then."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, reported, status, stop_moved, active_stop, stop_price, fallback_reason FROM brackets"
        )
    ).fetchall()
    for key, reported, status, stop_moved, active_stop, stop_price, fallback_reason in rows:
        steps = []
        if stop_moved and active_stop != stop_price:
            steps.append("stop_moved")
        if fallback_reason is not None:
            steps.append("fallback")
        if status in ("CLOSED", "CANCELLED"):
            steps.append("end")
        record = json.loads(reported)
        record["steps"] = sorted(steps)
        connection.execute(
            sa.text("UPDATE brackets SET reported = :reported WHERE id = :key"),
            {"reported": json.dumps(record), "key": key},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: it rebuilds orders, and dropping the old table deletes
        # every fill through their ON DELETE CASCADE (the bot turns foreign keys on).
        # SQLite drops an unindexed column in place since 3.35.
        op.drop_index("ix_orders_updated_at", table_name="orders")
        op.execute("ALTER TABLE orders DROP COLUMN notified_filled")
        op.execute("ALTER TABLE orders DROP COLUMN notified_status")
        return
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_updated_at")
        batch_op.drop_column("notified_filled")
        batch_op.drop_column("notified_status")
