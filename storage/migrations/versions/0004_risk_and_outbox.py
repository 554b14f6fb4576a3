"""risk limits, equity marks, alerts, alert settings and the notification outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_before", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_batch_id_status", ["batch_id", "status"], unique=False)
        batch_op.create_index("ix_outbox_status_finished_at", ["status", "finished_at"], unique=False)
        batch_op.create_index("ix_outbox_status_id", ["status", "id"], unique=False)

    op.create_table(
        "risk_profile_limits",
        sa.Column("profile", sa.String(length=16), nullable=False),
        sa.Column("max_position", storage.types.DecimalText(), nullable=False),
        sa.Column("max_order", storage.types.DecimalText(), nullable=False),
        sa.Column("max_leverage", storage.types.DecimalText(), nullable=False),
        sa.Column("max_daily_loss", storage.types.DecimalText(), nullable=False),
        sa.Column("max_drawdown", storage.types.DecimalText(), nullable=False),
        sa.Column("max_var", storage.types.DecimalText(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("profile", name=op.f("pk_risk_profile_limits")),
    )
    op.create_table(
        "unreachable_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("since", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_unreachable_chats")),
    )
    op.create_table(
        "alert_settings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("severities", sa.String(length=64), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("report_enabled", sa.Boolean(), nullable=False),
        sa.Column("report_time", sa.String(length=5), nullable=False),
        sa.Column("last_report_on", sa.Date(), nullable=True),
        sa.Column("last_report_equity", storage.types.DecimalText(), nullable=True),
        sa.Column("last_report_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_settings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_alert_settings")),
    )
    op.create_table(
        "risk_alert_states",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("alert_type", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("value", storage.types.DecimalText(), nullable=False),
        sa.Column("limit", storage.types.DecimalText(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("opened_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_alert_states_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "alert_type", name=op.f("pk_risk_alert_states")),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("alert_type", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("value", storage.types.DecimalText(), nullable=False),
        sa.Column("limit", storage.types.DecimalText(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_alerts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_risk_alerts_user_id_created_at", ["user_id", "created_at"], unique=False)

    op.create_table(
        "risk_equity_marks",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_start_equity", storage.types.DecimalText(), nullable=False),
        sa.Column("peak_equity", storage.types.DecimalText(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_equity_marks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_risk_equity_marks")),
    )
    op.create_table(
        "risk_user_limits",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("max_position", storage.types.DecimalText(), nullable=True),
        sa.Column("max_order", storage.types.DecimalText(), nullable=True),
        sa.Column("max_leverage", storage.types.DecimalText(), nullable=True),
        sa.Column("max_daily_loss", storage.types.DecimalText(), nullable=True),
        sa.Column("max_drawdown", storage.types.DecimalText(), nullable=True),
        sa.Column("max_var", storage.types.DecimalText(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_user_limits_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_risk_user_limits")),
    )


def downgrade() -> None:
    op.drop_table("risk_user_limits")
    op.drop_table("risk_equity_marks")
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_alerts_user_id_created_at")

    op.drop_table("risk_alerts")
    op.drop_table("risk_alert_states")
    op.drop_table("alert_settings")
    op.drop_table("unreachable_chats")
    op.drop_table("risk_profile_limits")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_id")
        batch_op.drop_index("ix_outbox_status_finished_at")
        batch_op.drop_index("ix_outbox_batch_id_status")

    op.drop_table("outbox")
    op.drop_table("broadcasts")
