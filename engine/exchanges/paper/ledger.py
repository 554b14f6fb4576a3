"""The PAPER exchange's own books: balances, orders and trades per paper account.

Kept apart from PATRIOT's ``orders`` table on purpose: the simulator plays the
exchange, so reconciliation by client_order_id works the same as on a real one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.common.money import ZERO
from engine.exchanges.models import ExchangeOrderState, ExchangeTrade
from engine.orders.models import OrderSide, OrderType, TimeInForce


@dataclass
class PaperBalance:
    asset: str
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass
class PaperOrder:
    """An order in the simulator's book."""

    exchange_order_id: str
    account_id: uuid.UUID
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    state: ExchangeOrderState
    quantity: Decimal
    created_at: datetime
    updated_at: datetime
    time_in_force: TimeInForce = TimeInForce.GTC
    price: Decimal | None = None
    stop_price: Decimal | None = None
    filled_quantity: Decimal = ZERO
    average_price: Decimal | None = None
    fee: Decimal = ZERO
    fee_asset: str | None = None
    reason: str | None = None
    trades: list[ExchangeTrade] = field(default_factory=list)
    reduce_only: bool = False
    post_only: bool = False
    # A stop or take-profit order becomes active once the price reaches its stop.
    triggered: bool = False
    # Balance this order holds back (quote for a buy, base for a sell).
    locked: Decimal = ZERO
    # The moment up to which the replayed price path has been matched against it.
    matched_until: datetime | None = None
    # Liquidity already taken from one recorded candle (its open time), so a
    # candle's volume share is never used twice by one order.
    liquidity_candle: datetime | None = None
    liquidity_used: Decimal = ZERO
    # The other leg of the OCO this order belongs to (see ``engine.exchanges.paper.oco``).
    oco_with: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.state is ExchangeOrderState.OPEN


class PaperLedger(Protocol):
    async def get_balances(
        self, account_id: uuid.UUID, *, for_update: bool = False
    ) -> dict[str, PaperBalance]:
        """Return balances by asset; ``for_update`` locks the rows where the database can."""
        ...

    async def get_balances_for_new_order(
        self, account_id: uuid.UUID, client_order_id: str
    ) -> dict[str, PaperBalance] | None:
        """Read the balances for update before a new order, or return None when its client order id is taken.

        The storage makes both reads in one call to the database driver where it can.
        """
        ...

    async def get_balances_many(
        self, account_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, PaperBalance]]:
        """Balances of many accounts, by account and asset; accounts without balances are left out."""
        ...

    async def save_balance(self, account_id: uuid.UUID, balance: PaperBalance) -> None: ...

    async def save_balances(self, account_id: uuid.UUID, balances: Sequence[PaperBalance]) -> None:
        """Store several balances of one account, inserting the rows that do not exist yet."""
        ...

    async def add_order(self, order: PaperOrder) -> None: ...

    async def update_order(self, order: PaperOrder) -> None: ...

    async def add_trade(self, account_id: uuid.UUID, trade: ExchangeTrade) -> None: ...

    async def get_order(
        self,
        account_id: uuid.UUID,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> PaperOrder | None: ...

    async def list_open_orders(
        self, account_id: uuid.UUID, symbol: str | None = None
    ) -> list[PaperOrder]: ...

    async def accounts_with_open_orders(self) -> list[uuid.UUID]: ...

    async def list_trades(
        self, account_id: uuid.UUID, symbol: str, since: datetime | None = None
    ) -> list[ExchangeTrade]: ...
