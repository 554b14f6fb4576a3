"""A TWAP execution: one large market order sent as equal slices at a fixed interval."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.common.money import floor_to_step
from engine.orders.models import OrderSide

MIN_SLICES = 2
MAX_SLICES = 100
MIN_INTERVAL_SECONDS = 10
MAX_INTERVAL_SECONDS = 24 * 3600


class TwapStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


@dataclass
class Twap:
    id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    symbol: str
    side: OrderSide
    total_quantity: Decimal
    slices: int
    interval_seconds: int
    status: TwapStatus
    next_run_at: datetime
    created_at: datetime
    updated_at: datetime
    slices_sent: int = 0
    reason: str | None = None

    @property
    def short_id(self) -> str:
        return self.id.hex[:8]

    def slice_quantity(self, index: int, step: Decimal) -> Decimal:
        return slice_quantity(self.total_quantity, self.slices, index, step)

    def client_order_id(self, index: int) -> str:
        """The slice's client order id, fixed in advance so a restart can never send a slice twice.

        32 letters and digits: "tw", 24 hex digits of the TWAP id and the slice number.
        """
        return f"tw{self.id.hex[:24]}{index:06d}"


def slice_quantity(total: Decimal, slices: int, index: int, step: Decimal) -> Decimal:
    """Equal slices rounded down to the step; the last slice takes what rounding left over."""
    regular = floor_to_step(total / slices, step)
    if index == slices - 1:
        return total - regular * (slices - 1)
    return regular
