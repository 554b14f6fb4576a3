"""Risk limits, equity marks, alert states, alerts and alert settings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import DecimalText, UTCDateTime


class ProfileLimitsRow(Base):
    """Limits of a risk profile as an admin set them; a profile without a row uses the defaults."""

    __tablename__ = "risk_profile_limits"

    profile: Mapped[str] = mapped_column(String(16), primary_key=True)
    max_position: Mapped[Decimal] = mapped_column(DecimalText)
    max_order: Mapped[Decimal] = mapped_column(DecimalText)
    max_leverage: Mapped[Decimal] = mapped_column(DecimalText)
    max_daily_loss: Mapped[Decimal] = mapped_column(DecimalText)
    max_drawdown: Mapped[Decimal] = mapped_column(DecimalText)
    max_var: Mapped[Decimal] = mapped_column(DecimalText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserLimitsRow(Base):
    """A user's own tighter limits; NULL keeps the profile's value."""

    __tablename__ = "risk_user_limits"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    max_position: Mapped[Decimal | None] = mapped_column(DecimalText)
    max_order: Mapped[Decimal | None] = mapped_column(DecimalText)
    max_leverage: Mapped[Decimal | None] = mapped_column(DecimalText)
    max_daily_loss: Mapped[Decimal | None] = mapped_column(DecimalText)
    max_drawdown: Mapped[Decimal | None] = mapped_column(DecimalText)
    max_var: Mapped[Decimal | None] = mapped_column(DecimalText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EquityMarkRow(Base):
    __tablename__ = "risk_equity_marks"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    day_start_equity: Mapped[Decimal] = mapped_column(DecimalText)
    peak_equity: Mapped[Decimal] = mapped_column(DecimalText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertStateRow(Base):
    __tablename__ = "risk_alert_states"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    alert_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    severity: Mapped[str] = mapped_column(String(12))
    value: Mapped[Decimal] = mapped_column(DecimalText(allow_infinite=True))  # no equity: infinite
    limit: Mapped[Decimal] = mapped_column(DecimalText)
    symbol: Mapped[str | None] = mapped_column(String(32))
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskAlertRow(Base):
    __tablename__ = "risk_alerts"
    __table_args__ = (Index("ix_risk_alerts_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    alert_type: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(12))
    severity: Mapped[str] = mapped_column(String(12))
    value: Mapped[Decimal] = mapped_column(DecimalText(allow_infinite=True))  # no equity: infinite
    limit: Mapped[Decimal] = mapped_column(DecimalText)
    symbol: Mapped[str | None] = mapped_column(String(32))
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertSettingsRow(Base):
    __tablename__ = "alert_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    severities: Mapped[str] = mapped_column(String(64))  # comma-separated Severity values
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # HH:MM local time
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    report_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    report_time: Mapped[str] = mapped_column(String(5))
    last_report_on: Mapped[date | None] = mapped_column(Date)
    last_report_equity: Mapped[Decimal | None] = mapped_column(DecimalText)
    last_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
