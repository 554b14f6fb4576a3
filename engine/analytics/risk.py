"""Risk of a portfolio of held assets from their daily return history.

Inputs are the aligned return matrix ``R`` (one row per day, one column per
held asset other than cash) and each asset's weight, its value as a fraction
of the whole portfolio (cash included, so the weights may sum to less than 1).
The portfolio's return series is ``R @ w`` (rebalanced daily to today's
weights), the usual historical-simulation assumption.

- VaR and CVaR follow ``engine.analytics.var`` (losses as fractions, square-root-of-time horizon).
- Volatility is annualised: ``std(R @ w, ddof=1) * sqrt(P)``.
- Diversification ratio: ``sum(|w_i| * sigma_i) / sigma_p`` (1 for a single
  asset, higher when assets offset each other).
- Concentration: the largest position's weight, and the Herfindahl-Hirschman
  index ``sum(s_i ** 2)`` of each asset's share ``s_i`` of the assets' total
  (1 for a single asset, ``1/k`` for ``k`` equal positions).
- Per position: standalone historical VaR of the position's own P&L,
  and the Euler decomposition of the parametric VaR:
  marginal VaR ``m_i = scale * (-mu_i + z * (Sigma w)_i / sigma_p)`` (VaR per unit
  of weight), component VaR ``w_i * m_i`` (the components add up to the
  portfolio's parametric VaR), and the contribution ``component / VaR``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from engine.analytics import var
from engine.analytics.returns import DAILY_PERIODS_PER_YEAR, annual_volatility, as_float_array
from engine.analytics.stress import (
    StressResult,
    StressScenario,
    apply_scenario,
    betas_to,
    builtin_scenarios,
    worst_day_scenarios,
)


@dataclass(frozen=True)
class PositionRisk:
    asset: str
    weight: float
    volatility: float | None
    standalone_var: float | None
    marginal_var: float | None
    component_var: float | None
    contribution: float | None


@dataclass(frozen=True)
class RiskFigures:
    """Risk of the portfolio as fractions of its value; ``observations`` counts return days."""

    assets: list[str]
    observations: int
    var: var.VarFigures
    volatility: float | None
    diversification_ratio: float | None
    largest_asset: str | None
    largest_weight: float | None
    hhi: float | None
    positions: list[PositionRisk]
    correlation: np.ndarray
    stress: list[StressResult] = field(default_factory=list)


@dataclass(frozen=True)
class RiskInputs:
    """What ``compute_risk`` needs; ``factors`` holds return series of unheld assets used as betas' base."""

    asset_returns: np.ndarray
    assets: Sequence[str]
    weights: np.ndarray
    confidence: float = 0.95
    horizon_hours: float = var.DAY_HOURS
    period_hours: float = var.DAY_HOURS
    periods_per_year: float = DAILY_PERIODS_PER_YEAR
    days: Sequence[date] = ()
    scenarios: Sequence[StressScenario] = ()
    factors: Mapping[str, np.ndarray] = field(default_factory=dict)


def compute_risk(inputs: RiskInputs) -> RiskFigures:
    """Compute every risk figure of the portfolio at once (vectorised over assets)."""
    matrix = as_float_array(inputs.asset_returns).reshape(-1, len(inputs.assets))
    weights = as_float_array(inputs.weights)
    portfolio = matrix @ weights
    figures = var.var_figures(portfolio, inputs.confidence, inputs.horizon_hours, inputs.period_hours)

    covariance = _covariance(matrix)
    sigma = float(math.sqrt(max(weights @ covariance @ weights, 0.0))) if covariance.size else 0.0
    volatilities = np.sqrt(np.clip(np.diag(covariance), 0.0, None)) if covariance.size else np.empty(0)

    return RiskFigures(
        assets=list(inputs.assets),
        observations=int(matrix.shape[0]),
        var=figures,
        volatility=annual_volatility(portfolio, inputs.periods_per_year),
        diversification_ratio=float(np.abs(weights) @ volatilities / sigma) if sigma > 0 else None,
        **_concentration(inputs.assets, weights),
        positions=_positions(inputs, matrix, weights, covariance, sigma),
        correlation=_correlation(covariance, matrix.shape[1]),
        stress=_stress(inputs, matrix, weights),
    )


