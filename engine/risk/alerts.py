"""Alert rules: which conditions break a limit, how badly, and when a message is due.

Severity is set by how far the value is past its limit, ``value / limit - 1``:

    up to 10 % past   LOW
    up to 25 % past   MEDIUM
    up to 50 % past   HIGH
    more than 50 %    CRITICAL

(for a 20 % drawdown limit: 22 % is LOW, 25 % MEDIUM, 30 % HIGH, 31 % CRITICAL).
An alert is sent when a condition starts, again only when it goes past the
highest severity already reported in that episode, and a "back within limits"
message when it ends. Staying put, or easing to a lower band, sends nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from engine.common.ids import new_id
from engine.risk.limits import RiskLimits
from engine.risk.models import AlertKind, AlertState, AlertType, RiskAlert, Severity

SEVERITY_BANDS: tuple[tuple[Decimal, Severity], ...] = (
    (Decimal("0.10"), Severity.LOW),
    (Decimal("0.25"), Severity.MEDIUM),
    (Decimal("0.50"), Severity.HIGH),
)


def severity_for(value: Decimal, limit: Decimal) -> Severity | None:
    """The severity of ``value`` against ``limit``, or None when it is within the limit."""
    if value <= limit:
        return None
    if limit <= 0 or value.is_infinite():
        return Severity.CRITICAL
    past = value / limit - 1
    for bound, severity in SEVERITY_BANDS:
        if past <= bound:
            return severity
    return Severity.CRITICAL


@dataclass(frozen=True)
class Breach:
    type: AlertType
    value: Decimal
    limit: Decimal
    severity: Severity
    symbol: str | None = None


@dataclass(frozen=True)
class AlertChange:
    """A message-worthy change of one alert condition."""

    user_id: uuid.UUID
    kind: AlertKind
    type: AlertType
    severity: Severity
    value: Decimal
    limit: Decimal
    symbol: str | None = None
    previous: Severity | None = None  # the severity reported before a worsening


class RiskFigures(NamedTuple):
    """A user's five figures that the scan compares with the limits, each exact."""

    drawdown: Decimal
    daily_loss: Decimal
    position: Decimal  # the largest position as a fraction of equity
    symbol: str | None  # that position's symbol
    leverage: Decimal
    var: Decimal


def breaches(figures: RiskFigures, limits: RiskLimits) -> dict[AlertType, Breach]:
    """Return a Breach for every limit the figures are past, in the order of AlertType."""
    measures = (
        (AlertType.DRAWDOWN_LIMIT, figures.drawdown, limits.max_drawdown, None),
        (AlertType.DAILY_LOSS, figures.daily_loss, limits.max_daily_loss, None),
        (AlertType.POSITION_SIZE, figures.position, limits.max_position, figures.symbol),
        (AlertType.LEVERAGE_LIMIT, figures.leverage, limits.max_leverage, None),
        (AlertType.VAR_EXCEEDED, figures.var, limits.max_var, None),
    )
    found = {}
    for alert_type, value, limit, where in measures:
        if value > limit:  # severity_for returns None otherwise, and most users are within every limit
            found[alert_type] = Breach(alert_type, value, limit, severity_for(value, limit), where)  # type: ignore[arg-type]
    return found


def evaluate(
    user_id: uuid.UUID, alert_type: AlertType, state: AlertState | None, breach: Breach | None, now: datetime
) -> tuple[AlertState | None, AlertChange | None]:
    """Return the new state of the condition (None: it holds no more) and the change to report, if any."""
    if breach is None:
        if state is None:
            return None, None
        cleared = AlertChange(
            user_id, AlertKind.CLEARED, alert_type, state.severity, state.value, state.limit, state.symbol
        )
        return None, cleared

    if state is None:
        opened = AlertState(
            user_id, alert_type, breach.severity, breach.value, breach.limit, now, now, breach.symbol
        )
        raised = AlertChange(
            user_id, AlertKind.RAISED, alert_type, breach.severity, breach.value, breach.limit, breach.symbol
        )
        return opened, raised

    if breach.severity.rank > state.severity.rank:
        worse = AlertState(
            user_id,
            alert_type,
            breach.severity,
            breach.value,
            breach.limit,
            state.opened_at,
            now,
            breach.symbol,
            state.notified,
        )
        change = AlertChange(
            user_id,
            AlertKind.WORSENED,
            alert_type,
            breach.severity,
            breach.value,
            breach.limit,
            breach.symbol,
            previous=state.severity,
        )
        return worse, change
    return state, None  # unchanged, or eased within the episode: nothing to say


def stored_alert(change: AlertChange, delivered: bool, now: datetime) -> RiskAlert:
    return RiskAlert(
        id=new_id(),
        user_id=change.user_id,
        type=change.type,
        kind=change.kind,
        severity=change.severity,
        value=change.value,
        limit=change.limit,
        created_at=now,
        symbol=change.symbol,
        delivered=delivered,
    )
