"""Drawdowns of a value series: depth, amount and how long the worst one lasted.

A drawdown at step t is ``value_t / max(value_0..value_t) - 1`` (0 or
negative), the definition empyrical's ``max_drawdown`` uses. For a return
series the values are ``cumprod(1 + r)`` anchored at 1, so a loss in the very
first period is already a drawdown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from engine.analytics.returns import as_float_array


@dataclass(frozen=True)
class DrawdownEpisode:
    """The deepest drawdown of a series.

    ``depth`` is a fraction (``-0.25`` is 25 % below the peak) and ``amount``
    the fall from peak to trough in the series' unit. The indexes point into
    the value series; ``recovery_index`` is the first step back at the peak,
    or None when the series ends below it. ``periods`` counts steps from the
    peak to the recovery, or to the last step when not recovered.
    """

    depth: float
    amount: float
    peak_index: int
    trough_index: int
    recovery_index: int | None
    periods: int

    @property
    def recovered(self) -> bool:
        return self.recovery_index is not None


def drawdown_series(values: ArrayLike) -> np.ndarray:
    """Return ``value / running_max - 1`` for every step of a positive value series."""
    series = as_float_array(values)
    if series.size == 0:
        return series
    peaks = np.maximum.accumulate(series)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peaks > 0, series / np.where(peaks > 0, peaks, 1.0) - 1.0, 0.0)


def values_from_returns(returns: ArrayLike, start: float = 1.0) -> np.ndarray:
    """Return ``start`` followed by ``start * cumprod(1 + r)``: one value more than returns."""
    series = as_float_array(returns)
    return np.concatenate(([start], start * np.cumprod(1.0 + series)))


def max_drawdown(returns: ArrayLike) -> float | None:
    """Return the deepest drawdown of a return series as a fraction <= 0 (empyrical ``max_drawdown``)."""
    series = as_float_array(returns)
    if series.size == 0:
        return None
    return float(drawdown_series(values_from_returns(series)).min())


def worst_episode(values: ArrayLike) -> DrawdownEpisode | None:
    """Find the deepest drawdown of a value series; None with fewer than two values.

    A series that never falls below its running peak gives an episode of
    depth 0 and length 0.
    """
    series = as_float_array(values)
    if series.size < 2:
        return None
    drawdowns = drawdown_series(series)
    trough = int(np.argmin(drawdowns))
    peak = int(np.argmax(series[: trough + 1]))
    depth = float(drawdowns[trough])
    if depth >= 0:
        return DrawdownEpisode(0.0, 0.0, trough, trough, trough, 0)

    back = np.nonzero(series[trough:] >= series[peak])[0]
    recovery = trough + int(back[0]) if back.size else None
    end = recovery if recovery is not None else series.size - 1
    return DrawdownEpisode(
        depth=depth,
        amount=float(series[peak] - series[trough]),
        peak_index=peak,
        trough_index=trough,
        recovery_index=recovery,
        periods=end - peak,
    )
