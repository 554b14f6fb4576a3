"""PAPER's OCO: a take-profit limit and a stop-market that share one quantity of one balance.

This is how a spot exchange lets a stop and a take-profit rest on the same
coins (Binance spot calls it an order list). The limit leg holds the lock:
the base for a sell, or for a buy the larger of the two legs' costs. The
stop leg locks nothing.

PAPER's rules, chosen so the stop always covers exactly what the limit has
not sold:

- while the limit leg fills in parts, the stop leg's quantity follows the
  limit's unfilled rest, and it is cancelled once the limit has filled;
- when the stop triggers, the limit leg is cancelled first (releasing its
  lock) and the stop sells at market;
- cancelling either leg cancels both.

Both legs are matched together along the price path. Inside one straight
step of the path the price moves one way, so it can reach only one of the
two legs: the limit sits on one side of the price and the stop on the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrderState
from engine.exchanges.paper.execution import AccountBooks, PaperTerms, finish, lock_needed, locked_asset
from engine.exchanges.paper.ledger import PaperOrder
from engine.exchanges.paper.matching import fill_resting, take_now, trigger
from engine.exchanges.paper.records import reject_if_firing
from engine.market.models import Candle, Market
from engine.market.path import PathStep
from engine.orders.models import OrderRequest, OrderSide, OrderType, triggers_on_rise

LIMIT_FILLED = "OCO_LIMIT_FILLED"
STOP_TRIGGERED = "OCO_STOP_TRIGGERED"


def check_pair(limit: OrderRequest, stop: OrderRequest) -> None:
    """Reject a pair that is not a limit and a stop-market on the same side of one market and quantity."""
    if limit.type is not OrderType.LIMIT or stop.type is not OrderType.STOP_MARKET:
        raise PermanentExchangeError("an OCO is a limit and a stop-market order", reason="INVALID_ORDER")
    if (limit.symbol, limit.side, limit.quantity) != (stop.symbol, stop.side, stop.quantity):
        raise PermanentExchangeError("OCO legs differ in symbol, side or quantity", reason="INVALID_ORDER")
    assert limit.price is not None and stop.stop_price is not None
    # The stop must sit on the losing side of the limit: below it for a sell, above it for a buy.
    if triggers_on_rise(OrderType.STOP_MARKET, stop.side) != (stop.stop_price > limit.price):
        raise PermanentExchangeError("the OCO stop is on the wrong side of its limit", reason="INVALID_ORDER")


def pair_lock(limit: PaperOrder, stop: PaperOrder, market: Market, terms: PaperTerms) -> Decimal:
    """What the limit leg holds for both legs."""
    if limit.side is OrderSide.SELL:
        return lock_needed(limit, market, terms)
    return max(lock_needed(limit, market, terms), lock_needed(stop, market, terms))


def place_pair(
    limit: PaperOrder,
    stop: PaperOrder,
    market: Market,
    books: AccountBooks,
    terms: PaperTerms,
    *,
    last: Decimal,
    candle: Candle,
    at: datetime,
) -> None:
    """Lock and activate a new pair; the limit leg takes what the book offers within its price at once.

    Raises PermanentExchangeError STOP_WOULD_TRIGGER or INSUFFICIENT_FUNDS
    before anything changes.
    """
    reject_if_firing(stop, last)
    books.lock(limit, locked_asset(limit, market), pair_lock(limit, stop, market, terms))
    take_now(limit, market, books, terms, last=last, candle=candle, at=at, placing=True)
    follow(limit, stop, market, books, at)


def follow(limit: PaperOrder, stop: PaperOrder, market: Market, books: AccountBooks, at: datetime) -> None:
    """Keep the stop leg on the limit leg's unfilled rest; cancel it once the limit leg is done."""
    if not stop.is_open or stop.triggered:
        return
    if limit.is_open:
        stop.quantity = stop.filled_quantity + limit.remaining
        return
    finish(stop, market, books, ExchangeOrderState.CANCELED, at, LIMIT_FILLED)


def match_pair(
    limit: PaperOrder,
    stop: PaperOrder,
    market: Market,
    books: AccountBooks,
    terms: PaperTerms,
    steps: Iterable[PathStep],
) -> bool:
    """Walk both legs along the path together; return whether anything happened to them."""
    changed = False
    for step in steps:
        if not (limit.is_open and stop.is_open):
            break
        fired = trigger(stop, step)
        if fired is not None:
            price, at = fired
            finish(limit, market, books, ExchangeOrderState.CANCELED, at, STOP_TRIGGERED)
            stop.triggered = True
            stop.updated_at = at
            take_now(stop, market, books, terms, last=price, candle=step.candle, at=at, placing=False)
            return True
        if fill_resting(limit, market, books, terms, step):
            changed = True
            follow(limit, stop, market, books, limit.updated_at)
    return changed


def amend_stop(
    stop: PaperOrder,
    limit: PaperOrder,
    market: Market,
    books: AccountBooks,
    terms: PaperTerms,
    *,
    stop_price: Decimal,
    last: Decimal,
) -> None:
    """Move the stop leg's stop price; the limit leg's lock is set again for a buy's new stop cost.

    Raises PermanentExchangeError STOP_WOULD_TRIGGER for a stop the last price
    has already passed, before anything changes.
    """
    if stop.triggered:
        raise PermanentExchangeError("the stop price can no longer change", reason="STOP_ALREADY_TRIGGERED")
    previous = stop.stop_price
    stop.stop_price = stop_price
    try:
        reject_if_firing(stop, last)
    except PermanentExchangeError:
        stop.stop_price = previous
        raise
    if limit.is_open:
        books.release(limit, locked_asset(limit, market))
        books.lock(limit, locked_asset(limit, market), pair_lock(limit, stop, market, terms))
