"""Order drafts: an order shown for confirmation and not yet sent.

A draft gets its client_order_id when it is created, so pressing Confirm twice
(or a retried callback) can never produce two orders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from engine.errors import IllegalTransitionError
from engine.orders.models import OrderRequest

if TYPE_CHECKING:
    from engine.brackets.plan import BracketPlan


class DraftStatus(StrEnum):
    OPEN = "OPEN"
    # Confirm was pressed and the order is being checked; it becomes CONFIRMED with its stored
    # order, or OPEN again when the checks refuse it. A restart finds the ones a crash cut short.
    CONFIRMING = "CONFIRMING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


@dataclass
class OrderEstimate:
    """Expected execution of an order at the current price, fees included."""

    price: Decimal
    quantity: Decimal
    cost: Decimal
    fee: Decimal
    fee_asset: str


@dataclass(frozen=True)
class Adjustment:
    """A value the engine changed to fit the market's steps, shown on the confirmation."""

    field: str  # quantity, price or stop_price
    requested: Decimal
    used: Decimal


@dataclass
class OrderDraft:
    id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    request: OrderRequest
    client_order_id: str
    estimate: OrderEstimate
    status: DraftStatus
    created_at: datetime
    expires_at: datetime
    adjustments: tuple[Adjustment, ...] = ()
    # Set when Confirm changes an existing order instead of placing a new one.
    modifies_order_id: uuid.UUID | None = None
    # Set when the draft is a bracket: ``request`` is its entry, and Confirm starts the bracket.
    bracket: BracketPlan | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def close(self, target: DraftStatus) -> None:
        """Move the draft on: OPEN -> any, CONFIRMING -> CONFIRMED, OPEN or EXPIRED; the rest is final."""
        allowed = _TRANSITIONS.get(self.status, frozenset())
        if target not in allowed:
            raise IllegalTransitionError("draft", self.status.value, target.value)
        self.status = target


_TRANSITIONS = {
    DraftStatus.OPEN: frozenset(
        {DraftStatus.CONFIRMING, DraftStatus.CONFIRMED, DraftStatus.CANCELLED, DraftStatus.EXPIRED}
    ),
    DraftStatus.CONFIRMING: frozenset({DraftStatus.CONFIRMED, DraftStatus.OPEN, DraftStatus.EXPIRED}),
}
