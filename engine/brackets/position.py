"""A bracket's position, computed from its legs' fills and never stored, so it cannot drift from them.

For a long the entry's base arrives net of any fee charged in the base
asset, rounded down to the market's step (what is below the step cannot be
sold). For a short (a spot SELL bracket) the position is the base sold,
which the exits buy back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from engine.brackets.models import Bracket, Leg, LegRole
from engine.common.money import ZERO, floor_to_step
from engine.orders.models import Order, OrderStatus

LIVE = frozenset({OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


@dataclass(frozen=True)
class LegOrder:
    order: Order
    leg: Leg

    @property
    def generation(self) -> int:
        """The generation number at the end of the leg's client order id."""
        tail = self.order.client_order_id[-4:]
        return int(tail) if tail.isdigit() else 0

    @property
    def is_live(self) -> bool:
        return self.order.status in LIVE


class Position:
    def __init__(self, bracket: Bracket, orders: Iterable[Order], step: Decimal) -> None:
        self.bracket = bracket
        self.legs = [LegOrder(order, Leg.parse(order.bracket_leg)) for order in orders if order.bracket_leg]
        self.legs.sort(key=lambda item: item.order.created_at)
        entries = [item.order for item in self.legs if item.leg.role is LegRole.ENTRY]
        self.entry: Order | None = entries[-1] if entries else None
        self.entered = self._entered(step)

    def _entered(self, step: Decimal) -> Decimal:
        entry = self.entry
        if entry is None or entry.filled_quantity <= ZERO:
            return ZERO
        if self.bracket.is_long:
            return floor_to_step(max(entry.net_base_quantity, ZERO), step)
        return entry.filled_quantity

    # ----- quantities ----------------------------------------------------------------

    def exits(self, role: LegRole | None = None) -> list[LegOrder]:
        return [
            item
            for item in self.legs
            if item.leg.role is not LegRole.ENTRY and (role is None or item.leg.role is role)
        ]

    def exited_by_targets(self) -> list[Decimal]:
        """Quantity each target has sold (bought back, for a short) so far."""
        done = [ZERO] * len(self.bracket.targets)
        for item in self.exits(LegRole.TARGET):
            assert item.leg.target is not None
            done[item.leg.target - 1] += item.order.filled_quantity
        return done

    def exited(self, role: LegRole) -> Decimal:
        return sum((item.order.filled_quantity for item in self.exits(role)), ZERO)

    @property
    def exited_total(self) -> Decimal:
        return sum((item.order.filled_quantity for item in self.exits()), ZERO)

    @property
    def open_quantity(self) -> Decimal:
        return self.entered - self.exited_total

    @property
    def entry_done(self) -> bool:
        return self.entry is not None and self.entry.status.is_terminal

    @property
    def entry_average(self) -> Decimal | None:
        return self.entry.average_price if self.entry is not None else None

    # ----- legs on the exchange ------------------------------------------------------

    def live_exits(self, role: LegRole | None = None) -> list[LegOrder]:
        return [item for item in self.exits(role) if item.is_live]

    def pending(self) -> list[LegOrder]:
        return [item for item in self.legs if item.order.status is OrderStatus.PENDING]

    def next_generation(self, leg: Leg) -> int:
        """Return one more than the highest generation any order of this leg was stored under."""
        used = [item.generation for item in self.legs if item.leg == leg]
        return max(used, default=0) + 1

    # ----- results -------------------------------------------------------------------

    def exit_result(self, order: Order) -> Decimal:
        """Realized profit of one exit in the quote asset, after its fees and its share of the entry's."""
        entry = self.entry
        if (
            entry is None
            or entry.average_price is None
            or order.average_price is None
            or self.entered <= ZERO
        ):
            return ZERO
        quantity = order.filled_quantity
        move = order.average_price - entry.average_price
        gross = quantity * (move if self.bracket.is_long else -move)
        entry_fees = quote_fee(entry, self.bracket.base_asset) * quantity / self.entered
        return gross - quote_fee(order, self.bracket.base_asset) - entry_fees

    def realized(self) -> Decimal:
        return sum((self.exit_result(item.order) for item in self.exits()), ZERO)


def quote_fee(order: Order, base_asset: str) -> Decimal:
    """Return the order's fee in the quote asset; a fee in the base asset is valued at the order's price."""
    if order.fee <= ZERO:
        return ZERO
    if order.fee_asset == base_asset:
        return order.fee * (order.average_price or order.price or ZERO)
    return order.fee


def average_fill(orders: list[Order]) -> Decimal | None:
    """Return the volume-weighted average price of the orders' fills, or None when nothing filled."""
    filled = [order for order in orders if order.filled_quantity > ZERO and order.average_price is not None]
    quantity = sum((order.filled_quantity for order in filled), ZERO)
    if quantity <= ZERO:
        return None
    return sum((order.filled_quantity * order.average_price for order in filled), ZERO) / quantity
