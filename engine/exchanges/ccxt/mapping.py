"""ccxt's unified structures turned into the engine's, with Decimal values.

ccxt parses every number to float. Each value comes from the exchange's own
text in ``info`` where the dialect names the field. Otherwise the float goes
back to Decimal through ``str`` and is snapped to the market's step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.common.money import ZERO
from engine.exchanges.ccxt.precision import decimal_from_number
from engine.exchanges.models import (
    BalanceEntry,
    ExchangeOrder,
    ExchangeOrderState,
    ExchangeTrade,
    OrderBook,
    OrderBookLevel,
)
from engine.market.models import Market, Ticker
from engine.orders.models import OrderRequest, OrderSide, OrderType


@dataclass(frozen=True)
class RawFields:
    """Names of the exchange's own fields behind ccxt's unified values (first present wins)."""

    order_quantity: tuple[str, ...] = ()
    order_filled: tuple[str, ...] = ()
    order_price: tuple[str, ...] = ()
    order_stop_price: tuple[str, ...] = ()
    order_average: tuple[str, ...] = ()
    order_cost: tuple[str, ...] = ()  # filled value in the quote asset
    order_reason: tuple[str, ...] = ()
    trade_price: tuple[str, ...] = ()
    trade_quantity: tuple[str, ...] = ()
    ticker_last: tuple[str, ...] = ()
    ticker_bid: tuple[str, ...] = ()
    ticker_ask: tuple[str, ...] = ()


_STATES = {
    "open": ExchangeOrderState.OPEN,
    "closed": ExchangeOrderState.CLOSED,
    "canceled": ExchangeOrderState.CANCELED,
    "cancelled": ExchangeOrderState.CANCELED,
    "expired": ExchangeOrderState.EXPIRED,
    "rejected": ExchangeOrderState.REJECTED,
}

_TYPES = {
    (False, None): OrderType.MARKET,
    (True, None): OrderType.LIMIT,
    (False, "stop"): OrderType.STOP_MARKET,
    (True, "stop"): OrderType.STOP_LIMIT,
    (False, "take_profit"): OrderType.TAKE_PROFIT,
    (True, "take_profit"): OrderType.TAKE_PROFIT_LIMIT,
}


def raw_decimal(info: Any, keys: tuple[str, ...]) -> Decimal | None:
    """Return the first field of ``info`` among ``keys`` that contains a number, as Decimal."""
    if not isinstance(info, Mapping):
        return None
    for key in keys:
        value = info.get(key)
        if value is None or value == "":
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            continue
        if number.is_finite():
            return number
    return None


def _positive(value: Decimal | None) -> Decimal | None:
    """Prices of zero or below mean "none" (market orders report 0, OKX reports -1)."""
    return value if value is not None and value > ZERO else None


def moment(milliseconds: Any, fallback: datetime) -> datetime:
    if milliseconds is None:
        return fallback
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC)


def _side(value: Any, fallback: OrderSide | None) -> OrderSide:
    if isinstance(value, str) and value.lower() in ("buy", "sell"):
        return OrderSide(value.upper())
    if fallback is None:
        raise ValueError(f"order without a side: {value!r}")
    return fallback


def _trigger_kind(info: Any, side: OrderSide, stop_price: Decimal | None) -> str | None:
    """Tell a stop from a take-profit by the exchange's own type fields.

    ccxt's ``takeProfitPrice`` is not used: on Bybit it is a take-profit
    attached to an ordinary order, not the kind of the order itself.
    """
    if stop_price is None or not isinstance(info, Mapping):
        return None
    kinds = " ".join(str(info.get(key, "")) for key in ("type", "stopOrderType")).upper()
    if "TAKE_PROFIT" in kinds or "TAKEPROFIT" in kinds:
        return "take_profit"
    if _positive(raw_decimal(info, ("tpTriggerPx",))) is not None:
        return "take_profit"
    # Bybit spot conditional orders carry only a trigger price, so the direction
    # distinguishes a take-profit (sell on a rise, buy on a fall) from a stop.
    direction = str(info.get("triggerDirection", ""))
    if (direction == "1" and side is OrderSide.SELL) or (direction == "2" and side is OrderSide.BUY):
        return "take_profit"
    return "stop"


def to_exchange_order(
    order: Mapping[str, Any],
    market: Market | None,
    fields: RawFields,
    *,
    now: datetime,
    is_trigger: bool = False,
    request: OrderRequest | None = None,
) -> ExchangeOrder:
    """Build the engine's order from ccxt's; ``request`` fills in what an acknowledgement leaves out."""
    info = order.get("info") or {}
    price_step = market.price_step if market else None
    amount_step = market.amount_step if market else None
    side = _side(order.get("side"), request.side if request else None)

    quantity = raw_decimal(info, fields.order_quantity)
    if quantity is None:
        quantity = decimal_from_number(order.get("amount"), amount_step)
    if quantity is None:
        quantity = request.quantity if request else ZERO
    filled = raw_decimal(info, fields.order_filled)
    if filled is None:
        filled = decimal_from_number(order.get("filled"), amount_step) or ZERO

    stop_price = _positive(raw_decimal(info, fields.order_stop_price))
    if stop_price is None:
        stop_price = _positive(decimal_from_number(order.get("triggerPrice"), price_step))
    limit_price = _positive(raw_decimal(info, fields.order_price))
    if limit_price is None:
        limit_price = _positive(decimal_from_number(order.get("price"), price_step))

    ccxt_type = str(order.get("type") or "").lower()
    is_limit = ccxt_type == "limit" or (ccxt_type != "market" and limit_price is not None)
    kind = _trigger_kind(info, side, stop_price)
    order_type = _TYPES[(is_limit, kind)]
    if request is not None and ccxt_type not in ("market", "limit"):
        order_type = request.type  # an acknowledgement without a type: trust what was sent

    state = _STATES.get(str(order.get("status") or "open").lower(), ExchangeOrderState.OPEN)
    fee, fee_asset = _fee(order)
    reason = None
    if state is ExchangeOrderState.REJECTED and isinstance(info, Mapping):
        reason = next((str(info[key]) for key in fields.order_reason if info.get(key)), "REJECTED")

    return ExchangeOrder(
        exchange_order_id=str(order.get("id")),
        client_order_id=str(order.get("clientOrderId") or (request.client_order_id if request else "") or ""),
        symbol=str(order.get("symbol") or (request.symbol if request else "")),
        side=side,
        type=order_type,
        state=state,
        quantity=quantity,
        filled_quantity=filled,
        created_at=moment(order.get("timestamp"), now),
        price=limit_price if order_type.needs_price else None,
        stop_price=stop_price if order_type.needs_stop_price else None,
        average_price=_average(order, info, fields, filled),
        fee=fee,
        fee_asset=fee_asset,
        reason=reason,
        trades=tuple(
            to_trade(trade, market, fields, now=now, side=side, order_id=str(order.get("id")))
            for trade in order.get("trades") or ()
        ),
        is_trigger=is_trigger,
    )


def _average(order: Mapping[str, Any], info: Any, fields: RawFields, filled: Decimal) -> Decimal | None:
    if filled <= ZERO:
        return None
    average = _positive(raw_decimal(info, fields.order_average))
    if average is not None:
        return average
    cost = _positive(raw_decimal(info, fields.order_cost))
    if cost is not None:
        return cost / filled
    return _positive(decimal_from_number(order.get("average")))


def _fee(order: Mapping[str, Any]) -> tuple[Decimal, str | None]:
    """Sum the order's fees in their first currency (ccxt reports a list or a single fee)."""
    fees = [fee for fee in (order.get("fees") or [order.get("fee")]) if fee and fee.get("cost") is not None]
    if not fees:
        return ZERO, None
    asset = fees[0].get("currency")
    total = sum(
        (decimal_from_number(fee["cost"]) or ZERO for fee in fees if fee.get("currency") == asset), ZERO
    )
    return total, asset


