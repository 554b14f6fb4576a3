"""Return series and the statistics built directly on them.

Conventions, the ones empyrical and quantstats use:

- simple returns ``r_t = p_t / p_(t-1) - 1``;
- sample standard deviation (``ddof=1``);
- risk-free rate 0;
- 365 periods a year for daily crypto data unless the caller says otherwise.

Every function returns ``None`` where its figure is not defined (too few
points, zero dispersion), never NaN or infinity, so a caller can print
"not enough data" instead of a number.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

DAILY_PERIODS_PER_YEAR = 365
HOURS_PER_YEAR = 365 * 24


def as_float_array(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def simple_returns(prices: ArrayLike) -> np.ndarray:
    """Return ``p_t / p_(t-1) - 1`` along axis 0; one row fewer than ``prices``.

    A step that starts from a value of 0 or less (an emptied account) has no
    defined return and counts as 0.
    """
    values = as_float_array(prices)
    if values.shape[0] < 2:
        return np.empty((0, *values.shape[1:]))
    previous, current = values[:-1], values[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(previous > 0, current / np.where(previous > 0, previous, 1.0) - 1.0, 0.0)
    return returns


def portfolio_returns(asset_returns: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """Return the series of a portfolio rebalanced to ``weights`` every period (``R @ w``).

    Weights are fractions of the portfolio's value; what they leave to 1 is
    cash with a return of 0.
    """
    return as_float_array(asset_returns) @ as_float_array(weights)


def cumulative_return(returns: ArrayLike) -> float | None:
    """Return the compounded return ``prod(1 + r) - 1``; None for an empty series."""
    series = as_float_array(returns)
    if series.size == 0:
        return None
    return float(np.prod(1.0 + series) - 1.0)


def annual_return(returns: ArrayLike, periods_per_year: float = DAILY_PERIODS_PER_YEAR) -> float | None:
    """Return the compound annual growth rate ``(1 + total) ** (P / n) - 1`` (empyrical ``annual_return``)."""
    series = as_float_array(returns)
    total = cumulative_return(series)
    if total is None:
        return None
    growth = 1.0 + total
    if growth <= 0:
        return -1.0
    return float(growth ** (periods_per_year / series.size) - 1.0)


def _is_constant(series: np.ndarray) -> bool:
    # The mean of identical floats can differ from them in the last bit, which
    # would leave a standard deviation of about 1e-18 instead of exactly 0.
    return bool(series.max() == series.min())


def annual_volatility(returns: ArrayLike, periods_per_year: float = DAILY_PERIODS_PER_YEAR) -> float | None:
    """Return ``std(r, ddof=1) * sqrt(P)``; None with fewer than two returns."""
    series = as_float_array(returns)
    if series.size < 2:
        return None
    if _is_constant(series):
        return 0.0
    return float(series.std(ddof=1) * math.sqrt(periods_per_year))


def sharpe_ratio(returns: ArrayLike, periods_per_year: float = DAILY_PERIODS_PER_YEAR) -> float | None:
    """Return ``mean(r) / std(r, ddof=1) * sqrt(P)`` with a risk-free rate of 0.

    None with fewer than two returns or when every return is the same (zero
    volatility), where empyrical gives NaN or infinity.
    """
    series = as_float_array(returns)
    if series.size < 2 or _is_constant(series):
        return None
    return float(series.mean() / series.std(ddof=1) * math.sqrt(periods_per_year))


def downside_risk(returns: ArrayLike, periods_per_year: float = DAILY_PERIODS_PER_YEAR) -> float | None:
    """Return ``sqrt(mean(min(r, 0) ** 2)) * sqrt(P)``: every period counts, gains as 0 (empyrical)."""
    series = as_float_array(returns)
    if series.size == 0:
        return None
    shortfall = np.minimum(series, 0.0)
    return float(np.sqrt(np.mean(shortfall * shortfall)) * math.sqrt(periods_per_year))


def sortino_ratio(returns: ArrayLike, periods_per_year: float = DAILY_PERIODS_PER_YEAR) -> float | None:
    """Return ``mean(r) * P / downside_risk`` with a required return of 0 (empyrical ``sortino_ratio``).

    quantstats' ``sortino`` is the same number: it divides ``mean(r)`` by
    ``sqrt(sum(min(r, 0) ** 2) / n)`` and multiplies by ``sqrt(P)``. None with
    fewer than two returns or no losing period, where empyrical gives infinity.
    """
    series = as_float_array(returns)
    risk = downside_risk(series, periods_per_year)
    if series.size < 2 or not risk:
        return None
    return float(series.mean() * periods_per_year / risk)


def beta(returns: ArrayLike, benchmark: ArrayLike) -> float | None:
    """Return ``cov(r, b) / var(b)`` of aligned series (empyrical ``beta``); None if ``b`` is flat."""
    series, factor = as_float_array(returns), as_float_array(benchmark)
    if series.size < 2 or series.shape != factor.shape:
        return None
    centred = factor - factor.mean()
    variance = float(np.mean(centred * centred))
    if variance < 1e-30:
        return None
    return float(np.mean(centred * series) / variance)


def alpha(
    returns: ArrayLike, benchmark: ArrayLike, periods_per_year: float = DAILY_PERIODS_PER_YEAR
) -> float | None:
    """Return the annualised alpha ``(1 + mean(r - beta * b)) ** P - 1`` (empyrical ``alpha``)."""
    series, factor = as_float_array(returns), as_float_array(benchmark)
    slope = beta(series, factor)
    if slope is None:
        return None
    excess = float(np.mean(series - slope * factor))
    return float((1.0 + excess) ** periods_per_year - 1.0)


def correlation(returns: ArrayLike, benchmark: ArrayLike) -> float | None:
    """Return the Pearson correlation of aligned series; None if either is flat or too short."""
    series, factor = as_float_array(returns), as_float_array(benchmark)
    if series.size < 2 or series.shape != factor.shape or _is_constant(series) or _is_constant(factor):
        return None
    return float(np.corrcoef(series, factor)[0, 1])
