"""Rebalancing suggestions: target weights and the market orders that reach them.

Three targets over the assets already held (cash is left as it is, and
the assets' total value stays the same):

- equal weight: ``1/k`` each;
- inverse volatility: ``w_i`` proportional to ``1 / sigma_i``;
- risk parity (equal risk contribution): ``w_i * (Sigma w)_i`` equal for every
  asset, solved by Newton's method on ``Sigma y = 1 / y`` (Spinu 2013), then
  ``w = y / sum(y)``.

Orders are computed in Decimal from the weights: ``|target - current| / price``
rounded down to the market's quantity step. An order below the market's
minimum quantity or cost is left out, a sell never exceeds the free
quantity, and sells come first so their proceeds pay for the buys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np

from engine.common.money import ZERO, floor_to_step
from engine.market.models import Market
from engine.orders.models import OrderSide

NEWTON_STEPS = 100
NEWTON_TOLERANCE = 1e-12


class RebalanceMethod(StrEnum):
    EQUAL = "equal"
    INVERSE_VOLATILITY = "invvol"
    RISK_PARITY = "parity"


@dataclass(frozen=True)
class RebalanceHolding:
    """A held asset that may be rebalanced: its free quantity, current price and value."""

    asset: str
    symbol: str
    quantity: Decimal
    price: Decimal

    @property
    def value(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True)
class RebalanceOrder:
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal  # the price the plan used; the order fills at the market's price then
    target_weight: Decimal

    @property
    def value(self) -> Decimal:
        return self.quantity * self.price


def target_weights(method: RebalanceMethod, asset_returns: np.ndarray) -> np.ndarray:
    """Return weights summing to 1 for the columns of a daily return matrix.

    Falls back to equal weights when a column never moved, because inverse
    volatility and risk parity are undefined for a riskless asset.
    """
    columns = asset_returns.shape[1]
    equal = np.full(columns, 1.0 / columns) if columns else np.empty(0)
    if method is RebalanceMethod.EQUAL or columns < 2 or asset_returns.shape[0] < 2:
        return equal
    covariance = np.atleast_2d(np.cov(asset_returns, rowvar=False, ddof=1))
    variances = np.diag(covariance)
    if np.any(variances <= 0):
        return equal
    if method is RebalanceMethod.INVERSE_VOLATILITY:
        inverse = 1.0 / np.sqrt(variances)
        return inverse / inverse.sum()
    return risk_parity_weights(covariance)


def risk_parity_weights(covariance: np.ndarray) -> np.ndarray:
    """Solve ``Sigma y = 1 / y`` for ``y > 0`` by damped Newton steps; return ``y / sum(y)``."""
    y = 1.0 / np.sqrt(np.diag(covariance))
    for _ in range(NEWTON_STEPS):
        residual = covariance @ y - 1.0 / y
        if np.max(np.abs(residual)) < NEWTON_TOLERANCE:
            break
        jacobian = covariance + np.diag(1.0 / (y * y))
        step = np.linalg.solve(jacobian, residual)
        damping = 1.0
        while np.any(y - damping * step <= 0):
            damping /= 2  # keep every weight positive
        y = y - damping * step
    return y / y.sum()


def plan_orders(
    holdings: Sequence[RebalanceHolding], weights: Mapping[str, float], markets: Mapping[str, Market]
) -> list[RebalanceOrder]:
    """Return the market orders that move ``holdings`` to ``weights`` (by asset), sells first."""
    total = sum((holding.value for holding in holdings), ZERO)
    orders = []
    for holding in holdings:
        market = markets.get(holding.symbol)
        weight = Decimal(repr(weights.get(holding.asset, 0.0)))
        if market is None or holding.price <= ZERO:
            continue
        order = _order_for(holding, total * weight, market, weight)
        if order is not None:
            orders.append(order)
    return sorted(orders, key=lambda order: (order.side is OrderSide.BUY, order.symbol))


def _order_for(
    holding: RebalanceHolding, target: Decimal, market: Market, weight: Decimal
) -> RebalanceOrder | None:
    difference = target - holding.value
    side = OrderSide.BUY if difference > ZERO else OrderSide.SELL
    quantity = floor_to_step(abs(difference) / holding.price, market.amount_step)
    if side is OrderSide.SELL:
        quantity = min(quantity, floor_to_step(holding.quantity, market.amount_step))
    if quantity < market.min_amount or quantity * holding.price < market.min_cost or quantity <= ZERO:
        return None  # too small to trade on this market
    return RebalanceOrder(holding.symbol, side, quantity, holding.price, weight)
