"""Applying an exchange's report of an order to PATRIOT's record of it, and building that record."""

from __future__ import annotations

from decimal import Decimal

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.common.money import ZERO
from engine.exchanges.models import ExchangeOrder, ExchangeOrderState
from engine.orders.models import CheckRecord, Fill, Order, OrderRequest, OrderSide, OrderStatus
from engine.orders.state import check_transition
from engine.risk.pretrade import PreTradeReport
from engine.users.models import User


def status_from_exchange(report: ExchangeOrder) -> OrderStatus:
    """Map the exchange's state and fill to PATRIOT's order status."""
    if report.state is ExchangeOrderState.CLOSED:
        return OrderStatus.FILLED
    if report.state in (ExchangeOrderState.CANCELED, ExchangeOrderState.EXPIRED):
        return OrderStatus.CANCELLED
    if report.state is ExchangeOrderState.REJECTED:
        return OrderStatus.REJECTED
    if report.filled_quantity > ZERO:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.NEW


def apply_report(order: Order, report: ExchangeOrder) -> tuple[OrderStatus, list[Fill]]:
    """Update the order from the report and return its previous status and the new fills.

    Raises IllegalTransitionError when the report would move the order
    backwards (for example FILLED -> NEW).
    """
    previous = order.status
    target = status_from_exchange(report)
    if target != previous or target is OrderStatus.PARTIALLY_FILLED:
        check_transition(previous, target)
    order.status = target

    order.exchange_order_id = report.exchange_order_id
    order.is_trigger = report.is_trigger
    if ZERO < report.quantity != order.quantity and report.quantity >= report.filled_quantity:
        # The exchange changed the order's size (PAPER's OCO stop follows its limit leg's rest).
        order.quantity = report.quantity
    order.filled_quantity = report.filled_quantity
    order.average_price = report.average_price
    order.fee = report.fee
    order.fee_asset = report.fee_asset
    if target in (OrderStatus.REJECTED, OrderStatus.CANCELLED) and report.reason:
        # Why the exchange rejected it, or expired the rest (IOC, FOK, post-only).
        order.reject_reason = report.reason

    known = {fill.trade_id for fill in order.fills}
    new_fills = [
        Fill(
            id=new_id(),
            order_id=order.id,
            trade_id=trade.trade_id,
            price=trade.price,
            quantity=trade.quantity,
            fee=trade.fee,
            fee_asset=trade.fee_asset,
            is_maker=trade.is_maker,
            executed_at=trade.executed_at,
        )
        for trade in report.trades
        if trade.trade_id not in known
    ]
    order.fills.extend(new_fills)
    return previous, new_fills


def base_delta(order: Order, fills: list[Fill]) -> Decimal:
    """Base asset the fills add to the account (negative for a sell), net of fees paid in base."""
    base = order.base_asset
    quantity = sum((fill.quantity for fill in fills), ZERO)
    base_fees = sum((fill.fee for fill in fills if fill.fee_asset == base), ZERO)
    if order.side is OrderSide.BUY:
        return quantity - base_fees
    return -(quantity + base_fees)


def event_name_for(previous: OrderStatus, order: Order, new_fills: int) -> str | None:
    """Return the event a change emits, or None when nothing a user cares about changed."""
    if order.status is previous and not (order.status is OrderStatus.PARTIALLY_FILLED and new_fills):
        return None
    return {
        OrderStatus.NEW: "order_created",
        OrderStatus.PARTIALLY_FILLED: "order_partially_filled",
        OrderStatus.FILLED: "order_filled",
        OrderStatus.CANCELLED: "order_cancelled",
        OrderStatus.REJECTED: "order_rejected",
    }.get(order.status)


def pending_order(
    user: User, account: Account, request: OrderRequest, clock: Clock, report: PreTradeReport
) -> Order:
    """Build the PENDING order stored before the request is sent, with the checks it passed."""
    assert request.client_order_id is not None
    now = clock.now()
    return Order(
        id=new_id(),
        user_id=user.id,
        account_id=account.id,
        client_order_id=request.client_order_id,
        symbol=request.symbol,
        side=request.side,
        type=request.type,
        quantity=request.quantity,
        status=OrderStatus.PENDING,
        created_at=now,
        updated_at=now,
        time_in_force=request.time_in_force,
        price=request.price,
        stop_price=request.stop_price,
        reduce_only=request.reduce_only,
        post_only=request.post_only,
        checks=tuple(CheckRecord(r.name, r.passed, dict(r.figures)) for r in report.results),
    )


def request_of(order: Order) -> OrderRequest:
    """Rebuild the request that is sent to the exchange for a stored order."""
    return OrderRequest(
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        quantity=order.quantity,
        price=order.price,
        stop_price=order.stop_price,
        time_in_force=order.time_in_force,
        reduce_only=order.reduce_only,
        post_only=order.post_only,
        client_order_id=order.client_order_id,
    )


def copy_state(source: Order, target: Order) -> None:
    """Copy what an exchange report can change from the stored order to the caller's copy."""
    for name in (
        "status",
        "exchange_order_id",
        "quantity",
        "price",
        "stop_price",
        "filled_quantity",
        "average_price",
        "fee",
        "fee_asset",
        "reject_reason",
        "updated_at",
        "fills",
        "is_trigger",
        "lookup_misses",
    ):
        setattr(target, name, getattr(source, name))
