"""Performance figures of a value series (equity snapshots or a static portfolio).

All figures follow ``engine.analytics.returns`` (simple returns, ddof=1,
risk-free rate 0) and ``engine.analytics.drawdown``. Calmar is the compound
annual growth rate divided by the absolute maximum drawdown (empyrical
``calmar_ratio``). Undefined figures are None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from engine.analytics import returns as stats
from engine.analytics.drawdown import DrawdownEpisode, drawdown_series, max_drawdown, worst_episode


@dataclass(frozen=True)
class BenchmarkFigures:
    """How the series moved against a benchmark over the same periods."""

    symbol: str
    total_return: float | None
    alpha: float | None
    beta: float | None
    correlation: float | None


@dataclass(frozen=True)
class PerformanceFigures:
    """Return, risk-adjusted ratios and drawdown of one value series.

    Fractions are plain floats (``0.05`` is 5 %); amounts are in the unit of
    the values. ``periods`` counts returns, one fewer than values.
    """

    start_value: float
    end_value: float
    periods: int
    periods_per_year: float
    total_return: float | None
    total_return_amount: float
    annual_return: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float | None
    drawdown: DrawdownEpisode | None
    benchmark: BenchmarkFigures | None = None


def calmar_ratio(returns: ArrayLike, periods_per_year: float = stats.DAILY_PERIODS_PER_YEAR) -> float | None:
    """Return ``annual_return / |max_drawdown|``; None without a drawdown (empyrical gives NaN)."""
    series = stats.as_float_array(returns)
    depth = max_drawdown(series)
    growth = stats.annual_return(series, periods_per_year)
    if depth is None or growth is None or depth >= 0:
        return None
    return growth / abs(depth)


def performance_of_values(
    values: ArrayLike,
    periods_per_year: float = stats.DAILY_PERIODS_PER_YEAR,
    benchmark: tuple[str, ArrayLike] | None = None,
) -> PerformanceFigures:
    """Compute every figure of a value series sampled at equal periods.

    ``benchmark`` is a symbol and its prices at the same moments as
    ``values``; alpha, beta and correlation compare the two return series.
    """
    series = stats.as_float_array(values)
    if series.size == 0:
        raise ValueError("performance needs at least one value")
    returns = stats.simple_returns(series)
    depth = float(drawdown_series(series).min()) if series.size > 1 else None
    return PerformanceFigures(
        start_value=float(series[0]),
        end_value=float(series[-1]),
        periods=int(returns.size),
        periods_per_year=periods_per_year,
        total_return=stats.cumulative_return(returns),
        total_return_amount=float(series[-1] - series[0]),
        annual_return=stats.annual_return(returns, periods_per_year),
        volatility=stats.annual_volatility(returns, periods_per_year),
        sharpe=stats.sharpe_ratio(returns, periods_per_year),
        sortino=stats.sortino_ratio(returns, periods_per_year),
        calmar=calmar_ratio(returns, periods_per_year),
        max_drawdown=depth,
        drawdown=worst_episode(series),
        benchmark=_benchmark_figures(returns, benchmark, periods_per_year),
    )


def _benchmark_figures(
    returns: np.ndarray, benchmark: tuple[str, ArrayLike] | None, periods_per_year: float
) -> BenchmarkFigures | None:
    if benchmark is None:
        return None
    symbol, prices = benchmark
    factor = stats.simple_returns(prices)
    if factor.shape != returns.shape:
        raise ValueError(f"benchmark has {factor.size} returns, the series {returns.size}")
    return BenchmarkFigures(
        symbol=symbol,
        total_return=stats.cumulative_return(factor),
        alpha=stats.alpha(returns, factor, periods_per_year),
        beta=stats.beta(returns, factor),
        correlation=stats.correlation(returns, factor),
    )
