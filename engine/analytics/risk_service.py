"""/risk: the risk of what the user holds now, from daily price history up to the market's "now".

With the PAPER replay the market's "now" is the replay's recorded time, so
the history ends where the prices the trader sees come from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import numpy as np

from engine.analytics import var
from engine.analytics.insights import Insight, InsightInputs, insights
from engine.analytics.limits import LIMIT_CONFIDENCE, LIMIT_HORIZON_HOURS, VarLimitLookup
from engine.analytics.ports import ReturnHistory
from engine.analytics.returns import simple_returns
from engine.analytics.risk import RiskFigures, RiskInputs, compute_risk
from engine.analytics.stress import StressScenario, builtin_scenarios
from engine.common.clock import Clock
from engine.common.money import ZERO
from engine.market.ports import PriceFeed
from engine.market.replay import ReplayPriceFeed
from engine.portfolio.models import USD_STABLE, VALUATION_ASSET, PortfolioSummary
from engine.portfolio.service import PortfolioService
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)

DEFAULT_LOOKBACK_DAYS = 365
BETA_BASE = "BTC"


def market_clock(prices: PriceFeed, clock: Clock) -> Callable[[], datetime]:
    """Return a function giving the market's current time: replay time under the PAPER replay."""
    if isinstance(prices, ReplayPriceFeed) and prices.symbols():
        symbol = prices.symbols()[0]
        return lambda: prices.replay_time(symbol)
    return clock.now


@dataclass(frozen=True)
class RiskReport:
    """Risk of the user's portfolio; fractions in ``figures`` apply to ``equity``.

    ``exposures`` are the USDT values by asset (negative for shorts),
    ``no_history`` the held assets left out of the figures for lack of price
    history, ``stale_accounts`` the accounts valued from their last stored
    valuation.
    """

    equity: Decimal
    cash: Decimal
    exposures: dict[str, Decimal]
    history_end: datetime
    figures: RiskFigures | None
    var_limit: Decimal
    limit_var: float | None
    insights: list[Insight]
    no_history: list[str] = field(default_factory=list)
    stale_accounts: list[str] = field(default_factory=list)

    def amount(self, fraction: float) -> Decimal:
        """Convert a fraction of equity to USDT (exact Decimal of the float, rounded only for display)."""
        return self.equity * Decimal(repr(fraction))


class RiskService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        portfolio: PortfolioService,
        history: ReturnHistory,
        market_now: Callable[[], datetime],
        limits: VarLimitLookup,
        *,
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    ) -> None:
        self._uow = uow_factory
        self._portfolio = portfolio
        self._history = history
        self._market_now = market_now
        self._limits = limits
        self._lookback_days = lookback_days

    async def report(self, user: User, confidence: float = 0.95, horizon_hours: float = 24.0) -> RiskReport:
        summary = await self._portfolio.summary(user)
        async with self._uow(read_only=True) as uow:
            stored = await uow.analytics.list_scenarios()
        scenarios = builtin_scenarios() + [scenario.to_stress() for scenario in stored]
        limit = await self._limits.var_limit(user)
        return self.assess(summary, confidence, horizon_hours, scenarios, limit)

    def assess(
        self,
        summary: PortfolioSummary,
        confidence: float,
        horizon_hours: float,
        scenarios: list[StressScenario],
        var_limit: Decimal,
    ) -> RiskReport:
        """Compute the report from a valued portfolio (no I/O besides reading the history files)."""
        exposures, cash = _exposures(summary)
        known = set(self._history.symbols())
        assets = sorted(a for a in exposures if f"{a}/{VALUATION_ASSET}" in known and exposures[a] != ZERO)
        end = self._market_now()
        equity = summary.total

        figures = limit_var = None
        if assets and equity > ZERO:
            figures, limit_var = self._figures(
                assets, exposures, equity, end, confidence, horizon_hours, scenarios
            )
        weights = {a: float(abs(exposures[a]) / equity) for a in assets} if equity > ZERO else {}
        found = insights(InsightInputs(weights=weights, var95=limit_var, var_limit=var_limit))
        return RiskReport(
            equity=equity,
            cash=cash,
            exposures=exposures,
            history_end=end,
            figures=figures,
            var_limit=var_limit,
            limit_var=limit_var,
            insights=found,
            no_history=sorted(a for a in exposures if a not in assets),
            stale_accounts=[v.account.name for v in summary.unreachable],
        )

    def _figures(
        self,
        assets: list[str],
        exposures: dict[str, Decimal],
        equity: Decimal,
        end: datetime,
        confidence: float,
        horizon_hours: float,
        scenarios: list[StressScenario],
    ) -> tuple[RiskFigures, float | None]:
        columns = assets if BETA_BASE in assets else [*assets, BETA_BASE]
        symbols = [f"{asset}/{VALUATION_ASSET}" for asset in columns]
        closes = self._history.close_matrix(symbols, end, self._lookback_days + 1)
        returns = simple_returns(closes) if closes.size else np.empty((0, len(columns)))
        held = returns[:, : len(assets)]
        factors = {BETA_BASE: returns[:, -1]} if BETA_BASE not in assets and returns.size else {}
        weights = np.array([float(exposures[asset] / equity) for asset in assets])

        figures = compute_risk(
            RiskInputs(
                asset_returns=held,
                assets=assets,
                weights=weights,
                confidence=confidence,
                horizon_hours=horizon_hours,
                days=self._return_days(symbols[0], end, held.shape[0]),
                scenarios=scenarios,
                factors=factors,
            )
        )
        limit_var = var.historical_var(held @ weights, LIMIT_CONFIDENCE, LIMIT_HORIZON_HOURS)
        return figures, limit_var

    def _return_days(self, symbol: str, end: datetime, count: int) -> list[date]:
        """The day of each return row: the daily candles whose closes end the rows."""
        closes = self._history.daily_closes(symbol, end, count)
        return [opened.date() for opened, _close in closes] if count else []


def _exposures(summary: PortfolioSummary) -> tuple[dict[str, Decimal], Decimal]:
    """Sum the signed USDT value of every position by base asset, and the stablecoin cash."""
    exposures: dict[str, Decimal] = {}
    for position in summary.positions:
        value = position.signed_value
        if value is not None:
            exposures[position.base_asset] = exposures.get(position.base_asset, ZERO) + value
        else:
            exposures.setdefault(position.base_asset, ZERO)
    cash = sum(
        (
            h.value
            for a in summary.accounts
            for h in a.holdings
            if h.asset in USD_STABLE and h.value is not None
        ),
        ZERO,
    )
    return exposures, cash
