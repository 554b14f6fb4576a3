"""Repository ports for orders and order drafts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from engine.orders.drafts import OrderDraft
from engine.orders.models import Fill, Order, OrderStatus


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None: ...

    async def update(self, order: Order) -> None: ...

    async def add_fill(self, fill: Fill) -> None: ...

    async def get(self, order_id: uuid.UUID) -> Order | None: ...

    async def get_for_user(self, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None: ...

    async def get_by_client_id(self, account_id: uuid.UUID, client_order_id: str) -> Order | None: ...

    async def list_for_user(
        self,
        user_id: uuid.UUID,
        *,
        statuses: Iterable[OrderStatus] | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Order], int]: ...

    async def list_by_status(self, statuses: Iterable[OrderStatus]) -> list[Order]: ...

    async def count_created_since(self, since: datetime) -> int: ...


class OrderDraftRepository(Protocol):
    async def add(self, draft: OrderDraft) -> None: ...

    async def get_for_user(self, user_id: uuid.UUID, draft_id: uuid.UUID) -> OrderDraft | None: ...

    async def update(self, draft: OrderDraft) -> None: ...

    async def expire_open(self, now: datetime) -> int:
        """Mark every OPEN draft whose time is up as EXPIRED; return how many."""
        ...
