"""Checks of an order request against the market's rules, before anything is stored.

``fit_to_market`` rounds a request to the market's steps and lists what it
changed; ``validate_against_market`` then checks the minimums and maximums.
Quantities round down, so an order never needs more than the trader typed.
Limit prices round in the trader's favour (a buy down, a sell up), so the
order never pays more or receives less than typed. Stop prices round to the
nearest tick because neither direction is safer for a trigger.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from engine.common.money import ZERO, ceil_to_step, floor_to_step, is_multiple_of, round_to_step
from engine.errors import ValidationError
from engine.exchanges.models import Capabilities
from engine.market.models import Market
from engine.orders.drafts import Adjustment
from engine.orders.models import OrderRequest, OrderSide, TimeInForce, triggers_on_rise

# The client order id format every supported exchange accepts: Binance takes up
# to 36 of [.A-Z:/a-z0-9_-], Bybit orderLinkId up to 36 letters, digits, - and _,
# OKX clOrdId up to 32 letters and digits, MEXC up to 32. Letters and digits up
# to 32 characters fit them all.
CLIENT_ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9]{1,32}$")
CLIENT_ORDER_ID_MAX_LENGTH = 32


def validate_client_order_id(text: str) -> str:
    """Return the id unchanged, or raise CLIENT_ORDER_ID_INVALID naming the rule."""
    if not CLIENT_ORDER_ID_PATTERN.match(text):
        raise ValidationError(
            "CLIENT_ORDER_ID_INVALID", value=text[:80], max_length=CLIENT_ORDER_ID_MAX_LENGTH
        )
    return text


def fit_to_market(request: OrderRequest, market: Market) -> tuple[OrderRequest, tuple[Adjustment, ...]]:
    """Round the quantity down to the step and the prices to the tick; list every change.

    Raises QUANTITY_BELOW_MIN when rounding down leaves less than the minimum,
    naming the quantity as typed.
    """
    adjustments: list[Adjustment] = []

    quantity = floor_to_step(request.quantity, market.amount_step)
    if quantity < market.min_amount or quantity <= ZERO:
        raise ValidationError(
            "QUANTITY_BELOW_MIN", value=request.quantity, minimum=market.min_amount, symbol=market.symbol
        )
    if quantity != request.quantity:
        adjustments.append(Adjustment("quantity", request.quantity, quantity))

    price = request.price
    if price is not None:
        rounder = floor_to_step if request.side is OrderSide.BUY else ceil_to_step
        price = rounder(price, market.price_step)
        if price <= ZERO:
            raise ValidationError("PRICE_BELOW_TICK", value=request.price, step=market.price_step)
        if price != request.price:
            adjustments.append(Adjustment("price", request.price, price))

    stop_price = request.stop_price
    if stop_price is not None:
        stop_price = round_to_step(stop_price, market.price_step)
        if stop_price <= ZERO:
            raise ValidationError("PRICE_BELOW_TICK", value=request.stop_price, step=market.price_step)
        if stop_price != request.stop_price:
            adjustments.append(Adjustment("stop_price", request.stop_price, stop_price))

    fitted = replace(request, quantity=quantity, price=price, stop_price=stop_price)
    return fitted, tuple(adjustments)


def validate_against_market(request: OrderRequest, market: Market, reference_price: Decimal) -> None:
    """Raise ValidationError naming the rule and the value that would pass.

    ``reference_price`` is the price used for the minimum-cost check of orders
    without a price of their own (market and stop-market orders).
    """
    check_prices_match_type(request)

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

    cost = request.quantity * (request.price or request.stop_price or reference_price)
    if cost < market.min_cost:
        raise ValidationError(
            "COST_BELOW_MIN",
            value=cost,
            minimum=market.min_cost,
            asset=market.quote,
            symbol=market.symbol,
        )


def validate_flags(request: OrderRequest, capabilities: Capabilities) -> None:
    """Reject types and flags the exchange does not support, or that contradict each other."""
    if request.type not in capabilities.order_types:
        raise ValidationError("ORDER_TYPE_UNSUPPORTED", type=request.type)
    if request.reduce_only and not capabilities.reduce_only:
        raise ValidationError("REDUCE_ONLY_UNSUPPORTED")
    if request.post_only:
        if not request.type.needs_price:
            raise ValidationError("POST_ONLY_NEEDS_LIMIT", type=request.type)
        if request.time_in_force is not TimeInForce.GTC:
            raise ValidationError("POST_ONLY_WITH_TIF", time_in_force=request.time_in_force)


def check_prices_match_type(request: OrderRequest) -> None:
    if request.type.needs_price and request.price is None:
        raise ValidationError("PRICE_REQUIRED", type=request.type)
    if not request.type.needs_price and request.price is not None:
        raise ValidationError("PRICE_NOT_ALLOWED", type=request.type)
    if request.type.needs_stop_price and request.stop_price is None:
        raise ValidationError("STOP_PRICE_REQUIRED", type=request.type)
    if not request.type.needs_stop_price and request.stop_price is not None:
        raise ValidationError("STOP_PRICE_NOT_ALLOWED", type=request.type)


def check_trigger_side(request: OrderRequest, last: Decimal) -> None:
    """Reject a trigger order that would fire at once, as exchanges do."""
    stop = request.stop_price
    if stop is None:
        return
    fires_now = stop <= last if triggers_on_rise(request.type, request.side) else stop >= last
    if fires_now:
        raise ValidationError(
            "STOP_WOULD_TRIGGER", type=request.type, side=request.side, stop=stop, last=last
        )
