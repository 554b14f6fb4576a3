"""PATRIOT's record of orders, their fills and unconfirmed drafts."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import DecimalText, UTCDateTime


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        Index("ix_orders_user_id_status", "user_id", "status"),
        Index("ix_orders_user_id_client_order_id", "user_id", "client_order_id"),
        Index("ix_orders_status", "status"),
        Index("ix_orders_created_at", "created_at"),
        Index("ix_orders_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    exchange_order_id: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(24))
    time_in_force: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    price: Mapped[Decimal | None] = mapped_column(DecimalText)
    stop_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    post_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24))
    filled_quantity: Mapped[Decimal] = mapped_column(DecimalText)
    average_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    fee_asset: Mapped[str | None] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    bracket_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    bracket_leg: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_trigger: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    checks: Mapped[str | None] = mapped_column(Text)  # JSON: the pre-trade report the order passed
    lookup_misses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    twap_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    replaces_order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The status and filled quantity the user was last told about (engine Order.notified_*).
    notified_status: Mapped[str | None] = mapped_column(String(24))
    notified_filled: Mapped[Decimal | None] = mapped_column(DecimalText)


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("order_id", "trade_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    trade_id: Mapped[str] = mapped_column(String(64))
    price: Mapped[Decimal] = mapped_column(DecimalText)
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    fee_asset: Mapped[str] = mapped_column(String(16))
    is_maker: Mapped[bool] = mapped_column(Boolean, default=False)
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderDraftRow(Base):
    __tablename__ = "order_drafts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # JSON: the request and its estimate
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set once the user saw the outcome of a CONFIRMED draft; a restart tells the rest.
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HoldingRow(Base):
    """Net base asset an account received through PATRIOT's fills, after fees paid in that asset."""

    __tablename__ = "account_holdings"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(DecimalText)


class TwapRow(Base):
    __tablename__ = "twaps"
    __table_args__ = (Index("ix_twaps_status_next_run_at", "status", "next_run_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    total_quantity: Mapped[Decimal] = mapped_column(DecimalText)
    slices: Mapped[int] = mapped_column(Integer)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    slices_sent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
