"""PAPER order records: checking a request, creating and amending an order, saving and reporting it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from engine.common.money import ZERO
from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrder, ExchangeOrderState
from engine.exchanges.paper.execution import AccountBooks
from engine.exchanges.paper.ledger import PaperOrder
from engine.orders.models import OrderRequest, OrderSide, triggers_on_rise
from engine.uow import UnitOfWork


def check_request(request: OrderRequest) -> None:
    """Reject what a spot exchange rejects outright, before anything is stored."""
    if request.type.needs_price and request.price is None:
        raise PermanentExchangeError("price is missing", reason="INVALID_ORDER")
    if request.type.needs_stop_price and request.stop_price is None:
        raise PermanentExchangeError("stop price is missing", reason="INVALID_ORDER")
    if request.reduce_only and request.side is OrderSide.BUY:
        # A spot account has no short position for a buy to reduce.
        raise PermanentExchangeError("reduce-only buy on spot", reason="REDUCE_ONLY_WOULD_INCREASE")


def reject_if_firing(order: PaperOrder, last: Decimal) -> None:
    """Reject a stop or take-profit that the last price has already reached, as exchanges do."""
    stop = order.stop_price
    assert stop is not None
    fires = stop <= last if triggers_on_rise(order.type, order.side) else stop >= last
    if fires:
        raise PermanentExchangeError("the stop would trigger immediately", reason="STOP_WOULD_TRIGGER")


def amend(order: PaperOrder, quantity: Decimal | None, price: Decimal | None, stop: Decimal | None) -> None:
    """Apply new terms to an open order; ``quantity`` is the new total, filled part included."""
    if quantity is not None:
        if quantity <= order.filled_quantity:
            raise PermanentExchangeError("quantity not above the filled part", reason="QUANTITY_BELOW_FILLED")
        order.quantity = quantity
    if price is not None:
        if not order.type.needs_price:
            raise PermanentExchangeError("the order has no price", reason="INVALID_ORDER")
        order.price = price
    if stop is not None:
        if not order.type.needs_stop_price or order.triggered:
            raise PermanentExchangeError(
                "the stop price can no longer change", reason="STOP_ALREADY_TRIGGERED"
            )
        order.stop_price = stop


def new_order(account_id: uuid.UUID, request: OrderRequest, now: datetime) -> PaperOrder:
    """Build an OPEN order for a request, matched up to ``now``."""
    assert request.client_order_id is not None
    return PaperOrder(
        exchange_order_id=f"paper-{uuid.uuid4().hex[:20]}",
        account_id=account_id,
        client_order_id=request.client_order_id,
        symbol=request.symbol,
        side=request.side,
        type=request.type,
        state=ExchangeOrderState.OPEN,
        quantity=request.quantity,
        created_at=now,
        updated_at=now,
        time_in_force=request.time_in_force,
        price=request.price,
        stop_price=request.stop_price,
        reduce_only=request.reduce_only,
        post_only=request.post_only,
        matched_until=now,
    )


async def save(
    uow: UnitOfWork,
    account_id: uuid.UUID,
    books: AccountBooks,
    orders: list[PaperOrder],
    known_trades: dict[str, int],
) -> None:
    """Store the touched balances, the orders, and each order's trades after its first ``known_trades``."""
    await uow.paper.save_balances(account_id, [books.balances[asset] for asset in sorted(books.touched)])
    for order in orders:
        await uow.paper.update_order(order)
        for trade in order.trades[known_trades.get(order.exchange_order_id, 0) :]:
            await uow.paper.add_trade(account_id, trade)


def to_exchange_order(order: PaperOrder) -> ExchangeOrder:
    """Report the order as an exchange gateway does."""
    return ExchangeOrder(
        exchange_order_id=order.exchange_order_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        state=order.state,
        quantity=order.quantity,
        filled_quantity=order.filled_quantity,
        created_at=order.created_at,
        price=order.price,
        stop_price=order.stop_price,
        average_price=order.average_price,
        fee=order.fee if order.fee else ZERO,
        fee_asset=order.fee_asset,
        reason=order.reason,
        trades=tuple(order.trades),
    )
