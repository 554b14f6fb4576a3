"""The /performance text."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.formatting import esc, moment, number
from bot.views.figures import duration, pct, ratio, usdt
from bot.views.insights import insight_lines
from engine.analytics.performance_service import PerformanceReport
from engine.analytics.trades import TradeStats
from engine.users.models import User


def performance_text(report: PerformanceReport, user: User, snapshot_minutes: int) -> str:
    locale = user.language
    start = report.timestamps[0] if report.timestamps else report.end
    lines = [
        _("📊 <b>Performance, {period}</b>: {start} – {end}").format(
            period=esc(report.period.value),
            start=moment(start, user.timezone, locale),
            end=moment(report.end, user.timezone, locale),
        )
    ]
    figures = report.figures
    if figures is None:
        lines.append(
            _("Not enough equity snapshots in this period yet: one is taken every {minutes} minutes.").format(
                minutes=snapshot_minutes
            )
        )
    else:
        lines += _figure_lines(report, locale)
    lines += _trade_lines(report.trades, locale)
    if report.benchmark_missing:
        lines.append(_("The benchmark has no price at some snapshots of this period, so it is left out."))
    lines += insight_lines(report.insights, locale)
    return "\n".join(lines)


def _figure_lines(report: PerformanceReport, locale: str) -> list[str]:
    figures = report.figures
    assert figures is not None
    lines = [
        _("Equity: {start} → {end}").format(
            start=usdt(figures.start_value, locale), end=usdt(figures.end_value, locale)
        ),
        _("Total return: {amount} ({percent})").format(
            amount=usdt(figures.total_return_amount, locale, signed=True),
            percent=pct(figures.total_return, locale, signed=True),
        ),
        _("Annualised return: {cagr} · volatility: {volatility}").format(
            cagr=pct(figures.annual_return, locale), volatility=pct(figures.volatility, locale)
        ),
        _("Sharpe: {sharpe} · Sortino: {sortino} · Calmar: {calmar}").format(
            sharpe=ratio(figures.sharpe, locale),
            sortino=ratio(figures.sortino, locale),
            calmar=ratio(figures.calmar, locale),
        ),
    ]
    episode = figures.drawdown
    if episode is None or episode.depth == 0:
        lines.append(_("Max drawdown: none in this period."))
    else:
        template = (
            _("Max drawdown: {amount} ({percent}), {duration} from peak to recovery")
            if episode.recovered
            else _("Max drawdown: {amount} ({percent}), not recovered after {duration}")
        )
        span = report.drawdown_duration()
        lines.append(
            template.format(
                amount=usdt(-episode.amount, locale),
                percent=pct(episode.depth, locale),
                duration=duration(span) if span is not None else "",
            )
        )
    if figures.benchmark is not None:
        bench = figures.benchmark
        lines.append(
            _(
                "Against {symbol} ({benchmark_return}): alpha {alpha}, beta {beta}, correlation {correlation}"
            ).format(
                symbol=esc(bench.symbol.partition("/")[0]),
                benchmark_return=pct(bench.total_return, locale, signed=True),
                alpha=pct(bench.alpha, locale),
                beta=ratio(bench.beta, locale),
                correlation=ratio(bench.correlation, locale),
            )
        )
    lines.append(
        _("From {points} equity points, annualised with {periods} periods a year; risk-free rate 0.").format(
            points=figures.periods + 1, periods=number(Decimal(round(figures.periods_per_year)), locale)
        )
    )
    return lines


def _trade_lines(stats: TradeStats, locale: str) -> list[str]:
    if stats.trades == 0:
        return [_("Trades: none closed in this period (a trade is a sale that reduces a position).")]
    factor = ratio(stats.profit_factor, locale) if stats.profit_factor is not None else _("no losing trades")
    return [
        _(
            "Trades: {trades} (wins {wins}, losses {losses}) · win rate {win_rate} · profit factor {factor}"
        ).format(
            trades=stats.trades,
            wins=stats.wins,
            losses=stats.losses,
            win_rate=pct(stats.win_rate, locale, places=1),
            factor=factor,
        ),
        _("Realized PnL from these trades: {pnl}").format(pnl=usdt(stats.realized_pnl, locale, signed=True)),
    ]
