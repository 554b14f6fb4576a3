"""What exchange gateways return, in unified form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.orders.models import OrderSide, OrderType


class ExchangeOrderState(StrEnum):
    """Order state as an exchange reports it (ccxt's unified vocabulary)."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


@dataclass(frozen=True)
class BalanceEntry:
    asset: str
    free: Decimal
    used: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.used


@dataclass(frozen=True)
class ExchangeTrade:
    trade_id: str
    exchange_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    executed_at: datetime


@dataclass(frozen=True)
class ExchangeOrder:
    """An order as the exchange knows it."""

    exchange_order_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    state: ExchangeOrderState
    quantity: Decimal
    filled_quantity: Decimal
    created_at: datetime
    price: Decimal | None = None
    stop_price: Decimal | None = None
    average_price: Decimal | None = None
    fee: Decimal = Decimal(0)
    fee_asset: str | None = None
    reason: str | None = None
    trades: tuple[ExchangeTrade, ...] = field(default_factory=tuple)
    # True for orders an exchange keeps apart from the regular book (Binance algo
    # orders, Bybit conditional orders, OKX algo orders): they need their own
    # flag to be fetched or cancelled.
    is_trigger: bool = False


@dataclass(frozen=True)
class OrderBookLevel:
    price: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class OrderBook:
    """Best bids (highest first) and asks (lowest first)."""

    symbol: str
    bids: tuple[OrderBookLevel, ...]
    asks: tuple[OrderBookLevel, ...]
    timestamp: datetime


@dataclass(frozen=True)
class Capabilities:
    """What an exchange supports natively; the order and bracket services read this."""

    order_types: frozenset[OrderType]
    trigger_orders: bool
    attached_tp_sl: bool
    reduce_only: bool
    oco: bool
    amend: bool
    testnet: bool
    # Where an OCO pair's stop leg rests as a stop-limit: how far beyond the stop its limit
    # lies, as a fraction of the stop (a price that gaps past it leaves the leg unfilled).
    oco_stop_limit: Decimal | None = None
    # False where the exchange cancels an OCO pair's stop as soon as its take-profit fills in part
    # (or fires), so the rest of a partly filled target has no stop until the bot replaces the pair.
    oco_stop_survives_partial_fill: bool = True
