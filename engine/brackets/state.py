"""The bracket life cycle as one transition table.

PENDING -> ENTERING when part of the entry fills while the rest still works,
-> OPEN when the entry is done (filled at once, or its rest cancelled after a
fill), -> CANCELLED when the entry ends without a fill, and -> CLOSING when
the user closes the bracket first. ENTERING -> OPEN as the entry finishes.
A stop fill or the user's close moves ENTERING or OPEN to CLOSING, which
cancels what rests and sells the rest at market, then ends in CLOSED (or in
CANCELLED when nothing had filled). OPEN -> CLOSED directly when the last
target fills.
"""

from __future__ import annotations

from engine.brackets.models import BracketStatus
from engine.errors import IllegalTransitionError

S = BracketStatus

TRANSITIONS: dict[BracketStatus, frozenset[BracketStatus]] = {
    S.PENDING: frozenset({S.ENTERING, S.OPEN, S.CLOSING, S.CANCELLED}),
    S.ENTERING: frozenset({S.OPEN, S.CLOSING}),
    S.OPEN: frozenset({S.CLOSING, S.CLOSED}),
    S.CLOSING: frozenset({S.CLOSED, S.CANCELLED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# States in which the user may still close (or cancel) the bracket.
CLOSABLE: frozenset[BracketStatus] = frozenset({S.PENDING, S.ENTERING, S.OPEN})


def can_transition(current: BracketStatus, target: BracketStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: BracketStatus, target: BracketStatus) -> None:
    """Raise IllegalTransitionError("bracket", current, target) unless the table allows it."""
    if not can_transition(current, target):
        raise IllegalTransitionError("bracket", current.value, target.value)
