"""Bracket orders: an entry with one stop-loss and up to three take-profit targets.

A bracket's legs are ordinary orders (``orders.bracket_id`` links them) with
a role stored in ``orders.bracket_leg``. What the bracket holds and has sold
is always computed from its legs' fills (``engine.brackets.position``); the
bracket row stores the plan, the state and what has been reported to the user.

On a spot account a BUY bracket buys the entry and sells it back at the
stop or the targets. A SELL bracket sells base the account already holds and
buys it back: lower at the targets, higher at the stop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.common.money import ZERO
from engine.orders.models import OrderSide

MAX_TARGETS = 3


class BracketStatus(StrEnum):
    PENDING = "PENDING"  # the entry is stored or working; nothing has filled
    ENTERING = "ENTERING"  # part of the entry filled and the rest still works; exits cover the filled part
    OPEN = "OPEN"  # the entry is done; exits cover the open position
    CLOSING = "CLOSING"  # leaving the position: exits are cancelled, the rest goes out at market
    CLOSED = "CLOSED"  # nothing left of the position
    CANCELLED = "CANCELLED"  # the entry ended without a fill; nothing was armed

    @property
    def is_terminal(self) -> bool:
        return self in (BracketStatus.CLOSED, BracketStatus.CANCELLED)

    @property
    def is_active(self) -> bool:
        return not self.is_terminal


ACTIVE_STATUSES = frozenset(status for status in BracketStatus if status.is_active)


class ExitMode(StrEnum):
    # Exit orders rest on the exchange and protect the position while the bot is down.
    NATIVE = "NATIVE"
    # The bot watches the price and sends market exits; protection works only while it runs.
    SYNTHETIC = "SYNTHETIC"


class CloseReason(StrEnum):
    STOP = "STOP"  # the stop-loss filled
    STOP_PASSED = "STOP_PASSED"  # the price was beyond the stop when the stop was due, so it sold at market
    TARGETS = "TARGETS"  # the last target filled
    USER = "USER"  # the user closed it
    POSITION_GONE = "POSITION_GONE"  # the account no longer has what the bracket needs to close
    DUST = "DUST"  # what is left is below the market's minimum and cannot be sold
    ENTRY_CANCELLED = "ENTRY_CANCELLED"  # the entry was cancelled (or expired) before any fill
    ENTRY_REJECTED = "ENTRY_REJECTED"  # the exchange or a check rejected the entry
    ENTRY_NOT_SENT = "ENTRY_NOT_SENT"  # the process stopped before the entry order was stored


# Steps of a bracket that happen once and are sent once, recorded in ``Bracket.reported_steps``.
STEP_STOP_MOVED = "stop_moved"
STEP_FALLBACK = "fallback"
STEP_END = "end"
ONCE_STEPS = frozenset({STEP_STOP_MOVED, STEP_FALLBACK, STEP_END})


class LegRole(StrEnum):
    ENTRY = "entry"
    TARGET = "target"  # sells (or buys back) one target's share: a resting limit or a market exit
    STOP = "stop"  # the stop-loss: one OCO stop per target natively, or one market exit when watched
    CLOSE = "close"  # a market order that takes what is left when the bracket closes


@dataclass(frozen=True)
class Leg:
    """The role of one order in its bracket, stored as text such as ``target:2``."""

    role: LegRole
    target: int | None = None  # 1-based; set for target legs and the OCO stop paired with one

    @property
    def code(self) -> str:
        return self.role.value if self.target is None else f"{self.role.value}:{self.target}"

    @classmethod
    def parse(cls, code: str) -> Leg:
        role, _, target = code.partition(":")
        return cls(LegRole(role), int(target) if target else None)


ENTRY_LEG = Leg(LegRole.ENTRY)


@dataclass(frozen=True)
class Target:
    price: Decimal
    quantity: Decimal  # this target's share of the planned entry quantity


@dataclass
class Bracket:
    id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    symbol: str
    side: OrderSide  # the entry's side
    quantity: Decimal  # the planned entry quantity
    entry_price: Decimal | None  # None: a market entry
    stop_price: Decimal  # the stop as planned
    targets: tuple[Target, ...]
    breakeven: bool  # move the stop to the average entry price once the first target has filled
    exit_mode: ExitMode
    status: BracketStatus
    created_at: datetime
    updated_at: datetime
    # The stop in force: the planned one, or the average entry price after the breakeven move.
    active_stop: Decimal = ZERO
    close_reason: CloseReason | None = None
    # Why native exits were given up for watched ones (an exchange's rejection reason).
    fallback_reason: str | None = None
    # What has been reported to the user, so each step is reported once, also after a restart.
    reported_entry: Decimal = ZERO
    reported_exits: tuple[Decimal, ...] = field(default_factory=tuple)
    reported_cover: Decimal = ZERO
    # Steps sent once (ONCE_STEPS): the stop moved, the fallback to watched exits, the end.
    reported_steps: frozenset[str] = frozenset()
    stop_moved: bool = False
    closed_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.active_stop == ZERO:
            self.active_stop = self.stop_price
        if len(self.reported_exits) < len(self.targets):
            self.reported_exits = (
                *self.reported_exits,
                *([ZERO] * (len(self.targets) - len(self.reported_exits))),
            )

    @property
    def short_id(self) -> str:
        return self.id.hex[:8]

    @property
    def exit_side(self) -> OrderSide:
        return self.side.opposite

    @property
    def is_long(self) -> bool:
        return self.side is OrderSide.BUY

    @property
    def base_asset(self) -> str:
        return self.symbol.partition("/")[0]

    @property
    def quote_asset(self) -> str:
        return self.symbol.partition("/")[2]

    def client_order_id(self, leg: Leg, generation: int) -> str:
        """Return the leg's client order id, fixed by the bracket, the leg and a generation number.

        A restart therefore finds an order it sent before instead of sending a
        second one. "bk", 16 hex digits of the bracket id, one letter for the
        role, the target number (0 for none) and four digits: 24 letters and
        digits, which every supported exchange accepts.
        """
        letter = {LegRole.ENTRY: "e", LegRole.TARGET: "t", LegRole.STOP: "s", LegRole.CLOSE: "c"}[leg.role]
        return f"bk{self.id.hex[:16]}{letter}{leg.target or 0}{generation:04d}"

    def stop_reached(self, price: Decimal) -> bool:
        """Tell whether ``price`` is at or beyond the stop in force."""
        return price <= self.active_stop if self.is_long else price >= self.active_stop

    def target_reached(self, index: int, price: Decimal) -> bool:
        """Tell whether ``price`` is at or beyond target ``index`` (1-based)."""
        target = self.targets[index - 1].price
        return price >= target if self.is_long else price <= target
