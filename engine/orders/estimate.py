"""Expected price, cost and fee of an order at the current market."""

from __future__ import annotations

from decimal import Decimal

from engine.market.models import Market, Ticker
from engine.orders.drafts import OrderEstimate
from engine.orders.models import OrderRequest, OrderSide


def expected_price(request: OrderRequest, ticker: Ticker) -> Decimal:
    """The price an order is expected to execute at: its own limit, else the side of the book it takes."""
    if request.price is not None:
        return request.price
    if request.side is OrderSide.BUY:
        return ticker.ask or ticker.last
    return ticker.bid or ticker.last


def estimate_order(
    request: OrderRequest, market: Market, ticker: Ticker, taker_fee: Decimal
) -> OrderEstimate:
    """Estimate at the taker fee, paid in the quote asset as PAPER charges it.

    NOTE: real exchanges may charge a buy's fee in the base asset; the
    estimate still shows its value in the quote asset.
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
