"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("actor_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_created_at", ["created_at"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("username_lower", sa.String(length=50), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("risk_profile", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("permissions", sa.String(length=256), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_users_telegram_id")),
        sa.UniqueConstraint("username_lower", name=op.f("uq_users_username_lower")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_status"), ["status"], unique=False)

    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("exchange", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("is_testnet", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "order_drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_order_drafts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_order_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_drafts")),
    )
    with op.batch_alter_table("order_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_drafts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("exchange_order_id", sa.String(length=64), nullable=True),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("time_in_force", sa.String(length=8), nullable=False),
        sa.Column("quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("price", storage.types.DecimalText(), nullable=True),
        sa.Column("stop_price", storage.types.DecimalText(), nullable=True),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("filled_quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("average_price", storage.types.DecimalText(), nullable=True),
        sa.Column("fee", storage.types.DecimalText(), nullable=False),
        sa.Column("fee_asset", sa.String(length=16), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("bracket_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_orders_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name=op.f("uq_orders_account_id_client_order_id")
        ),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_bracket_id"), ["bracket_id"], unique=False)
        batch_op.create_index("ix_orders_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_orders_status", ["status"], unique=False)
        batch_op.create_index("ix_orders_user_id_status", ["user_id", "status"], unique=False)

    op.create_table(
        "paper_balances",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("free", storage.types.DecimalText(), nullable=False),
        sa.Column("locked", storage.types.DecimalText(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_paper_balances_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "asset", name=op.f("pk_paper_balances")),
    )
    op.create_table(
        "paper_orders",
        sa.Column("exchange_order_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("time_in_force", sa.String(length=8), nullable=False),
        sa.Column("quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("price", storage.types.DecimalText(), nullable=True),
        sa.Column("stop_price", storage.types.DecimalText(), nullable=True),
        sa.Column("filled_quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("average_price", storage.types.DecimalText(), nullable=True),
        sa.Column("fee", storage.types.DecimalText(), nullable=False),
        sa.Column("fee_asset", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_paper_orders_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("exchange_order_id", name=op.f("pk_paper_orders")),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name=op.f("uq_paper_orders_account_id_client_order_id")
        ),
    )
    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.create_index("ix_paper_orders_account_id_state", ["account_id", "state"], unique=False)

    op.create_table(
        "fills",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("trade_id", sa.String(length=64), nullable=False),
        sa.Column("price", storage.types.DecimalText(), nullable=False),
        sa.Column("quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("fee", storage.types.DecimalText(), nullable=False),
        sa.Column("fee_asset", sa.String(length=16), nullable=False),
        sa.Column("is_maker", sa.Boolean(), nullable=False),
        sa.Column("executed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("order_id", "trade_id", name=op.f("uq_fills_order_id_trade_id")),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fills_order_id"), ["order_id"], unique=False)

    op.create_table(
        "paper_trades",
        sa.Column("trade_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("exchange_order_id", sa.String(length=40), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("price", storage.types.DecimalText(), nullable=False),
        sa.Column("quantity", storage.types.DecimalText(), nullable=False),
        sa.Column("fee", storage.types.DecimalText(), nullable=False),
        sa.Column("fee_asset", sa.String(length=16), nullable=False),
        sa.Column("is_maker", sa.Boolean(), nullable=False),
        sa.Column("executed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_paper_trades_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["exchange_order_id"],
            ["paper_orders.exchange_order_id"],
            name=op.f("fk_paper_trades_exchange_order_id_paper_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_paper_trades")),
    )
    with op.batch_alter_table("paper_trades", schema=None) as batch_op:
        batch_op.create_index(
            "ix_paper_trades_account_id_symbol", ["account_id", "symbol", "executed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_paper_trades_exchange_order_id"), ["exchange_order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("paper_trades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_trades_exchange_order_id"))
        batch_op.drop_index("ix_paper_trades_account_id_symbol")

    op.drop_table("paper_trades")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fills_order_id"))

    op.drop_table("fills")
    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_orders_account_id_state")

    op.drop_table("paper_orders")
    op.drop_table("paper_balances")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_user_id_status")
        batch_op.drop_index("ix_orders_status")
        batch_op.drop_index("ix_orders_created_at")
        batch_op.drop_index(batch_op.f("ix_orders_bracket_id"))

    op.drop_table("orders")
    with op.batch_alter_table("order_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_drafts_user_id"))

    op.drop_table("order_drafts")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_user_id"))

    op.drop_table("accounts")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_status"))

    op.drop_table("users")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_created_at")

    op.drop_table("audit_log")
