"""The gateway of one PAPER account, over the shared simulator."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

from engine.accounts.models import Exchange
from engine.exchanges.models import BalanceEntry, Capabilities, ExchangeOrder, ExchangeTrade, OrderBook
from engine.exchanges.paper.exchange import PaperExchange
from engine.market.models import Market, Ticker
from engine.orders.models import OrderRequest, OrderType
from engine.uow import UnitOfWork

# PAPER keeps trigger orders in its one book (no separate trigger book), amends
# in place, takes reduce-only sells (a reduce-only buy has nothing to reduce on
# a spot account and is refused) and OCO pairs of a limit and a stop-market.
PAPER_CAPABILITIES = Capabilities(
    order_types=frozenset(OrderType),
    trigger_orders=True,
    attached_tp_sl=False,
    reduce_only=True,
    oco=True,
    amend=True,
    testnet=False,
)


class PaperGateway:
    exchange = Exchange.PAPER
    capabilities = PAPER_CAPABILITIES

    def __init__(self, simulator: PaperExchange, account_id: uuid.UUID) -> None:
        self._simulator = simulator
        self._account_id = account_id

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        return dict(self._simulator.markets)

    async def market(self, symbol: str) -> Market:
        return self._simulator.market(symbol)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await self._simulator.fetch_ticker(symbol)

    async def fetch_balance(self) -> dict[str, BalanceEntry]:
        return await self._simulator.fetch_balance(self._account_id)

    async def fetch_balance_in(self, uow: UnitOfWork) -> dict[str, BalanceEntry]:
        return await self._simulator.balances_in(uow, self._account_id)

    async def create_order(self, request: OrderRequest) -> ExchangeOrder:
        return await self._simulator.create_order(self._account_id, request)

    async def create_order_atomically(
        self,
        request: OrderRequest,
        before: Callable[[UnitOfWork], Awaitable[None]],
        after: Callable[[UnitOfWork, ExchangeOrder], Awaitable[None]],
    ) -> ExchangeOrder:
        return await self._simulator.create_order(self._account_id, request, before=before, after=after)

    async def create_oco(
        self, limit: OrderRequest, stop: OrderRequest
    ) -> tuple[ExchangeOrder, ExchangeOrder]:
        return await self._simulator.create_oco(self._account_id, limit, stop)

    def sibling_leg_id(self, exchange_order_id: str) -> str | None:
        return None  # each leg of a PAPER pair is an order of its own

    async def fetch_order(
        self,
        symbol: str,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
        is_trigger: bool = False,
    ) -> ExchangeOrder | None:
        return await self._simulator.fetch_order(
            self._account_id, exchange_order_id=exchange_order_id, client_order_id=client_order_id
        )

    async def cancel_order(
        self, symbol: str, exchange_order_id: str, *, is_trigger: bool = False
    ) -> ExchangeOrder:
        return await self._simulator.cancel_order(self._account_id, exchange_order_id)

    async def edit_order(
        self,
        symbol: str,
        exchange_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> ExchangeOrder:
        return await self._simulator.edit_order(
            self._account_id, exchange_order_id, quantity=quantity, price=price, stop_price=stop_price
        )

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook:
        return await self._simulator.fetch_order_book(symbol, limit)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        return await self._simulator.fetch_open_orders(self._account_id, symbol)

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> list[ExchangeTrade]:
        return await self._simulator.fetch_my_trades(self._account_id, symbol, since)

    async def close(self) -> None:
        """Nothing to release: the simulator is shared and closed with the application."""
