"""An in-memory exchange behind the gateway port, with the faults real exchanges show.

It behaves like Bybit or OKX: stop and take-profit orders live in a separate
trigger book, so fetching or cancelling them without ``is_trigger=True``
returns "not found". Order reports carry no trades (as ccxt's fetch_order on
most exchanges); fills are read with ``fetch_my_trades``. Scripted faults:

- ``accept_then_time_out``: the exchange stores the order, then the answer is lost;
- ``time_out_before_accept``: the request never reaches the matching engine;
- ``unknown_lookups``: lookups return "not found" for a while after a create,
  as None, or as an ORDER_NOT_FOUND error when ``not_found_raises`` is set;
- ``open_orders_unavailable``: ``fetch_open_orders`` times out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from engine.accounts.models import Account, Exchange
from engine.errors import PermanentExchangeError, TemporaryExchangeError, ValidationError
from engine.exchanges.models import (
    BalanceEntry,
    Capabilities,
    ExchangeOrder,
    ExchangeOrderState,
    ExchangeTrade,
    OrderBook,
    OrderBookLevel,
)
from engine.exchanges.paper.markets import PAPER_MARKETS
from engine.market.models import Market, Ticker
from engine.orders.models import OrderRequest, OrderSide, OrderType

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Faults:
    accept_then_time_out: int = 0
    time_out_before_accept: int = 0
    unknown_lookups: int = 0
    not_found_raises: bool = False
    open_orders_unavailable: int = 0


@dataclass
class FakeGateway:
    amend: bool = False
    last: Decimal = Decimal("43000")
    exchange: Exchange = Exchange.BYBIT
    faults: Faults = field(default_factory=Faults)
    calls: list[tuple[object, ...]] = field(default_factory=list)
    orders: dict[str, ExchangeOrder] = field(default_factory=dict)
    trades: list[ExchangeTrade] = field(default_factory=list)
    balances: dict[str, BalanceEntry] = field(
        default_factory=lambda: {
            "USDT": BalanceEntry("USDT", Decimal("100000"), Decimal(0)),
            "BTC": BalanceEntry("BTC", Decimal("1"), Decimal(0)),
        }
    )
    # (price, quantity) levels; the default is deep enough for any test order.
    asks: list[tuple[Decimal, Decimal]] = field(default_factory=lambda: [(Decimal("43001"), Decimal("100"))])
    bids: list[tuple[Decimal, Decimal]] = field(default_factory=lambda: [(Decimal("42999"), Decimal("100"))])

    def __post_init__(self) -> None:
        self.capabilities = Capabilities(
            order_types=frozenset(OrderType),
            trigger_orders=True,
            attached_tp_sl=True,
            reduce_only=True,
            oco=False,
            amend=self.amend,
            testnet=True,
        )
        self._ids = itertools.count(1)

    # ----- market data ---------------------------------------------------------------

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        return {"BTC/USDT": PAPER_MARKETS["BTC/USDT"]}

    async def market(self, symbol: str) -> Market:
        if symbol != "BTC/USDT":
            raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=["BTC/USDT"])
        return PAPER_MARKETS[symbol]

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return Ticker(symbol, self.last, MOMENT, bid=self.bids[0][0], ask=self.asks[0][0])

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        return OrderBook(
            symbol=symbol,
            bids=tuple(OrderBookLevel(price, quantity) for price, quantity in self.bids[:limit]),
            asks=tuple(OrderBookLevel(price, quantity) for price, quantity in self.asks[:limit]),
            timestamp=MOMENT,
        )

    async def fetch_balance(self) -> dict[str, BalanceEntry]:
        return dict(self.balances)

    # ----- orders --------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> ExchangeOrder:
        self.calls.append(("create", request.client_order_id))
        if self.faults.time_out_before_accept:
            self.faults.time_out_before_accept -= 1
            raise TemporaryExchangeError("request timed out before the exchange received it")
        if any(order.client_order_id == request.client_order_id for order in self.orders.values()):
            raise PermanentExchangeError("duplicate", reason="DUPLICATE_CLIENT_ORDER_ID")

        order = self._accept(request)
        if self.faults.accept_then_time_out:
            self.faults.accept_then_time_out -= 1
            raise TemporaryExchangeError("read timed out after the exchange accepted the order")
        return order

    def _accept(self, request: OrderRequest) -> ExchangeOrder:
        assert request.client_order_id is not None
        exchange_id = f"X{next(self._ids)}"
        order = ExchangeOrder(
            exchange_order_id=exchange_id,
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            state=ExchangeOrderState.OPEN,
            quantity=request.quantity,
            filled_quantity=Decimal(0),
            created_at=MOMENT,
            price=request.price,
            stop_price=request.stop_price,
            is_trigger=request.type.needs_stop_price,
        )
        self.orders[exchange_id] = order
        if request.type is OrderType.MARKET:
            price = self.asks[0][0] if request.side is OrderSide.BUY else self.bids[0][0]
            self.fill(exchange_id, request.quantity, price)
            trades = tuple(trade for trade in self.trades if trade.exchange_order_id == exchange_id)
            return replace(self.orders[exchange_id], trades=trades)
        return order

    def fill(self, exchange_id: str, quantity: Decimal, price: Decimal) -> None:
        """Fill part of an order on the exchange's side, as its matching engine would."""
        order = self.orders[exchange_id]
        filled = order.filled_quantity + quantity
        trade = ExchangeTrade(
            trade_id=f"T{next(self._ids)}",
            exchange_order_id=exchange_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            quantity=quantity,
            fee=quantity * price * Decimal("0.001"),
            fee_asset="USDT",
            is_maker=order.type is not OrderType.MARKET,
            executed_at=MOMENT,
        )
        self.trades.append(trade)
        spent = (order.average_price or Decimal(0)) * order.filled_quantity + price * quantity
        self.orders[exchange_id] = replace(
            order,
            filled_quantity=filled,
            average_price=spent / filled,
            fee=order.fee + trade.fee,
            fee_asset="USDT",
            state=ExchangeOrderState.CLOSED if filled >= order.quantity else ExchangeOrderState.OPEN,
        )

    def sibling_leg_id(self, exchange_order_id: str) -> str | None:
        return None

    async def fetch_order(
        self,
        symbol: str,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
        is_trigger: bool = False,
    ) -> ExchangeOrder | None:
        self.calls.append(("fetch", exchange_order_id or client_order_id, is_trigger))
        if self.faults.unknown_lookups:
            self.faults.unknown_lookups -= 1
            if self.faults.not_found_raises:
                raise PermanentExchangeError("order does not exist", reason="ORDER_NOT_FOUND")
            return None
        for order in self.orders.values():
            matches = order.exchange_order_id == exchange_order_id or (
                client_order_id is not None and order.client_order_id == client_order_id
            )
            if matches and order.is_trigger == is_trigger:
                return order
        return None

    async def cancel_order(
        self, symbol: str, exchange_order_id: str, *, is_trigger: bool = False
    ) -> ExchangeOrder:
        self.calls.append(("cancel", exchange_order_id, is_trigger))
        order = self.orders.get(exchange_order_id)
        if order is None or order.is_trigger != is_trigger or order.state is not ExchangeOrderState.OPEN:
            raise PermanentExchangeError("order not found", reason="ORDER_NOT_FOUND")
        self.orders[exchange_order_id] = replace(order, state=ExchangeOrderState.CANCELED)
        return self.orders[exchange_order_id]

    async def edit_order(
        self,
        symbol: str,
        exchange_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> ExchangeOrder:
        self.calls.append(("edit", exchange_order_id, quantity, price, stop_price))
        if not self.amend:
            raise PermanentExchangeError("amend is not supported", reason="NOT_SUPPORTED")
        order = self.orders[exchange_order_id]
        self.orders[exchange_order_id] = replace(
            order,
            quantity=quantity or order.quantity,
            price=price or order.price,
            stop_price=stop_price or order.stop_price,
        )
        return self.orders[exchange_order_id]

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        self.calls.append(("open_orders",))
        if self.faults.open_orders_unavailable:
            self.faults.open_orders_unavailable -= 1
            raise TemporaryExchangeError("rate limited")
        return [order for order in self.orders.values() if order.state is ExchangeOrderState.OPEN]

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> list[ExchangeTrade]:
        self.calls.append(("trades",))
        return list(self.trades)

    async def close(self) -> None:
        """Nothing to release."""

    def count(self, name: str) -> int:
        return sum(1 for call in self.calls if call[0] == name)


class FakeGatewayProvider:
    """Hands the one fake gateway to every account."""

    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway

    async def gateway_for(self, account: Account) -> FakeGateway:
        return self.gateway

    async def close(self) -> None:
        """Nothing to release."""
