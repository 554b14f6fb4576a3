"""Checks of an order request against the market's rules, before anything is stored."""

from __future__ import annotations

from decimal import Decimal

from engine.common.money import is_multiple_of
from engine.errors import ValidationError
from engine.market.models import Market
from engine.orders.models import OrderRequest


def validate_against_market(request: OrderRequest, market: Market, reference_price: Decimal) -> None:
    """Raise ValidationError naming the rule and the value that would pass.

    ``reference_price`` is the price used for the minimum-cost check of orders
    without a price of their own (market and stop-market orders).
    """
    _check_prices_match_type(request)

    if not is_multiple_of(request.quantity, market.amount_step):
        raise ValidationError(
            "QUANTITY_STEP", value=request.quantity, step=market.amount_step, symbol=market.symbol
        )
    if request.quantity < market.min_amount:
        raise ValidationError(
            "QUANTITY_BELOW_MIN", value=request.quantity, minimum=market.min_amount, symbol=market.symbol
        )
    if market.max_amount is not None and request.quantity > market.max_amount:
        raise ValidationError(
            "QUANTITY_ABOVE_MAX", value=request.quantity, maximum=market.max_amount, symbol=market.symbol
        )

    for name, price in (("price", request.price), ("stop_price", request.stop_price)):
        if price is not None and not is_multiple_of(price, market.price_step):
            raise ValidationError(
                "PRICE_STEP", field=name, value=price, step=market.price_step, symbol=market.symbol
            )

    cost = request.quantity * (request.price or reference_price)
    if cost < market.min_cost:
        raise ValidationError(
            "COST_BELOW_MIN",
            value=cost,
            minimum=market.min_cost,
            asset=market.quote,
            symbol=market.symbol,
        )


def _check_prices_match_type(request: OrderRequest) -> None:
    if request.type.needs_price and request.price is None:
        raise ValidationError("PRICE_REQUIRED", type=request.type)
    if not request.type.needs_price and request.price is not None:
        raise ValidationError("PRICE_NOT_ALLOWED", type=request.type)
    if request.type.needs_stop_price and request.stop_price is None:
        raise ValidationError("STOP_PRICE_REQUIRED", type=request.type)
    if not request.type.needs_stop_price and request.stop_price is not None:
        raise ValidationError("STOP_PRICE_NOT_ALLOWED", type=request.type)
