"""How PAPER orders execute: the synthetic book, fills, fees and balance locks.

Everything here is exact Decimal arithmetic on one account's balances inside
one transaction. Nothing is rounded except prices, which the synthetic book
puts on the market's tick.

The synthetic book around a price ``last`` has ``depth`` levels a side. Level
``k`` of the asks sits at ``last * (1 + slippage * k)`` rounded up to the tick,
level ``k`` of the bids at ``last * (1 - slippage * k)`` rounded down, and each
level holds the configured share of the current recorded candle's volume.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.common.money import ZERO, ceil_to_step, floor_to_step
from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrderState, ExchangeTrade, OrderBookLevel
from engine.exchanges.paper.ledger import PaperBalance, PaperOrder
from engine.market.models import Market
from engine.orders.models import OrderSide, OrderType

BOOK_DEPTH = 50


@dataclass(frozen=True)
class PaperTerms:
    """Fees and liquidity of the simulator, resolved for one market."""

    taker_fee: Decimal
    maker_fee: Decimal
    slippage: Decimal
    buy_fee_in_base: bool  # charge a buy's fee in the bought asset, as Binance does without BNB
    volume_share: Decimal  # share of a recorded candle's volume one order can fill in that candle

    @property
    def lock_fee(self) -> Decimal:
        return max(self.taker_fee, self.maker_fee)


def level_price(market: Market, side: OrderSide, last: Decimal, slippage: Decimal, depth: int) -> Decimal:
    """Return the price a taker on ``side`` meets at book level ``depth`` (1 is the best)."""
    if side is OrderSide.BUY:
        return ceil_to_step(last * (1 + slippage * depth), market.price_step)
    return floor_to_step(last * (1 - slippage * depth), market.price_step)


def synthetic_levels(
    market: Market, side: OrderSide, last: Decimal, terms: PaperTerms, level_size: Decimal
) -> Iterator[OrderBookLevel]:
    """Yield the levels a taker on ``side`` meets, best first (the ask side for a buy).

    A generator, because an order usually needs only the first level or two.
    """
    for depth in range(1, BOOK_DEPTH + 1):
        yield OrderBookLevel(level_price(market, side, last, terms.slippage, depth), level_size)


def level_size(market: Market, candle_volume: Decimal, terms: PaperTerms) -> Decimal:
    """Quantity one level (or one order in one candle) can fill: a share of the candle's volume."""
    return floor_to_step(candle_volume * terms.volume_share, market.amount_step)


def takeable(
    levels: Iterable[OrderBookLevel], side: OrderSide, quantity: Decimal, limit: Decimal | None
) -> list[tuple[Decimal, Decimal]]:
    """Return (price, quantity) pieces a taker gets from the levels, stopping at ``limit``."""
    pieces: list[tuple[Decimal, Decimal]] = []
    remaining = quantity
    for level in levels:
        if remaining <= ZERO:
            break
        if limit is not None and (level.price > limit if side is OrderSide.BUY else level.price < limit):
            break
        piece = min(remaining, level.quantity)
        if piece > ZERO:
            pieces.append((level.price, piece))
            remaining -= piece
    return pieces


def spend_for(side: OrderSide, pieces: list[tuple[Decimal, Decimal]], terms: PaperTerms) -> Decimal:
    """Quote a buy spends (fee included unless charged in base), or base a sell gives up."""
    if side is OrderSide.SELL:
        return sum((quantity for _, quantity in pieces), ZERO)
    cost = sum((price * quantity for price, quantity in pieces), ZERO)
    return cost if terms.buy_fee_in_base else cost * (1 + terms.taker_fee)


