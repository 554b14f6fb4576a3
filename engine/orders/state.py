"""The order life cycle as one transition table.

PENDING is stored before the order is sent; the exchange's answer moves it on.
A PENDING order may jump straight to FILLED (a market order's answer) or to
CANCELLED (an IOC order the exchange expired without a fill).
"""

from __future__ import annotations

from engine.errors import IllegalTransitionError
from engine.orders.models import OrderStatus

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.NEW: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    # A partially filled order stays in its state while more fills arrive.
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}

# States in which the user may still change or cancel the order.
MODIFIABLE: frozenset[OrderStatus] = frozenset({S.NEW, S.PARTIALLY_FILLED})
CANCELLABLE: frozenset[OrderStatus] = frozenset({S.NEW, S.PARTIALLY_FILLED})


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raise IllegalTransitionError("order", current, target) unless the table allows it."""
    if not can_transition(current, target):
        raise IllegalTransitionError("order", current.value, target.value)
