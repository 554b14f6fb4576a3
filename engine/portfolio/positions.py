"""Open positions built from valued holdings (spot) and from the exchange's report (derivatives)."""

from __future__ import annotations

from collections.abc import Mapping

from engine.common.money import ZERO
from engine.portfolio.cost_basis import CostBasis, PositionKey
from engine.portfolio.models import (
    USD_STABLE,
    VALUATION_ASSET,
    AccountValuation,
    DerivativePosition,
    Holding,
    Position,
    PositionSide,
)


def build_positions(
    valuations: list[AccountValuation], books: Mapping[PositionKey, CostBasis]
) -> list[Position]:
    """Return every non-stablecoin holding as a long spot position, then each derivative position.

    The spot entry price is the average cost from PATRIOT's fills; it is
    None when the holding did not come from them, and so is the PnL.
    """
    positions: list[Position] = []
    for valuation in valuations:
        for holding in valuation.holdings:
            if holding.asset not in USD_STABLE and holding.total > ZERO:
                positions.append(_spot_position(valuation, holding, books))
        positions.extend(_derivative_position(valuation, item) for item in valuation.derivatives)
    positions.sort(key=lambda p: p.value if p.value is not None else ZERO, reverse=True)
    return positions


def _spot_position(
    valuation: AccountValuation, holding: Holding, books: Mapping[PositionKey, CostBasis]
) -> Position:
    symbol = f"{holding.asset}/{VALUATION_ASSET}"
    book = books.get((valuation.account.id, symbol))
    entry = book.average_price if book is not None else None
    pnl = (holding.price - entry) * holding.total if entry is not None and holding.price is not None else None
    return Position(
        account_id=valuation.account.id,
        account_name=valuation.account.name,
        symbol=symbol,
        side=PositionSide.LONG,
        size=holding.total,
        entry_price=entry,
        mark_price=holding.price,
        value=holding.value,
        unrealized_pnl=pnl,
        is_stale=not valuation.is_live,
    )


def _derivative_position(valuation: AccountValuation, item: DerivativePosition) -> Position:
    value = item.size * item.mark_price if item.mark_price is not None else None
    return Position(
        account_id=valuation.account.id,
        account_name=valuation.account.name,
        symbol=item.symbol,
        side=item.side,
        size=item.size,
        entry_price=item.entry_price,
        mark_price=item.mark_price,
        value=value,
        unrealized_pnl=item.unrealized_pnl,
        is_derivative=True,
        leverage=item.leverage,
        margin=item.margin,
        liquidation_price=item.liquidation_price,
        is_stale=not valuation.is_live,
    )