class AccountBooks:
    """One account's balances while a change is being applied."""

    def __init__(self, balances: dict[str, PaperBalance]) -> None:
        self.balances = balances
        self.touched: set[str] = set()

    def get(self, asset: str) -> PaperBalance:
        balance = self.balances.get(asset)
        if balance is None:
            balance = self.balances[asset] = PaperBalance(asset=asset)
        self.touched.add(asset)
        return balance

    def require_free(self, asset: str, amount: Decimal) -> None:
        balance = self.get(asset)
        if balance.free < amount:
            raise PermanentExchangeError(
                f"insufficient {asset}: need {amount}, free {balance.free}",
                reason="INSUFFICIENT_FUNDS",
                asset=asset,
                required=amount,
                available=balance.free,
            )

    def lock(self, order: PaperOrder, asset: str, amount: Decimal) -> None:
        self.require_free(asset, amount)
        balance = self.get(asset)
        balance.free -= amount
        balance.locked += amount
        order.locked += amount

    def release(self, order: PaperOrder, asset: str) -> None:
        """Give back whatever the order still holds."""
        if order.locked <= ZERO:
            return
        balance = self.get(asset)
        balance.locked -= order.locked
        balance.free += order.locked
        order.locked = ZERO


def locked_asset(order: PaperOrder, market: Market) -> str:
    return market.quote if order.side is OrderSide.BUY else market.base


def lock_needed(order: PaperOrder, market: Market, terms: PaperTerms) -> Decimal:
    """Return what a resting order must lock for its unfilled quantity.

    A buy locks its cost plus the larger fee rate. A stop-market buy, whose
    price is not known in advance, is costed at its stop moved by one
    slippage step. A sell locks the base quantity.
    """
    remaining = order.remaining
    if order.side is OrderSide.SELL:
        return remaining
    if order.type.needs_price:
        assert order.price is not None
        price = order.price
    else:
        assert order.stop_price is not None
        price = level_price(market, OrderSide.BUY, order.stop_price, terms.slippage, 1)
    cost = remaining * price
    return cost if terms.buy_fee_in_base else cost * (1 + terms.lock_fee)


def apply_fill(
    order: PaperOrder,
    market: Market,
    books: AccountBooks,
    terms: PaperTerms,
    *,
    price: Decimal,
    quantity: Decimal,
    is_maker: bool,
    executed_at: datetime,
) -> ExchangeTrade:
    """Execute ``quantity`` at ``price``: move balances (lock first, then free) and record the trade."""
    rate = terms.maker_fee if is_maker else terms.taker_fee
    cost = price * quantity
    quote, base = books.get(market.quote), books.get(market.base)

    if order.side is OrderSide.BUY:
        if terms.buy_fee_in_base:
            fee, fee_asset, spend, received = quantity * rate, market.base, cost, quantity - quantity * rate
        else:
            fee, fee_asset, spend, received = cost * rate, market.quote, cost * (1 + rate), quantity
        from_lock = min(order.locked, spend)
        order.locked -= from_lock
        quote.locked -= from_lock
        quote.free -= spend - from_lock
        base.free += received
    else:
        fee, fee_asset = cost * rate, market.quote
        from_lock = min(order.locked, quantity)
        order.locked -= from_lock
        base.locked -= from_lock
        base.free -= quantity - from_lock
        quote.free += cost - fee

    spent_before = (order.average_price or ZERO) * order.filled_quantity
    order.filled_quantity += quantity
    order.average_price = (spent_before + cost) / order.filled_quantity
    order.fee += fee
    order.fee_asset = fee_asset
    order.updated_at = executed_at
    trade = ExchangeTrade(
        trade_id=f"paper-t-{uuid.uuid4().hex[:18]}",
        exchange_order_id=order.exchange_order_id,
        symbol=market.symbol,
        side=order.side,
        price=price,
        quantity=quantity,
        fee=fee,
        fee_asset=fee_asset,
        is_maker=is_maker,
        executed_at=executed_at,
    )
    order.trades.append(trade)
    return trade


def finish(
    order: PaperOrder,
    market: Market,
    books: AccountBooks,
    state: ExchangeOrderState,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Move the order to a final state and release what it still holds."""
    books.release(order, locked_asset(order, market))
    order.state = state
    order.updated_at = at
    if reason is not None:
        order.reason = reason


def close_if_filled(order: PaperOrder, market: Market, books: AccountBooks, at: datetime) -> None:
    if order.remaining <= ZERO:
        finish(order, market, books, ExchangeOrderState.CLOSED, at)


def is_market_like(order: PaperOrder) -> bool:
    """Orders that execute against the book at once when active (no limit price)."""
    return order.type in (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT)
