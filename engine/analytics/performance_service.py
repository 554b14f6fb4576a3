"""/performance: figures of the user's equity snapshots over a period, trades from fills.

The series is the snapshots taken in the period plus the equity valued now.
Snapshots come at a fixed interval (hourly by default), so the figures are
annualised with ``periods_per_year = 365 days / median interval``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from engine.analytics.insights import Insight, InsightInputs, insights
from engine.analytics.params import Period
from engine.analytics.performance import PerformanceFigures, performance_of_values
from engine.analytics.trades import TradeStats, trade_stats
from engine.common.clock import Clock
from engine.portfolio.cost_basis import book_fills
from engine.portfolio.models import EquitySnapshot
from engine.portfolio.service import PortfolioService
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class PerformanceReport:
    """``figures`` is None with fewer than two equity points; ``benchmark`` is None when unknown."""

    period: Period
    start: datetime | None
    end: datetime
    timestamps: list[datetime]
    equity: list[Decimal]
    figures: PerformanceFigures | None
    trades: TradeStats
    benchmark: str | None
    benchmark_missing: bool = False
    insights: list[Insight] = field(default_factory=list)

    def periods_duration(self, count: int) -> timedelta:
        """Convert a count of equity steps to time with the series' median step."""
        if len(self.timestamps) < 2:
            return timedelta(0)
        steps = np.diff([t.timestamp() for t in self.timestamps])
        return timedelta(seconds=float(np.median(steps)) * count)

    def drawdown_duration(self) -> timedelta | None:
        """Time from the worst drawdown's peak to its recovery, or to the last point when not recovered."""
        if self.figures is None or self.figures.drawdown is None:
            return None
        episode = self.figures.drawdown
        end = episode.recovery_index if episode.recovery_index is not None else len(self.timestamps) - 1
        return self.timestamps[end] - self.timestamps[episode.peak_index]


class PerformanceService:
    def __init__(self, uow_factory: UnitOfWorkFactory, portfolio: PortfolioService, clock: Clock) -> None:
        self._uow = uow_factory
        self._portfolio = portfolio
        self._clock = clock

    async def report(self, user: User, period: Period, benchmark: str | None = None) -> PerformanceReport:
        summary = await self._portfolio.summary(user)
        current_benchmarks = await self._portfolio.benchmark_prices()
        now = self._clock.now()
        start = now - period.length if period.length is not None else None
        async with self._uow(read_only=True) as uow:
            snapshots = await uow.portfolio.list_snapshots(user.id, start, now)
            fills = await uow.portfolio.list_fills(user.id)

        live = EquitySnapshot(user.id, now, summary.total, benchmarks=current_benchmarks)
        points = [s for s in snapshots if s.taken_at < now] + [live]
        _books, closed = book_fills(fills)
        stats = trade_stats(closed, since=start)
        figures, missing = _figures(points, benchmark)
        found = insights(
            InsightInputs(
                win_rate=stats.win_rate,
                trades=stats.trades,
                sharpe=figures.sharpe if figures is not None else None,
            )
        )
        return PerformanceReport(
            period=period,
            start=start,
            end=now,
            timestamps=[p.taken_at for p in points],
            equity=[p.equity for p in points],
            figures=figures,
            trades=stats,
            benchmark=benchmark,
            benchmark_missing=missing,
            insights=found,
        )


def _figures(points: list[EquitySnapshot], benchmark: str | None) -> tuple[PerformanceFigures | None, bool]:
    """Return the figures and whether the benchmark was asked for but some point lacks its price."""
    if len(points) < 2:
        return None, False
    values = np.array([float(p.equity) for p in points])
    steps = np.diff([p.taken_at.timestamp() for p in points])
    median_step = float(np.median(steps))
    periods_per_year = YEAR.total_seconds() / median_step if median_step > 0 else 365.0

    prices = None
    missing = False
    if benchmark is not None:
        if all(benchmark in p.benchmarks for p in points):
            prices = (benchmark, np.array([float(p.benchmarks[benchmark]) for p in points]))
        else:
            missing = True
    return performance_of_values(values, periods_per_year, prices), missing
