"""Ports the engine needs from an exchange: one gateway per account."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from engine.accounts.models import Account, Exchange
from engine.exchanges.models import BalanceEntry, Capabilities, ExchangeOrder, ExchangeTrade
from engine.market.models import Market, Ticker
from engine.orders.models import OrderRequest


class ExchangeGateway(Protocol):
    """Unified access to one account on one exchange.

    Errors are ``TemporaryExchangeError`` (retry may help) or
    ``PermanentExchangeError`` (it will not). ``create_order`` is never retried
    by the gateway itself: the caller resolves an unknown outcome by
    ``fetch_order(client_order_id=...)``.
    """

    exchange: Exchange
    capabilities: Capabilities

    async def load_markets(self, reload: bool = False) -> dict[str, Market]: ...

    async def market(self, symbol: str) -> Market:
        """Return the market's rules, or raise ValidationError SYMBOL_UNKNOWN."""
        ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_balance(self) -> dict[str, BalanceEntry]: ...

    async def create_order(self, request: OrderRequest) -> ExchangeOrder: ...

    async def fetch_order(
        self,
        symbol: str,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> ExchangeOrder | None:
        """Return the order, or None when the exchange does not know it."""
        ...

    async def cancel_order(self, symbol: str, exchange_order_id: str) -> ExchangeOrder: ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]: ...

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> list[ExchangeTrade]: ...

    async def close(self) -> None: ...


class GatewayProvider(Protocol):
    """Hands out the (cached, reused) gateway of an account."""

    async def gateway_for(self, account: Account) -> ExchangeGateway: ...

    async def close(self) -> None: ...
