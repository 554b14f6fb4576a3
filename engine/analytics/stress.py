"""Stress scenarios: what the portfolio loses when prices jump at once.

A scenario gives a return per asset. Held assets it does not name either
move by a common shock (``others``), by their beta to a named asset times
that asset's shock (``beta_to``), or not at all. Every shocked return is
floored at -100 %. The portfolio's result is ``sum(weight * shock)`` as a
fraction of its value; cash and stablecoins do not move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np

from engine.analytics.returns import as_float_array

BTC_CRASH = -0.20
MARKET_CRASH = -0.40


class ScenarioKind(StrEnum):
    WORST_DAY = "worst_day"  # the history's worst day of one asset, replayed for every asset
    ASSET_SHOCK = "asset_shock"  # one asset falls, the others follow by their beta to it
    MARKET = "market"  # every asset falls by the same fraction
    CUSTOM = "custom"  # stored by an admin


@dataclass(frozen=True)
class StressScenario:
    name: str
    kind: ScenarioKind
    shocks: Mapping[str, float] = field(default_factory=dict)
    others: float | None = None
    beta_to: str | None = None
    day: date | None = None


@dataclass(frozen=True)
class StressResult:
    scenario: StressScenario
    asset_shocks: dict[str, float]
    portfolio_return: float


def builtin_scenarios() -> list[StressScenario]:
    """BTC -20 % with the others following by beta, and the whole market -40 %."""
    return [
        StressScenario("BTC", ScenarioKind.ASSET_SHOCK, shocks={"BTC": BTC_CRASH}, beta_to="BTC"),
        StressScenario("market", ScenarioKind.MARKET, others=MARKET_CRASH),
    ]


def worst_day_scenarios(
    asset_returns: np.ndarray, assets: Sequence[str], days: Sequence[date]
) -> list[StressScenario]:
    """One scenario per day that was some asset's lowest return, replaying every asset's return that day.

    Assets whose worst day is the same day share one scenario, named after all of them.
    """
    matrix = as_float_array(asset_returns)
    if matrix.shape[0] == 0:
        return []
    worst_rows = np.argmin(matrix, axis=0)
    scenarios = []
    for row in sorted(set(worst_rows.tolist()), key=lambda r: list(worst_rows).index(r)):
        named = ", ".join(asset for column, asset in enumerate(assets) if worst_rows[column] == row)
        shocks = {name: float(matrix[row, index]) for index, name in enumerate(assets)}
        scenarios.append(StressScenario(named, ScenarioKind.WORST_DAY, shocks=shocks, day=days[row]))
    return scenarios


def betas_to(asset_returns: np.ndarray, factor_returns: np.ndarray) -> np.ndarray:
    """Return each column's beta to the factor series, ``cov(r, f) / var(f)`` (0 if ``f`` is flat)."""
    matrix = as_float_array(asset_returns)
    centred = as_float_array(factor_returns) - np.mean(factor_returns)
    variance = float(centred @ centred) / centred.size
    if variance < 1e-30:
        return np.zeros(matrix.shape[1])
    return (centred @ matrix) / centred.size / variance


def apply_scenario(
    scenario: StressScenario,
    assets: Sequence[str],
    weights: np.ndarray,
    betas: Mapping[str, float] | None = None,
) -> StressResult:
    """Shock each held asset as the scenario says and return the portfolio's result.

    ``betas`` maps each asset to its beta to ``scenario.beta_to``; an asset
    without a beta does not move in such a scenario.
    """
    shocks: dict[str, float] = {}
    for asset in assets:
        shocks[asset] = max(_shock_of(scenario, asset, betas or {}), -1.0)
    vector = np.array([shocks[asset] for asset in assets])
    return StressResult(
        scenario=scenario,
        asset_shocks=shocks,
        portfolio_return=float(as_float_array(weights) @ vector) if assets else 0.0,
    )


def _shock_of(scenario: StressScenario, asset: str, betas: Mapping[str, float]) -> float:
    if asset in scenario.shocks:
        return scenario.shocks[asset]
    if scenario.beta_to is not None and scenario.beta_to in scenario.shocks:
        return betas.get(asset, 0.0) * scenario.shocks[scenario.beta_to]
    if scenario.others is not None:
        return scenario.others
    return 0.0
