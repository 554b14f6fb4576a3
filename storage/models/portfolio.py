"""Equity snapshots, last account valuations, stress scenarios and rebalancing plans."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import DecimalText, UTCDateTime


class EquitySnapshotRow(Base):
    __tablename__ = "equity_snapshots"
    __table_args__ = (Index("ix_equity_snapshots_user_id_taken_at", "user_id", "taken_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    equity: Mapped[Decimal] = mapped_column(DecimalText)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    benchmarks: Mapped[str] = mapped_column(Text, default="{}")  # JSON: symbol -> price text


class AccountValuationRow(Base):
    """The last successful valuation of an account, shown while its exchange cannot be reached."""

    __tablename__ = "account_valuations"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    valued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    holdings: Mapped[str] = mapped_column(Text)  # JSON list of {asset, free, locked, price, value}


class StressScenarioRow(Base):
    __tablename__ = "stress_scenarios"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    shocks: Mapped[str] = mapped_column(Text)  # JSON: asset -> fraction text
    others: Mapped[Decimal | None] = mapped_column(DecimalText)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RebalancePlanRow(Base):
    __tablename__ = "rebalance_plans"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(16))
    orders: Mapped[str] = mapped_column(Text)  # JSON list of {symbol, side, quantity, price, target_weight}
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
