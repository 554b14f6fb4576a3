"""Price impact of a market order, estimated by walking the order book."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.common.money import ZERO
from engine.exchanges.models import OrderBook
from engine.orders.models import OrderSide


@dataclass(frozen=True)
class PriceImpact:
    """Expected move of a market order's average price away from the best price.

    ``fraction`` is ``(average - best) / best`` for a buy and
    ``(best - average) / best`` for a sell. ``covered`` is False when the
    book shown by the exchange is not deep enough for the whole quantity.
    The average then covers only the book's volume.
    """

    best_price: Decimal
    average_price: Decimal
    fraction: Decimal
    covered: bool

    def exceeds(self, max_slippage: Decimal) -> bool:
        return not self.covered or self.fraction > max_slippage


def estimate_impact(book: OrderBook, side: OrderSide, quantity: Decimal) -> PriceImpact | None:
    """Walk the ask side (buy) or bid side (sell) for ``quantity``; None when it is empty."""
    levels = book.asks if side is OrderSide.BUY else book.bids
    if not levels or quantity <= ZERO:
        return None

    remaining, cost = quantity, ZERO
    for level in levels:
        piece = min(remaining, level.quantity)
        cost += piece * level.price
        remaining -= piece
        if remaining <= ZERO:
            break

    filled = quantity - remaining
    best = levels[0].price
    average = cost / filled if filled > ZERO else best
    moved = average - best if side is OrderSide.BUY else best - average
    return PriceImpact(
        best_price=best, average_price=average, fraction=moved / best, covered=remaining <= ZERO
    )
