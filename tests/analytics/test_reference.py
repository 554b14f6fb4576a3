"""Every figure against a reference library on the recorded daily candles, to 1e-9 relative.

References: empyrical-reloaded (returns, ratios, drawdown, alpha, beta,
historical VaR and CVaR), pandas (correlations) and scipy (the normal
distribution behind parametric VaR and CVaR). Where a definition differs,
the test converts the reference:

- empyrical's ``value_at_risk`` and ``conditional_value_at_risk`` return the
  quantile as a return (negative for a loss); PATRIOT reports the loss, so
  the reference is negated.
- quantstats' ``value_at_risk`` is the parametric VaR as a return,
  ``norm.ppf(1 - c, mu, sigma)``; the test builds it with scipy and negates it.
- empyrical gives infinity for Sortino without a losing day and NaN for
  Calmar without a drawdown; PATRIOT gives None (see test_edge_cases).
"""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from engine.analytics import returns as figures
from engine.analytics import var
from engine.analytics.drawdown import max_drawdown
from engine.analytics.performance import calmar_ratio
from engine.analytics.rebalance import risk_parity_weights
from engine.analytics.risk import RiskInputs, compute_risk, correlation_matrix

RELATIVE = 1e-9
PERIODS = 365
CONFIDENCES = [0.90, 0.95, 0.975, 0.99]
COLUMNS = range(8)


def close(actual: float | None, expected: float) -> bool:
    assert actual is not None
    return math.isclose(actual, expected, rel_tol=RELATIVE, abs_tol=1e-15)


@pytest.fixture(scope="module")
def portfolio(daily_returns: np.ndarray) -> np.ndarray:
    """A portfolio of 60 % in the first four pairs and 20 % cash, rebalanced daily."""
    weights = np.array([0.2, 0.1, 0.15, 0.15, 0.1, 0.05, 0.0, 0.05])
    return daily_returns @ weights


@pytest.mark.parametrize("column", COLUMNS)
def test_ratios_match_empyrical(daily_returns: np.ndarray, column: int) -> None:
    series = daily_returns[:, column]
    assert close(figures.sharpe_ratio(series, PERIODS), empyrical.sharpe_ratio(series, annualization=PERIODS))
    assert close(
        figures.sortino_ratio(series, PERIODS), empyrical.sortino_ratio(series, annualization=PERIODS)
    )
    assert close(
        figures.annual_volatility(series, PERIODS), empyrical.annual_volatility(series, annualization=PERIODS)
    )
    assert close(
        figures.annual_return(series, PERIODS), empyrical.annual_return(series, annualization=PERIODS)
    )
    assert close(figures.cumulative_return(series), empyrical.cum_returns_final(series))
    assert close(
        figures.downside_risk(series, PERIODS), empyrical.downside_risk(series, annualization=PERIODS)
    )


@pytest.mark.parametrize("column", COLUMNS)
def test_drawdown_and_calmar_match_empyrical(daily_returns: np.ndarray, column: int) -> None:
    series = daily_returns[:, column]
    assert close(max_drawdown(series), empyrical.max_drawdown(series))
    assert close(calmar_ratio(series, PERIODS), empyrical.calmar_ratio(series, annualization=PERIODS))


@pytest.mark.parametrize("column", COLUMNS)
def test_alpha_beta_correlation_against_btc(
    daily_returns: np.ndarray, daily_symbols: list[str], column: int
) -> None:
    series = daily_returns[:, column]
    btc = daily_returns[:, daily_symbols.index("BTC/USDT")]
    expected_alpha, expected_beta = empyrical.alpha_beta(series, btc, annualization=PERIODS)
    assert close(figures.alpha(series, btc, PERIODS), expected_alpha)
    assert close(figures.beta(series, btc), expected_beta)
    assert close(figures.correlation(series, btc), pd.Series(series).corr(pd.Series(btc)))


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_historical_var_and_cvar_match_empyrical(portfolio: np.ndarray, confidence: float) -> None:
    cutoff = 1 - confidence
    assert close(var.historical_var(portfolio, confidence), -empyrical.value_at_risk(portfolio, cutoff))
    assert close(
        var.historical_cvar(portfolio, confidence), -empyrical.conditional_value_at_risk(portfolio, cutoff)
    )


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_parametric_var_and_cvar_match_scipy(portfolio: np.ndarray, confidence: float) -> None:
    mu, sigma = portfolio.mean(), portfolio.std(ddof=1)
    quantstats_style = scipy_stats.norm.ppf(1 - confidence, mu, sigma)  # a return, negative for a loss
    assert close(var.parametric_var(portfolio, confidence), -quantstats_style)

    tail = scipy_stats.norm.expect(lambda x: x, loc=mu, scale=sigma, ub=quantstats_style) / (1 - confidence)
    assert math.isclose(var.parametric_cvar(portfolio, confidence), -tail, rel_tol=1e-8)
    analytic = mu - sigma * scipy_stats.norm.pdf(scipy_stats.norm.ppf(confidence)) / (1 - confidence)
    assert close(var.parametric_cvar(portfolio, confidence), -analytic)


