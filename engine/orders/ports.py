"""Repository ports for orders, order drafts and TWAP executions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.orders.drafts import OrderDraft
from engine.orders.models import Fill, Order, OrderSide, OrderStatus
from engine.orders.twap_models import Twap, TwapStatus


@dataclass(frozen=True)
class OrderFilter:
    """Filter of a user's orders; every field left as None matches everything."""

    statuses: frozenset[OrderStatus] | None = None
    account_id: uuid.UUID | None = None
    symbol: str | None = None
    side: OrderSide | None = None
    since: datetime | None = None
    until: datetime | None = None


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None: ...

    async def update(self, order: Order) -> None: ...

    async def mark_notified(self, order: Order) -> bool:
        """Record the order's current status and filled quantity as notified, unless the stored record
        changed since ``order`` was read; return whether it was recorded."""
        ...

    async def list_unnotified(self, since: datetime, limit: int = 500) -> list[Order]:
        """Return orders outside brackets changed since ``since``, not PENDING, whose state was not sent."""
        ...

    async def add_fill(self, fill: Fill) -> None: ...

    async def get(self, order_id: uuid.UUID) -> Order | None: ...

    async def get_for_user(self, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None: ...

    async def get_by_client_id(self, account_id: uuid.UUID, client_order_id: str) -> Order | None: ...

    async def get_by_client_id_for_user(self, user_id: uuid.UUID, client_order_id: str) -> Order | None: ...

    async def is_client_id_free(
        self, user_id: uuid.UUID, client_order_id: str, *, holding_of: tuple[uuid.UUID, str] | None = None
    ) -> bool:
        """Return whether none of the user's orders has this client order id.

        ``holding_of`` (account id, asset) names a holding to read in the same call, for an
        ``add_to_holding`` later in this transaction.
        """
        ...

    async def find_by_id_prefix(self, user_id: uuid.UUID, prefix: str, limit: int = 10) -> list[Order]:
        """Return the user's orders whose id, as 32 hex digits, starts with ``prefix``."""
        ...

    async def list_for_user(
        self,
        user_id: uuid.UUID,
        *,
        statuses: Iterable[OrderStatus] | None = None,
        offset: int = 0,
        limit: int = 50,
        where: OrderFilter | None = None,
    ) -> tuple[list[Order], int]:
        """Return one page, newest first, and the total count; ``where`` narrows it further."""
        ...

    async def list_by_status(self, statuses: Iterable[OrderStatus]) -> list[Order]: ...

    async def list_for_account(
        self, account_id: uuid.UUID, statuses: Iterable[OrderStatus]
    ) -> list[Order]: ...

    async def accounts_with_status(
        self, statuses: Iterable[OrderStatus]
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """Return (user id, account id) of every account holding an order in one of the statuses."""
        ...

    async def list_for_twap(self, twap_id: uuid.UUID) -> list[Order]: ...

    async def list_for_bracket(self, bracket_id: uuid.UUID) -> list[Order]:
        """Return the bracket's legs, oldest first."""
        ...

    async def count_created_since(self, since: datetime) -> int: ...

    async def add_to_holding(self, account_id: uuid.UUID, asset: str, delta: Decimal) -> Decimal:
        """Add ``delta`` to the account's net holding of ``asset`` from fills; return the new total."""
        ...

    async def get_holding(self, account_id: uuid.UUID, asset: str) -> Decimal: ...


class OrderDraftRepository(Protocol):
    async def add(self, draft: OrderDraft) -> None: ...

    async def get_for_user(self, user_id: uuid.UUID, draft_id: uuid.UUID) -> OrderDraft | None: ...

    async def update(self, draft: OrderDraft) -> None: ...

    async def expire_open(self, now: datetime) -> int:
        """Mark every OPEN draft whose time is up as EXPIRED; return how many."""
        ...

    async def mark_reported(self, draft_id: uuid.UUID, at: datetime) -> None:
        """Record that the user was notified of the outcome of the CONFIRMED draft."""
        ...

    async def list_unreported(self) -> list[OrderDraft]:
        """Return CONFIRMING drafts and CONFIRMED ones not marked reported, oldest first."""
        ...


class TwapRepository(Protocol):
    async def add(self, twap: Twap) -> None: ...

    async def update(self, twap: Twap) -> None: ...

    async def get_for_user(self, user_id: uuid.UUID, twap_id: uuid.UUID) -> Twap | None: ...

    async def list_due(self, now: datetime) -> list[Twap]:
        """Return ACTIVE executions whose next slice is due, oldest first."""
        ...

    async def list_for_user(self, user_id: uuid.UUID, statuses: Iterable[TwapStatus]) -> list[Twap]: ...
