"""The /risk text: VaR and CVaR, concentration, per-position risk, correlations and stress scenarios."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import esc, number
from bot.views.figures import pct, ratio, to_decimal, usdt
from bot.views.insights import insight_lines
from engine.analytics.risk import RiskFigures
from engine.analytics.risk_service import RiskReport
from engine.analytics.stress import ScenarioKind, StressResult
from engine.users.models import User

TEXT_CORRELATION_ASSETS = 3  # more assets than this get a heat-map picture instead


def risk_text(report: RiskReport, user: User, confidence: float, horizon_hours: float) -> str:
    locale = user.language
    lines = [
        _("🛡 <b>Risk</b> at {confidence} confidence over {hours} h · equity {equity}").format(
            confidence=pct(confidence, locale, places=0),
            hours=int(horizon_hours),
            equity=usdt(report.equity, locale),
        )
    ]
    figures = report.figures
    if figures is None:
        lines.append(_("Nothing at risk: no holdings other than cash with price history."))
    else:
        lines += _summary_lines(report, figures, locale)
        lines += _position_lines(report, figures, locale)
        lines += _correlation_lines(figures, locale)
        lines += _stress_lines(report, figures, locale)
    if report.no_history:
        lines.append(
            _("Left out (no price or no price history): {assets}").format(
                assets=esc(", ".join(report.no_history))
            )
        )
    if report.stale_accounts:
        lines.append(
            _("⚠️ Valued from their last known values: {accounts}").format(
                accounts=esc(", ".join(report.stale_accounts))
            )
        )
    lines += insight_lines(report.insights, locale)
    if figures is not None and len(figures.assets) > 1:
        lines.append(_("Rebalancing suggestions: /rebalance equal, /rebalance invvol, /rebalance parity"))
    return "\n".join(lines)


def _summary_lines(report: RiskReport, figures: RiskFigures, locale: str) -> list[str]:
    var = figures.var

    def loss(fraction: float | None) -> str:
        if fraction is None:
            return pct(None, locale)
        return _("{amount} ({percent})").format(
            amount=usdt(report.amount(fraction), locale), percent=pct(fraction, locale)
        )

    return [
        _(
            "From {days} daily returns up to {date}; the horizon scales the one-day figures by √(hours / 24)."
        ).format(days=figures.observations, date=report.history_end.date().isoformat()),
        _("Historical VaR: {var} · CVaR: {cvar}").format(
            var=loss(var.historical_var), cvar=loss(var.historical_cvar)
        ),
        _("Parametric (normal) VaR: {var} · CVaR: {cvar}").format(
            var=loss(var.parametric_var), cvar=loss(var.parametric_cvar)
        ),
        _("Volatility (annualised): {volatility} · diversification ratio: {ratio}").format(
            volatility=pct(figures.volatility, locale), ratio=ratio(figures.diversification_ratio, locale)
        ),
        _("Concentration: largest {asset} at {weight} of equity · HHI {hhi}").format(
            asset=esc(figures.largest_asset or "-"),
            weight=pct(figures.largest_weight, locale, places=1),
            hhi=ratio(figures.hhi, locale),
        ),
    ]


def _position_lines(report: RiskReport, figures: RiskFigures, locale: str) -> list[str]:
    def money_or_gap(fraction: float | None) -> str:
        return usdt(report.amount(fraction), locale) if fraction is not None else "—"

    lines = ["", _("<b>Per position</b> (component VaR splits the parametric VaR)")]
    for position in figures.positions:
        # Marginal VaR is a loss per unit of exposure; shown per 100 USDT added.
        marginal = position.marginal_var
        lines.append(
            _(
                "{asset} {weight}: VaR {var} · marginal {marginal} per 100 USDT · "
                "component {component} ({share})"
            ).format(
                asset=esc(position.asset),
                weight=pct(position.weight, locale, places=1),
                var=money_or_gap(position.standalone_var),
                marginal=number(to_decimal(marginal) * 100, locale, places=2)
                if marginal is not None
                else "—",
                component=money_or_gap(position.component_var),
                share=pct(position.contribution, locale, places=1),
            )
        )
    return lines


def _correlation_lines(figures: RiskFigures, locale: str) -> list[str]:
    assets = figures.assets
    if len(assets) < 2:
        return []
    if len(assets) > TEXT_CORRELATION_ASSETS:
        return ["", _("Correlation matrix: see the picture.")]
    lines = ["", _("<b>Correlation</b>")]
    for i in range(len(assets)):
        for j in range(i + 1, len(assets)):
            value = float(figures.correlation[i, j])
            lines.append(f"{esc(assets[i])}–{esc(assets[j])}: {ratio(value, locale)}")
    return lines


def _stress_lines(report: RiskReport, figures: RiskFigures, locale: str) -> list[str]:
    lines = ["", _("<b>Stress scenarios</b>")]
    for result in figures.stress:
        lines.append(
            _("{scenario}: {amount} ({percent})").format(
                scenario=scenario_name(result),
                amount=usdt(report.amount(result.portfolio_return), locale, signed=True),
                percent=pct(result.portfolio_return, locale, signed=True),
            )
        )
    return lines


def scenario_name(result: StressResult) -> str:
    scenario = result.scenario
    if scenario.kind is ScenarioKind.WORST_DAY:
        return _("Worst day of {asset} ({day}) replayed").format(
            asset=esc(scenario.name), day=scenario.day.isoformat() if scenario.day else "?"
        )
    if scenario.kind is ScenarioKind.ASSET_SHOCK:
        asset, shock = next(iter(scenario.shocks.items()))
        return _("{asset} {shock}, the others by their beta to it").format(
            asset=esc(asset), shock=f"{round(shock * 100):+d} %"
        )
    if scenario.kind is ScenarioKind.MARKET:
        return _("Whole market {shock}").format(shock=f"{round((scenario.others or 0) * 100):+d} %")
    return _("Scenario “{name}”").format(name=esc(scenario.name))
