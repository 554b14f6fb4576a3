"""Risk records: equity marks, alert states and alerts, and each user's alert settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from engine.accounts.models import Account
from engine.common.money import ZERO
from engine.risk.limits import PersonalLimits, RiskLimits
from engine.users.models import RiskProfile


@dataclass(frozen=True)
class PreTradeInputs:
    """The user's accounts, limits and equity marks that the pre-trade risk checks read from the database."""

    user_id: uuid.UUID
    accounts: list[Account]
    profile_limits: dict[RiskProfile, RiskLimits]
    personal_limits: PersonalLimits | None
    marks: EquityMarks | None


@dataclass
class EquityMarks:
    """A user's equity at the start of the UTC day and its highest value seen, kept by the risk scan.

    Daily loss is measured from ``day_start_equity`` and drawdown from
    ``peak_equity``. Deposits and withdrawals count as gains and losses.
    """

    user_id: uuid.UUID
    day: date  # the UTC day whose first scan set day_start_equity
    day_start_equity: Decimal
    peak_equity: Decimal
    updated_at: datetime

    @classmethod
    def first(cls, user_id: uuid.UUID, equity: Decimal, now: datetime) -> EquityMarks:
        return cls(user_id, now.date(), equity, equity, now)

    def advanced(self, equity: Decimal, now: datetime) -> EquityMarks | None:
        """Return the marks after seeing ``equity`` at ``now``, or None when nothing changes."""
        day, start = self.day, self.day_start_equity
        if now.date() != day:
            day, start = now.date(), equity
        peak = max(self.peak_equity, equity)
        if day == self.day and peak == self.peak_equity:
            return None
        return EquityMarks(self.user_id, day, start, peak, now)

    def daily_loss(self, equity: Decimal, now: datetime) -> Decimal:
        """Loss since the start of the UTC day as a fraction of that day's starting equity (0 for a gain)."""
        if now.date() != self.day or self.day_start_equity <= ZERO:
            return ZERO
        return max(self.day_start_equity - equity, ZERO) / self.day_start_equity

    def drawdown(self, equity: Decimal) -> Decimal:
        """Fall from the highest equity seen, as a fraction of it."""
        peak = max(self.peak_equity, equity)
        if peak <= ZERO:
            return ZERO
        return max(peak - equity, ZERO) / peak


class AlertType(StrEnum):
    DRAWDOWN_LIMIT = "drawdown_limit"
    DAILY_LOSS = "daily_loss"
    POSITION_SIZE = "position_size"
    LEVERAGE_LIMIT = "leverage_limit"
    VAR_EXCEEDED = "var_exceeded"


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


class AlertKind(StrEnum):
    RAISED = "RAISED"
    WORSENED = "WORSENED"
    CLEARED = "CLEARED"


@dataclass
class AlertState:
    """An alert condition that holds now; one per user and type.

    ``severity`` is the highest severity reported in this episode: an alert is
    sent again only when the condition goes past it.
    """

    user_id: uuid.UUID
    type: AlertType
    severity: Severity
    value: Decimal
    limit: Decimal
    opened_at: datetime
    updated_at: datetime
    symbol: str | None = None
    notified: bool = False  # whether any message of this episode was pushed to the user


@dataclass
class RiskAlert:
    """One stored alert event: raised, worsened or cleared."""

    id: uuid.UUID
    user_id: uuid.UUID
    type: AlertType
    kind: AlertKind
    severity: Severity
    value: Decimal
    limit: Decimal
    created_at: datetime
    symbol: str | None = None
    delivered: bool = False  # pushed to the user (False: filtered out by their settings)


DEFAULT_REPORT_TIME = time(20, 0)


@dataclass
class AlertSettings:
    """What a user wants pushed: severities, quiet hours and the daily P&L report."""

    user_id: uuid.UUID
    severities: frozenset[Severity] = field(default_factory=lambda: frozenset(Severity))
    quiet_start: time | None = None  # local time in the user's zone
    quiet_end: time | None = None
    report_enabled: bool = False
    report_time: time = DEFAULT_REPORT_TIME
    last_report_on: date | None = None  # the user's local date of the last report
    last_report_equity: Decimal | None = None
    last_report_at: datetime | None = None

    def receives(self, severity: Severity) -> bool:
        """CRITICAL alerts are always delivered, whatever the settings."""
        return severity is Severity.CRITICAL or severity in self.severities

    def quiet_until(self, now: datetime, timezone: str) -> datetime | None:
        """If ``now`` falls in the quiet hours, return (in UTC) when they end; else None."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return None
        zone = ZoneInfo(timezone)
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        inside = start <= clock < end if start < end else clock >= start or clock < end
        if not inside:
            return None
        end_day = local.date() if clock < end else local.date() + timedelta(days=1)
        return datetime.combine(end_day, end, tzinfo=zone).astimezone(now.tzinfo)

    def report_due(self, now: datetime, timezone: str) -> bool:
        """True once a day, after the chosen local time, when the report is switched on."""
        if not self.report_enabled:
            return False
        local = now.astimezone(ZoneInfo(timezone))
        if self.last_report_on is not None and self.last_report_on >= local.date():
            return False
        return local.time().replace(tzinfo=None) >= self.report_time


@dataclass(frozen=True)
class DailyReport:
    """The figures of one daily P&L report."""

    equity: Decimal
    change: Decimal | None  # equity change since ``since``; None for the first report without marks
    change_fraction: Decimal | None
    since: datetime | None
    positions: dict[str, Decimal]
    open_alerts: list[AlertState]
