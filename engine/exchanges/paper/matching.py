"""Matching PAPER orders against the price path: triggers, taker and maker fills.

``take_now`` executes an order that has just become active (placed, or its
stop reached) against the synthetic book and applies its time in force.
``match_along`` walks a resting or untriggered order along the replayed
price path, step by step, so a crossing is found even when the matching job
runs late.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from engine.common.money import ZERO
from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrderState
from engine.exchanges.paper.execution import (
    AccountBooks,
    PaperTerms,
    apply_fill,
    close_if_filled,
    finish,
    is_market_like,
    level_size,
    locked_asset,
    spend_for,
    synthetic_levels,
    takeable,
)
from engine.exchanges.paper.ledger import PaperOrder
from engine.market.models import Candle, Market
from engine.market.path import PathStep
from engine.orders.models import OrderSide, TimeInForce, triggers_on_rise


def take_now(
    order: PaperOrder,
    market: Market,
    books: AccountBooks,
    terms: PaperTerms,
    *,
    last: Decimal,
    candle: Candle,
    at: datetime,
    placing: bool,
) -> None:
    """Execute what the active order takes from the book at ``last``, then apply its time in force.

    While ``placing``, a rejection raises PermanentExchangeError as the
    exchange's response to the request. Later (a stop that fired) the order
    expires with the reason instead.
    """
    size = level_size(market, candle.volume, terms)
    levels = synthetic_levels(market, order.side, last, terms, size)
    limit = None if is_market_like(order) else order.price
    pieces = takeable(levels, order.side, order.remaining, limit)
    taken = sum((quantity for _, quantity in pieces), ZERO)

    if order.post_only and pieces:
        _reject(order, market, books, at, placing, "POST_ONLY_WOULD_TAKE")
        return
    if order.time_in_force is TimeInForce.FOK and taken < order.remaining:
        finish(order, market, books, ExchangeOrderState.EXPIRED, at, "FOK_NOT_FILLED")
        return

    asset = locked_asset(order, market)
    available = order.locked + books.get(asset).free
    if spend_for(order.side, pieces, terms) > available:
        _reject(order, market, books, at, placing, "INSUFFICIENT_FUNDS")
        return

    for price, quantity in pieces:
        apply_fill(
            order, market, books, terms, price=price, quantity=quantity, is_maker=False, executed_at=at
        )
    if pieces:
        order.liquidity_candle = candle.opened_at
        order.liquidity_used = min(taken, size)

    close_if_filled(order, market, books, at)
    if order.is_open and (is_market_like(order) or order.time_in_force is TimeInForce.IOC):
        reason = "BOOK_EXHAUSTED" if is_market_like(order) else "IOC_REMAINDER"
        finish(order, market, books, ExchangeOrderState.EXPIRED, at, reason)


def _reject(
    order: PaperOrder, market: Market, books: AccountBooks, at: datetime, placing: bool, reason: str
) -> None:
    if placing:
        raise PermanentExchangeError(f"PAPER rejected the order: {reason}", reason=reason)
    finish(order, market, books, ExchangeOrderState.EXPIRED, at, reason)


def match_along(
    order: PaperOrder,
    market: Market,
    books: AccountBooks,
    terms: PaperTerms,
    steps: Iterable[PathStep],
) -> bool:
    """Walk an open order along the path; return whether anything happened to it."""
    changed = False
    for step in steps:
        if not order.is_open:
            break
        if order.type.needs_stop_price and not order.triggered:
            fired = trigger(order, step)
            if fired is None:
                continue
            price, at = fired
            order.triggered = True
            order.updated_at = at
            changed = True
            take_now(order, market, books, terms, last=price, candle=step.candle, at=at, placing=False)
            if not order.is_open or at >= step.ended_at:
                continue
            step = PathStep(price, step.end_price, at, step.ended_at, step.candle)
        changed = fill_resting(order, market, books, terms, step) or changed
    return changed


def trigger(order: PaperOrder, step: PathStep) -> tuple[Decimal, datetime] | None:
    """Return the price the order fires at and when, if the step reaches its stop.

    A step reached continuously fires at the stop price itself; a jump between
    candles fires at the price after the jump.
    """
    stop = order.stop_price
    assert stop is not None
    rising = triggers_on_rise(order.type, order.side)
    if rising and not step.reaches_at_or_above(stop):
        return None
    if not rising and not step.reaches_at_or_below(stop):
        return None
    if step.is_gap:
        return step.end_price, step.started_at
    beyond = step.start_price >= stop if rising else step.start_price <= stop
    if beyond:
        return step.start_price, step.started_at
    return stop, step.moment_at(stop)


def fill_resting(
    order: PaperOrder, market: Market, books: AccountBooks, terms: PaperTerms, step: PathStep
) -> bool:
    """Fill a resting limit at its own price as maker, up to the candle's volume share."""
    limit = order.price
    if limit is None:
        return False
    reached = (
        step.reaches_at_or_below(limit) if order.side is OrderSide.BUY else step.reaches_at_or_above(limit)
    )
    if not reached:
        return False

    size = level_size(market, step.candle.volume, terms)
    if order.liquidity_candle != step.candle.opened_at:
        order.liquidity_candle, order.liquidity_used = step.candle.opened_at, ZERO
    quantity = min(order.remaining, size - order.liquidity_used)
    if quantity <= ZERO:
        return False

    at = step.moment_at(limit)
    apply_fill(order, market, books, terms, price=limit, quantity=quantity, is_maker=True, executed_at=at)
    order.liquidity_used += quantity
    close_if_filled(order, market, books, at)
    return True
