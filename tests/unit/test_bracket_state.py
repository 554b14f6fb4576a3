"""The bracket state machine: every legal transition, every illegal one, and the keeper's use of it."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from engine.brackets.models import BracketStatus
from engine.brackets.state import CLOSABLE, TRANSITIONS, can_transition, check_transition
from engine.errors import IllegalTransitionError

S = BracketStatus
LEGAL = {
    (S.PENDING, S.ENTERING),
    (S.PENDING, S.OPEN),
    (S.PENDING, S.CLOSING),
    (S.PENDING, S.CANCELLED),
    (S.ENTERING, S.OPEN),
    (S.ENTERING, S.CLOSING),
    (S.OPEN, S.CLOSING),
    (S.OPEN, S.CLOSED),
    (S.CLOSING, S.CLOSED),
    (S.CLOSING, S.CANCELLED),
}


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_transition_passes(current: BracketStatus, target: BracketStatus) -> None:
    check_transition(current, target)
    assert can_transition(current, target)


@pytest.mark.parametrize(("current", "target"), sorted(set(itertools.product(S, S)) - LEGAL))
def test_illegal_transition_raises_with_both_states(current: BracketStatus, target: BracketStatus) -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        check_transition(current, target)
    assert f"bracket: {current.value} -> {target.value} is not allowed" == str(caught.value)


def test_terminal_states_have_no_exit() -> None:
    for status in S:
        assert status.is_terminal == (TRANSITIONS[status] == frozenset())
    assert {status for status in S if status.is_terminal} == {S.CLOSED, S.CANCELLED}


def test_every_state_is_reachable_and_every_path_ends() -> None:
    seen, queue = {S.PENDING}, deque([S.PENDING])
    while queue:
        for target in TRANSITIONS[queue.popleft()]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    assert seen == set(S)
    for status in S:
        assert status.is_terminal or any(
            can_transition(status, end) for end in (S.CLOSING, S.CLOSED, S.CANCELLED)
        ), status


def test_filled_positions_cannot_be_cancelled() -> None:
    """Once anything filled, a bracket ends CLOSED: CANCELLED means nothing was ever bought."""
    assert not can_transition(S.ENTERING, S.CANCELLED)
    assert not can_transition(S.OPEN, S.CANCELLED)


def test_user_may_close_until_closing_starts() -> None:
    assert {S.PENDING, S.ENTERING, S.OPEN} == CLOSABLE
