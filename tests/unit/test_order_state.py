"""The order state machine: every legal transition and every illegal one."""

from __future__ import annotations

import itertools

import pytest

from engine.errors import IllegalTransitionError
from engine.orders.models import OrderStatus
from engine.orders.state import CANCELLABLE, MODIFIABLE, TRANSITIONS, can_transition, check_transition

S = OrderStatus
LEGAL = {
    (S.PENDING, S.NEW),
    (S.PENDING, S.PARTIALLY_FILLED),
    (S.PENDING, S.FILLED),
    (S.PENDING, S.CANCELLED),
    (S.PENDING, S.REJECTED),
    (S.NEW, S.PARTIALLY_FILLED),
    (S.NEW, S.FILLED),
    (S.NEW, S.CANCELLED),
    (S.NEW, S.REJECTED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELLED),
}


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_transition_passes(current: OrderStatus, target: OrderStatus) -> None:
    check_transition(current, target)
    assert can_transition(current, target)


ILLEGAL = sorted(set(itertools.product(S, S)) - LEGAL)


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_transition_raises_with_both_states(current: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        check_transition(current, target)
    assert f"{current.value} -> {target.value}" in str(caught.value)


def test_terminal_states_have_no_exit() -> None:
    for status in (S.FILLED, S.CANCELLED, S.REJECTED):
        assert status.is_terminal
        assert TRANSITIONS[status] == frozenset()
        assert status not in MODIFIABLE and status not in CANCELLABLE


def test_pending_cannot_be_modified_or_cancelled_by_the_user() -> None:
    assert S.PENDING not in MODIFIABLE
    assert S.PENDING not in CANCELLABLE
