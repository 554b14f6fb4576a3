"""Brackets: an entry with its stop-loss and take-profit targets; the legs are rows of ``orders``."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import DecimalText, UTCDateTime


class BracketRow(Base):
    __tablename__ = "brackets"
    __table_args__ = (
        Index("ix_brackets_user_id_status", "user_id", "status"),
        Index("ix_brackets_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    entry_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    stop_price: Mapped[Decimal] = mapped_column(DecimalText)
    active_stop: Mapped[Decimal] = mapped_column(DecimalText)
    targets: Mapped[str] = mapped_column(Text)  # JSON: [[price, quantity], ...]
    breakeven: Mapped[bool] = mapped_column(Boolean)
    exit_mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    close_reason: Mapped[str | None] = mapped_column(String(24))
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    reported: Mapped[str] = mapped_column(Text)  # JSON: what was reported to the user (entry, exits, cover)
    stop_moved: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