def _covariance(matrix: np.ndarray) -> np.ndarray:
    if matrix.shape[0] < 2 or matrix.shape[1] == 0:
        return np.empty((0, 0))
    return np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1))


def correlation_matrix(matrix: np.ndarray) -> np.ndarray:
    """Return Pearson correlations of the columns; NaN where a column never moves."""
    return _correlation(_covariance(matrix), matrix.shape[1])


def _correlation(covariance: np.ndarray, columns: int) -> np.ndarray:
    if covariance.size == 0:
        return np.full((columns, columns), np.nan)
    deviation = np.sqrt(np.diag(covariance))
    scale = np.outer(deviation, deviation)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(scale > 0, covariance / np.where(scale > 0, scale, 1.0), np.nan)
    np.fill_diagonal(result, np.where(deviation > 0, 1.0, np.nan))
    return result


def _concentration(assets: Sequence[str], weights: np.ndarray) -> dict[str, object]:
    sizes = np.abs(weights)
    total = float(sizes.sum())
    if not assets or total <= 0:
        return {"largest_asset": None, "largest_weight": None, "hhi": None}
    largest = int(np.argmax(sizes))
    shares = sizes / total
    return {
        "largest_asset": assets[largest],
        "largest_weight": float(sizes[largest]),
        "hhi": float(shares @ shares),
    }


def _positions(
    inputs: RiskInputs, matrix: np.ndarray, weights: np.ndarray, covariance: np.ndarray, sigma: float
) -> list[PositionRisk]:
    if matrix.shape[0] == 0:
        return [
            PositionRisk(asset, float(weight), None, None, None, None, None)
            for asset, weight in zip(inputs.assets, weights, strict=True)
        ]

    standalone = var.historical_var_columns(
        matrix * weights, inputs.confidence, inputs.horizon_hours, inputs.period_hours
    )
    # The covariance diagonal holds each asset's sample variance (ddof=1).
    variances = np.clip(np.diag(covariance), 0.0, None) if covariance.size else None
    yearly = np.sqrt(variances * inputs.periods_per_year) if variances is not None else None
    marginal = component = contribution = None
    if sigma > 0:
        scale = var.horizon_scale(inputs.horizon_hours, inputs.period_hours)
        z = var.normal_quantile(inputs.confidence)
        marginal = scale * (-matrix.mean(axis=0) + z * (covariance @ weights) / sigma)
        component = weights * marginal
        total = float(component.sum())
        contribution = component / total if total != 0 else None

    return [
        PositionRisk(
            asset=asset,
            weight=float(weights[i]),
            volatility=float(yearly[i]) if yearly is not None else None,
            standalone_var=float(standalone[i]),
            marginal_var=_item(marginal, i),
            component_var=_item(component, i),
            contribution=_item(contribution, i),
        )
        for i, asset in enumerate(inputs.assets)
    ]


def _item(values: np.ndarray | None, index: int) -> float | None:
    return None if values is None else float(values[index])


def _stress(inputs: RiskInputs, matrix: np.ndarray, weights: np.ndarray) -> list[StressResult]:
    scenarios = list(inputs.scenarios) or builtin_scenarios()
    if inputs.days and matrix.shape[0]:
        scenarios = worst_day_scenarios(matrix, inputs.assets, inputs.days) + scenarios
    betas: dict[str, dict[str, float]] = {}
    results = []
    for scenario in scenarios:
        base = scenario.beta_to or ""
        if base not in betas:
            betas[base] = _betas(scenario, inputs, matrix)
        results.append(apply_scenario(scenario, inputs.assets, weights, betas[base]))
    return results


def _betas(scenario: StressScenario, inputs: RiskInputs, matrix: np.ndarray) -> dict[str, float]:
    base = scenario.beta_to
    if base is None or matrix.shape[0] < 2:
        return {}
    if base in inputs.assets:
        factor = matrix[:, list(inputs.assets).index(base)]
    elif base in inputs.factors and inputs.factors[base].shape[0] == matrix.shape[0]:
        factor = inputs.factors[base]
    else:
        return {}
    return dict(zip(inputs.assets, betas_to(matrix, factor).tolist(), strict=True))
