"""Ports the engine needs from an exchange: one gateway per account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, TypeGuard, runtime_checkable

from engine.accounts.models import Account, Exchange
from engine.exchanges.models import BalanceEntry, Capabilities, ExchangeOrder, ExchangeTrade, OrderBook
from engine.market.models import Market, Ticker
from engine.orders.models import OrderRequest

if TYPE_CHECKING:
    from engine.uow import UnitOfWork


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

    async def fetch_order_book(self, symbol: str, limit: int = 50) -> OrderBook: ...

    async def fetch_balance(self) -> dict[str, BalanceEntry]: ...

    async def create_order(self, request: OrderRequest) -> ExchangeOrder: ...

    async def create_oco(
        self, limit: OrderRequest, stop: OrderRequest
    ) -> tuple[ExchangeOrder, ExchangeOrder]:
        """Place a limit and a stop-market that share one quantity: when one fills, the other is cancelled.

        Only where ``capabilities.oco`` is true; returns the limit leg's and the
        stop leg's reports. Where ``capabilities.oco_stop_limit`` is set, the
        stop leg rests as a stop-limit that far beyond the stop. Never retried
        by the gateway, like ``create_order``.
        """
        ...

    def sibling_leg_id(self, exchange_order_id: str) -> str | None:
        """Return the exchange id of the other leg of the OCO pair ``exchange_order_id`` belongs to.

        Only where one exchange order carries both legs under one client order
        id (OKX's OCO algo order): the other leg can then be found only through
        its partner. None everywhere else, where each leg has its own id.
        """
        ...

    async def fetch_order(
        self,
        symbol: str,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
        is_trigger: bool = False,
    ) -> ExchangeOrder | None:
        """Return the order, or None when the exchange does not know it."""
        ...

    async def cancel_order(
        self, symbol: str, exchange_order_id: str, *, is_trigger: bool = False
    ) -> ExchangeOrder: ...

    async def edit_order(
        self,
        symbol: str,
        exchange_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> ExchangeOrder:
        """Amend a resting order in place; only where ``capabilities.amend`` is true."""
        ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Return regular and trigger orders that are still open."""
        ...

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> list[ExchangeTrade]: ...

    async def close(self) -> None: ...


@runtime_checkable
class AtomicOrderGateway(Protocol):
    """A gateway whose exchange keeps its books in PATRIOT's own database (the PAPER simulator).

    No network is involved, so the order can be created, filled and recorded in
    one transaction: if the process dies before the commit, neither PATRIOT nor
    the exchange has the order, and nothing needs reconciling. A live exchange
    never offers this: its order must be stored PENDING before it is sent.
    """

    async def create_order_atomically(
        self,
        request: OrderRequest,
        before: Callable[[UnitOfWork], Awaitable[None]],
        after: Callable[[UnitOfWork, ExchangeOrder], Awaitable[None]],
    ) -> ExchangeOrder:
        """Create the order in one write transaction: ``before`` runs first in it, ``after`` last.

        Either callback may raise to roll everything back. Raises
        ``PermanentExchangeError`` as ``create_order`` does, with nothing written.
        """
        ...

    async def fetch_balance_in(self, uow: UnitOfWork) -> dict[str, BalanceEntry]:
        """``fetch_balance`` read in the caller's transaction, with the other reads of the order."""
        ...


def is_atomic(gateway: object) -> TypeGuard[AtomicOrderGateway]:
    """Return whether the gateway has ``AtomicOrderGateway``'s methods, for the order path.

    ``isinstance`` on the protocol gives the same result but lists the protocol's members again on every call.
    """
    return all(callable(getattr(gateway, name, None)) for name in _ATOMIC_MEMBERS)


_ATOMIC_MEMBERS = ("create_order_atomically", "fetch_balance_in")


class GatewayProvider(Protocol):
    """Hands out the (cached, reused) gateway of an account."""

    async def gateway_for(self, account: Account) -> ExchangeGateway: ...

    async def close(self) -> None: ...
