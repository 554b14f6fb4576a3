"""Expected price, cost and fee of an order at the current market."""

from __future__ import annotations

from decimal import Decimal

from engine.market.models import Market, Ticker
from engine.orders.drafts import OrderEstimate
from engine.orders.models import OrderRequest, OrderSide


def expected_price(request: OrderRequest, ticker: Ticker) -> Decimal:
    """Return the price an order is expected to execute at.

    A market order takes the side of the book it meets. A limit order does
    too when the book is already inside its limit, so a buy limit above the
    ask fills at the ask. Otherwise it waits for its limit.
    """
    taken = (ticker.ask or ticker.last) if request.side is OrderSide.BUY else (ticker.bid or ticker.last)
    if request.price is None:
        return taken
    if request.type.needs_stop_price:
        return request.price
    if request.side is OrderSide.BUY:
        return min(request.price, taken)
    return max(request.price, taken)


def estimate_order(
    request: OrderRequest, market: Market, ticker: Ticker, taker_fee: Decimal
) -> OrderEstimate:
    """Estimate at the taker fee, paid in the quote asset.

    NOTE: where a buy's fee is charged in the base asset (Binance without BNB,
    PAPER with PAPER_BUY_FEE_IN_BASE), the estimate still shows its value in
    the quote asset.
    """
    price = expected_price(request, ticker)
    cost = request.quantity * price
    return OrderEstimate(
        price=price,
        quantity=request.quantity,
        cost=cost,
        fee=cost * taker_fee,
        fee_asset=market.quote,
    )
