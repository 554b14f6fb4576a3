"""Orders, fills and the requests that create them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.common.money import ZERO


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

    @property
    def needs_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)

    @property
    def needs_stop_price(self) -> bool:
        return self in (
            OrderType.STOP_MARKET,
            OrderType.STOP_LIMIT,
            OrderType.TAKE_PROFIT,
            OrderType.TAKE_PROFIT_LIMIT,
        )


def triggers_on_rise(order_type: OrderType, side: OrderSide) -> bool:
    """Tell whether a trigger order fires when the price rises to its stop price.

    A stop buys above and sells below the market; a take-profit buys below
    and sells above it.
    """
    is_stop = order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
    return (side is OrderSide.BUY) == is_stop


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def is_terminal(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True)
class OrderRequest:
    """An order as the user requested it, before validation against the market."""

    symbol: str
    side: OrderSide
    type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    client_order_id: str | None = None


@dataclass(frozen=True)
class BracketLink:
    """What ties an order to its bracket when it is placed."""

    bracket_id: uuid.UUID
    leg: str  # the leg's role as stored in ``Order.bracket_leg``
    protective: bool = False  # an exit: placed even after the user's trading is paused
    stop_loss: Decimal | None = None  # the entry's planned stop, for the loss-at-stop check figure


@dataclass
class Fill:
    """One execution of (part of) an order."""

    id: uuid.UUID
    order_id: uuid.UUID
    trade_id: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    executed_at: datetime


@dataclass(frozen=True)
class CheckRecord:
    """One pre-trade check's result as stored with the order it let through."""

    name: str
    passed: bool
    figures: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Order:
    """An order as PATRIOT records it; ``status`` changes only through ``engine.orders.state``."""

    id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    quantity: Decimal
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    time_in_force: TimeInForce = TimeInForce.GTC
    price: Decimal | None = None
    stop_price: Decimal | None = None
    reduce_only: bool = False
    post_only: bool = False
    exchange_order_id: str | None = None
    filled_quantity: Decimal = ZERO
    average_price: Decimal | None = None
    fee: Decimal = ZERO
    fee_asset: str | None = None
    reject_reason: str | None = None
    bracket_id: uuid.UUID | None = None
    # The order's role in its bracket: ``entry``, ``target:1``, ``stop:1`` ... (engine.brackets.models.Leg).
    bracket_leg: str | None = None
    fills: list[Fill] = field(default_factory=list)
    # Set from the exchange's report: the order lives in the exchange's separate
    # book of trigger orders and needs the flag to be fetched or cancelled.
    is_trigger: bool = False
    checks: tuple[CheckRecord, ...] = ()
    # Lookups by client_order_id that found nothing while the order was PENDING.
    lookup_misses: int = 0
    twap_id: uuid.UUID | None = None
    # The order this one replaced by cancel-replace (exchanges without amend).
    replaces_order_id: uuid.UUID | None = None
    # The state the user was last notified about, by a push or on the card they pressed
    # (None: nothing yet). Written in the transaction that queues the push.
    notified_status: OrderStatus | None = None
    notified_filled: Decimal | None = None

    @property
    def is_bracket_exit(self) -> bool:
        """True for a bracket's exits, which follow its position and leave only when it closes."""
        return self.bracket_id is not None and self.bracket_leg != "entry"

    @property
    def is_notified(self) -> bool:
        """True when the user was notified of the order's current status and filled quantity."""
        return self.notified_status is self.status and self.notified_filled == self.filled_quantity

    def mark_notified(self) -> None:
        """Record that the user is sent the current state (a push is queued, or the card shows it)."""
        self.notified_status = self.status
        self.notified_filled = self.filled_quantity

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def short_id(self) -> str:
        """The first 8 hex digits of the id, as users see and type it."""
        return self.id.hex[:8]

    @property
    def base_asset(self) -> str:
        return self.symbol.partition("/")[0]

    @property
    def net_base_quantity(self) -> Decimal:
        """Base asset this order added to (BUY) or removed from (SELL) the account, fees included.

        A fee charged in the base asset shrinks what a buy delivers, so an exit
        sized from the entry must use this, not ``filled_quantity``.
        """
        base_fees = sum((fill.fee for fill in self.fills if fill.fee_asset == self.base_asset), ZERO)
        if self.side is OrderSide.BUY:
            return self.filled_quantity - base_fees
        return self.filled_quantity + base_fees