def to_trade(
    trade: Mapping[str, Any],
    market: Market | None,
    fields: RawFields,
    *,
    now: datetime,
    side: OrderSide | None = None,
    order_id: str = "",
) -> ExchangeTrade:
    """Build the engine's trade; ``side`` and ``order_id`` fill in fills nested in an order (Binance)."""
    info = trade.get("info") or {}
    price = raw_decimal(info, fields.trade_price) or decimal_from_number(
        trade.get("price"), market.price_step if market else None
    )
    quantity = raw_decimal(info, fields.trade_quantity) or decimal_from_number(
        trade.get("amount"), market.amount_step if market else None
    )
    fee = trade.get("fee") or {}
    return ExchangeTrade(
        trade_id=str(trade.get("id")),
        exchange_order_id=str(trade.get("order") or order_id),
        symbol=str(trade.get("symbol") or (market.symbol if market else "")),
        side=_side(trade.get("side"), side),
        price=price or ZERO,
        quantity=quantity or ZERO,
        fee=decimal_from_number(fee.get("cost")) or ZERO,
        fee_asset=str(fee.get("currency") or (market.quote if market else "")),
        is_maker=trade.get("takerOrMaker") == "maker",
        executed_at=moment(trade.get("timestamp"), now),
    )


def to_balances(
    balance: Mapping[str, Any], exact: dict[str, tuple[Decimal, Decimal]]
) -> dict[str, BalanceEntry]:
    """Return non-zero balances by asset; ``exact`` maps assets to (free, used) from the exchange's text."""
    entries: dict[str, BalanceEntry] = {}
    totals = balance.get("total") or {}
    for asset in set(totals) | set(exact):
        if asset in exact:
            free, used = exact[asset]
        else:
            free = decimal_from_number((balance.get("free") or {}).get(asset)) or ZERO
            used = decimal_from_number((balance.get("used") or {}).get(asset)) or ZERO
        if free + used != ZERO:
            entries[asset] = BalanceEntry(asset=asset, free=free, used=used)
    return entries


def to_ticker(ticker: Mapping[str, Any], market: Market, fields: RawFields, *, now: datetime) -> Ticker:
    info = ticker.get("info") or {}
    last = _positive(raw_decimal(info, fields.ticker_last)) or _positive(
        decimal_from_number(ticker.get("last"), market.price_step)
    )
    if last is None:
        raise ValueError(f"ticker of {market.symbol} without a last price")
    return Ticker(
        symbol=market.symbol,
        last=last,
        timestamp=moment(ticker.get("timestamp"), now),
        bid=_positive(raw_decimal(info, fields.ticker_bid))
        or _positive(decimal_from_number(ticker.get("bid"), market.price_step)),
        ask=_positive(raw_decimal(info, fields.ticker_ask))
        or _positive(decimal_from_number(ticker.get("ask"), market.price_step)),
    )


def to_order_book(book: Mapping[str, Any], market: Market, *, now: datetime) -> OrderBook:
    def levels(rows: Any) -> tuple[OrderBookLevel, ...]:
        return tuple(
            OrderBookLevel(
                price=decimal_from_number(row[0], market.price_step) or ZERO,
                quantity=decimal_from_number(row[1], market.amount_step) or ZERO,
            )
            for row in rows or ()
        )

    return OrderBook(
        symbol=market.symbol,
        bids=levels(book.get("bids")),
        asks=levels(book.get("asks")),
        timestamp=moment(book.get("timestamp"), now),
    )