@pytest.mark.parametrize("hours", [1, 24, 48, 720])
def test_horizon_scales_by_square_root_of_time(portfolio: np.ndarray, hours: int) -> None:
    factor = math.sqrt(hours / 24)
    assert close(
        var.historical_var(portfolio, 0.95, hours), -empyrical.value_at_risk(portfolio, 0.05) * factor
    )
    assert close(
        var.historical_cvar(portfolio, 0.95, hours),
        -empyrical.conditional_value_at_risk(portfolio, 0.05) * factor,
    )
    expected = -scipy_stats.norm.ppf(0.05, portfolio.mean(), portfolio.std(ddof=1)) * factor
    assert close(var.parametric_var(portfolio, 0.95, hours), expected)


def test_column_variants_match_single_series(daily_returns: np.ndarray) -> None:
    columns = var.historical_var_columns(daily_returns, 0.95)
    for index in COLUMNS:
        assert close(float(columns[index]), -empyrical.value_at_risk(daily_returns[:, index], 0.05))


def test_correlation_matrix_matches_pandas(daily_returns: np.ndarray) -> None:
    expected = pd.DataFrame(daily_returns).corr().to_numpy()
    np.testing.assert_allclose(correlation_matrix(daily_returns), expected, rtol=RELATIVE)


def test_portfolio_risk_matches_references(daily_returns: np.ndarray, portfolio: np.ndarray) -> None:
    weights = np.array([0.2, 0.1, 0.15, 0.15, 0.1, 0.05, 0.0, 0.05])
    result = compute_risk(RiskInputs(daily_returns, [f"A{i}" for i in COLUMNS], weights))
    assert close(result.var.historical_var, -empyrical.value_at_risk(portfolio, 0.05))
    assert close(result.volatility, empyrical.annual_volatility(portfolio, annualization=PERIODS))

    covariance = pd.DataFrame(daily_returns).cov().to_numpy()
    sigma = math.sqrt(weights @ covariance @ weights)
    expected_ratio = weights @ np.sqrt(np.diag(covariance)) / sigma
    assert close(result.diversification_ratio, expected_ratio)
    shares = weights / weights.sum()
    assert close(result.hhi, float(shares @ shares))
    assert result.largest_weight == 0.2


def test_component_var_adds_up_to_parametric_var(daily_returns: np.ndarray) -> None:
    weights = np.array([0.2, 0.1, 0.15, 0.15, 0.1, 0.05, 0.0, 0.05])
    result = compute_risk(RiskInputs(daily_returns, [f"A{i}" for i in COLUMNS], weights, confidence=0.99))
    components = [p.component_var for p in result.positions]
    assert close(sum(c for c in components if c is not None), result.var.parametric_var or 0.0)
    assert close(sum(p.contribution or 0.0 for p in result.positions), 1.0)


def test_marginal_var_is_the_derivative_of_parametric_var(daily_returns: np.ndarray) -> None:
    weights = np.array([0.2, 0.1, 0.15, 0.15, 0.1, 0.05, 0.0, 0.05])
    result = compute_risk(RiskInputs(daily_returns, [f"A{i}" for i in COLUMNS], weights))
    step = 1e-6
    for index in COLUMNS:
        bumped = weights.copy()
        bumped[index] += step
        up = var.parametric_var(daily_returns @ bumped, 0.95)
        bumped[index] -= 2 * step
        down = var.parametric_var(daily_returns @ bumped, 0.95)
        assert up is not None and down is not None
        derivative = (up - down) / (2 * step)
        assert math.isclose(result.positions[index].marginal_var or 0.0, derivative, rel_tol=1e-6)


def test_risk_parity_equalises_contributions(daily_returns: np.ndarray) -> None:
    covariance = np.cov(daily_returns, rowvar=False, ddof=1)
    weights = risk_parity_weights(covariance)
    contributions = weights * (covariance @ weights)
    assert math.isclose(weights.sum(), 1.0, rel_tol=1e-12)
    np.testing.assert_allclose(contributions, contributions.mean(), rtol=1e-9)
