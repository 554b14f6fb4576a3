"""Texts about risk limits: limit names and values, pre-trade figures, alerts and the daily report."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.formatting import esc, moment, money, number, percent
from bot.i18n import localized
from engine.common.money import ZERO
from engine.portfolio.service import VALUATION_ASSET
from engine.risk.alerts import AlertChange
from engine.risk.limits import LimitName, RiskLimits
from engine.risk.models import AlertKind, AlertState, AlertType, DailyReport, RiskAlert, Severity
from engine.risk.ports import Recipient
from engine.risk.pretrade import CheckResult
from engine.users.models import User

SEVERITY_MARKS = {Severity.LOW: "🟡", Severity.MEDIUM: "🟠", Severity.HIGH: "🔴", Severity.CRITICAL: "🚨"}


def limit_label(name: LimitName) -> str:
    return {
        LimitName.MAX_POSITION: _("max position"),
        LimitName.MAX_ORDER: _("max order"),
        LimitName.MAX_LEVERAGE: _("max leverage"),
        LimitName.MAX_DAILY_LOSS: _("max daily loss"),
        LimitName.MAX_DRAWDOWN: _("max drawdown"),
        LimitName.MAX_VAR: _("VaR 95 % (24 h)"),
    }[name]


def limit_value(name: LimitName, value: Decimal, locale: str) -> str:
    """Format a leverage as a multiple (``3×``) and every other limit as a percentage of equity."""
    if value.is_infinite():
        return "∞"
    if name.is_multiple:
        return f"{number(value, locale, places=2 if value % 1 else 0)}×"
    return percent(value, locale)


def alert_type_name(alert_type: AlertType) -> str:
    return {
        AlertType.DRAWDOWN_LIMIT: _("drawdown"),
        AlertType.DAILY_LOSS: _("daily loss"),
        AlertType.POSITION_SIZE: _("position size"),
        AlertType.LEVERAGE_LIMIT: _("leverage"),
        AlertType.VAR_EXCEEDED: _("value at risk"),
    }[alert_type]


def severity_name(severity: Severity) -> str:
    names = {
        Severity.LOW: _("low"),
        Severity.MEDIUM: _("medium"),
        Severity.HIGH: _("high"),
        Severity.CRITICAL: _("critical"),
    }
    return f"{SEVERITY_MARKS[severity]} {names[severity]}"


ALERT_LIMITS = {
    AlertType.DRAWDOWN_LIMIT: LimitName.MAX_DRAWDOWN,
    AlertType.DAILY_LOSS: LimitName.MAX_DAILY_LOSS,
    AlertType.POSITION_SIZE: LimitName.MAX_POSITION,
    AlertType.LEVERAGE_LIMIT: LimitName.MAX_LEVERAGE,
    AlertType.VAR_EXCEEDED: LimitName.MAX_VAR,
}


def alert_condition(
    alert_type: AlertType, value: Decimal, limit: Decimal, symbol: str | None, locale: str
) -> str:
    """Describe in one sentence the measured value against the limit."""
    name = ALERT_LIMITS[alert_type]
    figures = {"value": limit_value(name, value, locale), "limit": limit_value(name, limit, locale)}
    if alert_type is AlertType.DRAWDOWN_LIMIT:
        return _("Your equity is {value} below its peak; your limit is {limit}.").format(**figures)
    if alert_type is AlertType.DAILY_LOSS:
        return _("You have lost {value} of your equity today (UTC); your limit is {limit}.").format(**figures)
    if alert_type is AlertType.POSITION_SIZE:
        return _("{symbol} is {value} of your equity; your limit is {limit}.").format(
            symbol=esc(symbol or "-"), **figures
        )
    if alert_type is AlertType.LEVERAGE_LIMIT:
        return _("Your leverage is {value}; your limit is {limit}.").format(**figures)
    return _("Your 95 % one-day value at risk is {value} of equity; your limit is {limit}.").format(**figures)


def alert_text(user: Recipient, change: AlertChange) -> str:
    """Render the push for a raised, worsened or cleared alert in the current locale."""
    locale = user.language
    kind = alert_type_name(change.type)
    if change.kind is AlertKind.CLEARED:
        return "\n".join(
            [
                _("✅ <b>Back within limits: {kind}</b>").format(kind=kind),
                _("The alert ({severity}) no longer applies.").format(
                    severity=severity_name(change.severity)
                ),
            ]
        )
    if change.kind is AlertKind.WORSENED and change.previous is not None:
        header = _("{mark} <b>Risk alert worsened: {kind}</b> — {severity} (was {previous})").format(
            mark=SEVERITY_MARKS[change.severity],
            kind=kind,
            severity=severity_name(change.severity),
            previous=severity_name(change.previous),
        )
    else:
        header = _("{mark} <b>Risk alert: {kind}</b> — {severity}").format(
            mark=SEVERITY_MARKS[change.severity], kind=kind, severity=severity_name(change.severity)
        )
    return "\n".join(
        [
            header,
            alert_condition(change.type, change.value, change.limit, change.symbol, locale),
            _(
                "Reduce your positions to get back within the limit. "
                "/portfolio shows them; /alerts sets which alerts you get."
            ),
        ]
    )


def alert_history_line(alert: RiskAlert, timezone: str, locale: str) -> str:
    when = moment(alert.created_at, timezone, locale)
    kind = alert_type_name(alert.type)
    if alert.kind is AlertKind.CLEARED:
        return _("{when}: ✅ {kind} back within limits").format(when=when, kind=kind)
    name = ALERT_LIMITS[alert.type]
    return _("{when}: {severity} {kind} {value} (limit {limit})").format(
        when=when,
        severity=severity_name(alert.severity),
        kind=kind,
        value=limit_value(name, alert.value, locale),
        limit=limit_value(name, alert.limit, locale),
    )


def open_alert_line(state: AlertState, locale: str) -> str:
    condition = alert_condition(state.type, state.value, state.limit, state.symbol, locale)
    return f"{SEVERITY_MARKS[state.severity]} {condition}"


def limits_lines(limits: RiskLimits, locale: str) -> list[str]:
    return [f"{limit_label(name)}: {limit_value(name, limits.get(name), locale)}" for name in LimitName]


# -- pre-trade figures on the confirmation card ---------------------------------------

RISK_CHECK_LIMITS = {
    "order_size": LimitName.MAX_ORDER,
    "position_size": LimitName.MAX_POSITION,
    "leverage": LimitName.MAX_LEVERAGE,
    "daily_loss": LimitName.MAX_DAILY_LOSS,
    "drawdown": LimitName.MAX_DRAWDOWN,
    "var": LimitName.MAX_VAR,
}


def risk_check_name(name: str) -> str | None:
    return {
        "order_size": _("order size"),
        "position_size": _("position after"),
        "leverage": _("leverage after"),
        "daily_loss": _("daily loss"),
        "drawdown": _("drawdown"),
        "var": _("VaR 95 % (24 h) after"),
    }.get(name)


def risk_check_detail(result: CheckResult, locale: str) -> str:
    """`` 4.35 % of equity (limit 10 %)`` for a risk check; empty for other checks."""
    limit_name = RISK_CHECK_LIMITS.get(result.name)
    value, limit = result.figures.get("value"), result.figures.get("limit")
    if limit_name is None or value is None or limit is None:
        return ""
    detail = _(": {value} (limit {limit})").format(
        value=limit_value(limit_name, value, locale), limit=limit_value(limit_name, limit, locale)
    )
    if result.figures.get("reduces_risk"):
        detail += _(", reduces risk")
    return detail


def stop_loss_line(results: tuple[CheckResult, ...], locale: str) -> str | None:
    for result in results:
        loss = result.figures.get("stop_loss")
        if loss is not None:
            return _("Loss at the stop: {loss} ({fraction} of equity), fees included").format(
                loss=money(loss, VALUATION_ASSET, locale),
                fraction=percent(result.figures.get("stop_loss_fraction", ZERO), locale),
            )
    return None


# -- daily report ---------------------------------------------------------------------


def daily_report_text(user: User, report: DailyReport) -> str:
    locale = user.language
    lines = [
        _("📊 <b>Daily report</b>"),
        _("Equity: {equity}").format(equity=money(report.equity, VALUATION_ASSET, locale)),
    ]
    if report.change is not None:
        sign = "+" if report.change >= ZERO else "−"
        change = f"{sign}{money(abs(report.change), VALUATION_ASSET, locale)}"
        if report.change_fraction is not None:
            change += f" ({sign}{percent(abs(report.change_fraction), locale)})"
        if report.since is not None:
            lines.append(
                _("Change since the last report ({since}): {change}").format(
                    since=moment(report.since, user.timezone, locale), change=change
                )
            )
        else:
            lines.append(_("Change today (UTC): {change}").format(change=change))
    if report.positions:
        lines.append(_("Positions:"))
        for symbol, value in sorted(report.positions.items(), key=lambda item: -abs(item[1])):
            lines.append(f"  {esc(symbol)}: {money(value, VALUATION_ASSET, locale)}")
    else:
        lines.append(_("No open positions."))
    if report.open_alerts:
        lines.append(_("Limits broken now:"))
        lines.extend(f"  {open_alert_line(state, locale)}" for state in report.open_alerts)
    return "\n".join(lines)


class RiskTexts:
    """The bot's renderer of risk pushes (engine port RiskRenderer), in each recipient's language."""

    def __init__(self, i18n: I18n) -> None:
        self._i18n = i18n

    def alert(self, user: Recipient, change: AlertChange) -> str:
        with localized(self._i18n, user.language):
            return alert_text(user, change)

    def daily_report(self, user: User, report: DailyReport) -> str:
        with localized(self._i18n, user.language):
            return daily_report_text(user, report)
