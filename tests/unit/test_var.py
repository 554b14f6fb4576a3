"""Historical VaR: the convention in engine/risk/var.py checked by hand-computed quantiles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.risk.var import historical_var, historical_var_many, simple_returns


def type7_quantile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (Hyndman and Fan type 7), written out."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def test_simple_returns_of_closes() -> None:
    returns = simple_returns(np.array([[100.0, 10.0], [110.0, 9.0], [99.0, 9.9]]))
    assert returns == pytest.approx(np.array([[0.10, -0.10], [-0.10, 0.10]]))


def test_var_of_a_single_asset_is_the_five_percent_loss_quantile() -> None:
    daily = [(-1) ** i * 0.001 * i for i in range(1, 41)]  # 40 days of returns
    expected = -type7_quantile(daily, 0.05)
    assert historical_var(np.array(daily)[:, None], np.array([1.0])) == pytest.approx(expected)


def test_weights_scale_and_mix_assets() -> None:
    rng = np.random.default_rng(3)
    returns = rng.normal(0, 0.03, size=(250, 2))
    weights = np.array([0.3, -0.2])
    portfolio = list(returns @ weights)
    assert historical_var(returns, weights) == pytest.approx(-type7_quantile(portfolio, 0.05))
    assert historical_var(returns, weights * 2) == pytest.approx(2 * historical_var(returns, weights))


def test_horizon_scales_by_square_root_of_time() -> None:
    returns = np.random.default_rng(5).normal(0, 0.02, size=(300, 1))
    one_day = historical_var(returns, np.array([1.0]))
    assert historical_var(returns, np.array([1.0]), horizon_days=4) == pytest.approx(2 * one_day)


def test_a_portfolio_that_only_gains_has_zero_var() -> None:
    assert historical_var(np.full((30, 1), 0.01), np.array([1.0])) == 0.0


def test_many_portfolios_match_one_by_one() -> None:
    rng = np.random.default_rng(11)
    returns = rng.normal(0, 0.04, size=(365, 5))
    table = rng.uniform(-0.5, 0.5, size=(20, 5))
    together = historical_var_many(returns, table, confidence=0.99)
    alone = [historical_var(returns, row, confidence=0.99) for row in table]
    assert together == pytest.approx(np.array(alone))


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_confidence_outside_zero_and_one_is_rejected(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        historical_var(np.zeros((10, 1)), np.array([1.0]), confidence=confidence)


@given(st.lists(st.floats(-0.5, 0.5), min_size=2, max_size=200), st.floats(0.0, 3.0))
def test_var_is_never_negative_and_grows_with_exposure(daily: list[float], weight: float) -> None:
    returns = np.array(daily)[:, None]
    small = historical_var(returns, np.array([weight]))
    large = historical_var(returns, np.array([weight * 2]))
    assert small >= 0
    assert large == pytest.approx(2 * small, abs=1e-12)
