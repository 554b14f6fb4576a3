"""Value at risk (VaR) and conditional value at risk (CVaR) of a return series.

This is the one VaR implementation of PATRIOT: /risk, ``patriot analytics``
and the risk-limit checks call these functions.

Conventions
-----------
- Input: simple returns of equal periods, oldest first, as a 1-D array (or a
  2-D array with one column per asset for the ``*_columns`` variants). The
  period is one day unless ``period_hours`` says otherwise.
- Output: a loss as a fraction of the value at the start of the horizon, so
  ``0.05`` means 5 % may be lost. A negative result means the quantile is a
  gain. None when the series is too short (historical: empty; parametric:
  fewer than two returns).
- Historical VaR is the loss at the ``1 - confidence`` quantile of the
  returns, with numpy's linear interpolation (empyrical ``value_at_risk``).
- Historical CVaR is the mean loss of the worst ``floor((n - 1) * (1 - c)) + 1``
  returns, i.e. of the returns at or beyond the VaR quantile (empyrical
  ``conditional_value_at_risk``).
- Parametric VaR and CVaR assume normally distributed returns with the
  sample mean and the sample standard deviation (``ddof=1``):
  ``VaR = -mu + z * sigma`` and ``CVaR = -mu + sigma * pdf(z) / (1 - c)``
  with ``z`` the standard normal quantile at ``c``. quantstats'
  ``value_at_risk`` is this parametric VaR expressed as a (negative) return.
- Horizon: the square-root-of-time rule. The one-period figure is
  multiplied by ``sqrt(horizon_hours / period_hours)``, so a 24 h VaR from
  daily returns is the daily VaR and a 720 h VaR is ``sqrt(30)`` times it.
  The rule assumes independent returns; it understates risk after trending
  or volatility-clustered periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from engine.analytics.returns import as_float_array

DAY_HOURS = 24.0
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class VarFigures:
    """VaR and CVaR of one series at one confidence and horizon, as loss fractions."""

    confidence: float
    horizon_hours: float
    historical_var: float | None
    historical_cvar: float | None
    parametric_var: float | None
    parametric_cvar: float | None


def horizon_scale(horizon_hours: float, period_hours: float = DAY_HOURS) -> float:
    """Return ``sqrt(horizon_hours / period_hours)``, the square-root-of-time factor."""
    if horizon_hours <= 0 or period_hours <= 0:
        raise ValueError(f"horizon and period must be positive, got {horizon_hours} h and {period_hours} h")
    return math.sqrt(horizon_hours / period_hours)


def normal_quantile(confidence: float) -> float:
    """Return ``z`` with ``P(Z <= z) = confidence`` for a standard normal Z."""
    _check_confidence(confidence)
    return _STANDARD_NORMAL.inv_cdf(confidence)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")


def historical_var_columns(
    returns: ArrayLike, confidence: float, horizon_hours: float = DAY_HOURS, period_hours: float = DAY_HOURS
) -> np.ndarray:
    """Return the historical VaR of each column of a 2-D return array (see the module conventions)."""
    _check_confidence(confidence)
    ordered = np.sort(as_float_array(returns), axis=0)
    return -lower_quantile(ordered, 1 - confidence) * horizon_scale(horizon_hours, period_hours)


def lower_quantile(ordered: np.ndarray, probability: float) -> np.ndarray:
    """Return the ``probability`` quantile of each column of an ascending-sorted array.

    Linear interpolation between the order statistics around ``(n - 1) * p``,
    numpy's default ``percentile`` method, without numpy's generic overhead.
    """
    position = (ordered.shape[0] - 1) * probability
    below = math.floor(position)
    above = min(below + 1, ordered.shape[0] - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def historical_cvar_columns(
    returns: ArrayLike, confidence: float, horizon_hours: float = DAY_HOURS, period_hours: float = DAY_HOURS
) -> np.ndarray:
    """Return the historical CVaR of each column of a 2-D return array (see the module conventions)."""
    _check_confidence(confidence)
    matrix = as_float_array(returns)
    cutoff = int((matrix.shape[0] - 1) * (1 - confidence))
    tail = np.partition(matrix, cutoff, axis=0)[: cutoff + 1]
    return -tail.mean(axis=0) * horizon_scale(horizon_hours, period_hours)


def parametric_var_columns(
    returns: ArrayLike, confidence: float, horizon_hours: float = DAY_HOURS, period_hours: float = DAY_HOURS
) -> np.ndarray:
    """Return the normal VaR ``-mu + z * sigma`` of each column, horizon-scaled."""
    matrix = as_float_array(returns)
    z = normal_quantile(confidence)
    mean, deviation = matrix.mean(axis=0), matrix.std(axis=0, ddof=1)
    return (-mean + z * deviation) * horizon_scale(horizon_hours, period_hours)


def parametric_cvar_columns(
    returns: ArrayLike, confidence: float, horizon_hours: float = DAY_HOURS, period_hours: float = DAY_HOURS
) -> np.ndarray:
    """Return the normal CVaR ``-mu + sigma * pdf(z) / (1 - c)`` of each column, horizon-scaled."""
    matrix = as_float_array(returns)
    z = normal_quantile(confidence)
    mean, deviation = matrix.mean(axis=0), matrix.std(axis=0, ddof=1)
    tail_mean = _STANDARD_NORMAL.pdf(z) / (1 - confidence)
    return (-mean + deviation * tail_mean) * horizon_scale(horizon_hours, period_hours)


def _single(values: np.ndarray) -> float:
    return float(values[0])


def historical_var(
    returns: ArrayLike,
    confidence: float = 0.95,
    horizon_hours: float = DAY_HOURS,
    period_hours: float = DAY_HOURS,
) -> float | None:
    """Return the historical VaR of a 1-D return series as a loss fraction; None when empty."""
    series = as_float_array(returns)
    if series.size == 0:
        return None
    return _single(historical_var_columns(series[:, None], confidence, horizon_hours, period_hours))


def historical_cvar(
    returns: ArrayLike,
    confidence: float = 0.95,
    horizon_hours: float = DAY_HOURS,
    period_hours: float = DAY_HOURS,
) -> float | None:
    """Return the historical CVaR of a 1-D return series as a loss fraction; None when empty."""
    series = as_float_array(returns)
    if series.size == 0:
        return None
    return _single(historical_cvar_columns(series[:, None], confidence, horizon_hours, period_hours))


def parametric_var(
    returns: ArrayLike,
    confidence: float = 0.95,
    horizon_hours: float = DAY_HOURS,
    period_hours: float = DAY_HOURS,
) -> float | None:
    """Return the normal VaR of a 1-D return series; None with fewer than two returns."""
    series = as_float_array(returns)
    if series.size < 2:
        return None
    return _single(parametric_var_columns(series[:, None], confidence, horizon_hours, period_hours))


def parametric_cvar(
    returns: ArrayLike,
    confidence: float = 0.95,
    horizon_hours: float = DAY_HOURS,
    period_hours: float = DAY_HOURS,
) -> float | None:
    """Return the normal CVaR of a 1-D return series; None with fewer than two returns."""
    series = as_float_array(returns)
    if series.size < 2:
        return None
    return _single(parametric_cvar_columns(series[:, None], confidence, horizon_hours, period_hours))


def var_figures(
    returns: ArrayLike,
    confidence: float = 0.95,
    horizon_hours: float = DAY_HOURS,
    period_hours: float = DAY_HOURS,
) -> VarFigures:
    """Compute all four figures of one series at once."""
    series = as_float_array(returns)
    return VarFigures(
        confidence=confidence,
        horizon_hours=horizon_hours,
        historical_var=historical_var(series, confidence, horizon_hours, period_hours),
        historical_cvar=historical_cvar(series, confidence, horizon_hours, period_hours),
        parametric_var=parametric_var(series, confidence, horizon_hours, period_hours),
        parametric_cvar=parametric_cvar(series, confidence, horizon_hours, period_hours),
    )
