"""Observations about a portfolio in plain words, as codes with the figures behind them.

The bot turns each code into a sentence. The thresholds are rules of thumb:
one position above 30 % of equity is concentrated, a win rate under 40 %
over at least ``MIN_TRADES`` trades is low, and a Sharpe ratio above 2 is
unusually high (often a short or lucky sample).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

CONCENTRATION_LIMIT = 0.30
WIN_RATE_FLOOR = Decimal("0.40")
SHARPE_CEILING = 2.0
MIN_TRADES = 5


class InsightCode(StrEnum):
    CONCENTRATED = "concentrated"
    LOW_WIN_RATE = "low_win_rate"
    HIGH_SHARPE = "high_sharpe"
    VAR_OVER_LIMIT = "var_over_limit"
    VAR_WITHIN_LIMIT = "var_within_limit"


@dataclass(frozen=True)
class Insight:
    code: InsightCode
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def is_warning(self) -> bool:
        return self.code is not InsightCode.VAR_WITHIN_LIMIT


@dataclass(frozen=True)
class InsightInputs:
    """Figures the rules read; None where a figure is not known."""

    weights: dict[str, float] = field(default_factory=dict)
    var95: float | None = None
    var_limit: Decimal | None = None
    win_rate: Decimal | None = None
    trades: int = 0
    sharpe: float | None = None


def insights(inputs: InsightInputs) -> list[Insight]:
    """Apply every rule; warnings first, in a fixed order."""
    found = [
        Insight(InsightCode.CONCENTRATED, {"asset": asset, "weight": weight})
        for asset, weight in sorted(inputs.weights.items(), key=lambda item: -item[1])
        if weight > CONCENTRATION_LIMIT
    ]
    if inputs.var95 is not None and inputs.var_limit is not None:
        # The float's shortest repr, so a VaR printed as the limit is not over it.
        over = Decimal(repr(inputs.var95)) > inputs.var_limit
        code = InsightCode.VAR_OVER_LIMIT if over else InsightCode.VAR_WITHIN_LIMIT
        found.append(Insight(code, {"var": inputs.var95, "limit": inputs.var_limit}))
    if inputs.win_rate is not None and inputs.trades >= MIN_TRADES and inputs.win_rate < WIN_RATE_FLOOR:
        found.append(
            Insight(InsightCode.LOW_WIN_RATE, {"win_rate": inputs.win_rate, "trades": inputs.trades})
        )
    if inputs.sharpe is not None and inputs.sharpe > SHARPE_CEILING:
        found.append(Insight(InsightCode.HIGH_SHARPE, {"sharpe": inputs.sharpe}))
    return sorted(found, key=lambda insight: not insight.is_warning)
