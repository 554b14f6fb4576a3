"""The PAPER exchange's own books (balances, orders, trades), kept apart from PATRIOT's orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import DecimalText, UTCDateTime


class PaperBalanceRow(Base):
    __tablename__ = "paper_balances"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    free: Mapped[Decimal] = mapped_column(DecimalText)
    locked: Mapped[Decimal] = mapped_column(DecimalText)


class PaperOrderRow(Base):
    __tablename__ = "paper_orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        Index("ix_paper_orders_account_id_state", "account_id", "state"),
    )

    exchange_order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    price: Mapped[Decimal | None] = mapped_column(DecimalText)
    stop_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    filled_quantity: Mapped[Decimal] = mapped_column(DecimalText)
    average_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    fee_asset: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    post_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    triggered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    locked: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0), server_default="0")
    matched_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    liquidity_candle: Mapped[datetime | None] = mapped_column(UTCDateTime)
    liquidity_used: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0), server_default="0")
    oco_with: Mapped[str | None] = mapped_column(String(40))


class PaperTradeRow(Base):
    __tablename__ = "paper_trades"
    __table_args__ = (Index("ix_paper_trades_account_id_symbol", "account_id", "symbol", "executed_at"),)

    trade_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    exchange_order_id: Mapped[str] = mapped_column(
        ForeignKey("paper_orders.exchange_order_id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    price: Mapped[Decimal] = mapped_column(DecimalText)
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    fee_asset: Mapped[str] = mapped_column(String(16))
    is_maker: Mapped[bool] = mapped_column(Boolean, default=False)
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime)
