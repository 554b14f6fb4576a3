"""A bracket as the trader typed it, checked and fitted to the market's rules.

``fit_plan`` rounds the quantity down to the step and the prices to the
tick: a limit in the trader's favour, a stop to the nearest tick. It checks
that the stop and every target are on the right side of the entry. Then it
splits the quantity over the targets so the slices sum exactly to it. A
slice below the market's minimum is merged into the nearer target, and the
card shows it. A bracket whose whole quantity is too small is rejected.

``open_layout`` answers the same question for a bracket that is running:
how much each target must still cover, given what the entry has bought and
what each target has sold so far.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.brackets.models import MAX_TARGETS, ExitMode, Target
from engine.common.money import ZERO, ceil_to_step, floor_to_step, round_to_step
from engine.errors import ValidationError
from engine.market.models import Market
from engine.orders.models import OrderSide

HUNDRED = Decimal(100)

# Whether a slice of ``quantity`` at target index ``index`` (0-based) meets the market's minimums.
SliceFits = Callable[[int, Decimal], bool]


@dataclass(frozen=True)
class BracketRequest:
    """A bracket as typed; prices and quantities are not yet fitted to the market."""

    symbol: str
    side: OrderSide
    quantity: Decimal
    entry_price: Decimal | None  # None: enter at market
    stop_price: Decimal
    targets: tuple[Decimal, ...]
    split: tuple[Decimal, ...] | None = None  # percent per target, summing to 100; None: equal parts
    breakeven: bool = False
    exit_mode: ExitMode | None = None  # None: the exchange's (or PAPER's configured) choice


@dataclass(frozen=True)
class Merge:
    """A target's slice that was below the market's minimum and went to another target."""

    target: int  # 1-based
    quantity: Decimal
    into: int  # 1-based


@dataclass(frozen=True)
class BracketPlan:
    """A bracket fitted to the market, as shown on the confirmation card and stored in its draft."""

    symbol: str
    side: OrderSide
    quantity: Decimal
    entry_price: Decimal | None
    stop_price: Decimal
    targets: tuple[Target, ...]
    breakeven: bool
    exit_mode: ExitMode
    merges: tuple[Merge, ...] = ()

    @property
    def is_long(self) -> bool:
        return self.side is OrderSide.BUY


def fit_plan(request: BracketRequest, market: Market, reference: Decimal, exit_mode: ExitMode) -> BracketPlan:
    """Check and fit a bracket; ``reference`` is the ask for a buy and the bid for a sell.

    Raises ValidationError with a BRACKET_* code naming the value and the rule.
    """
    count = len(request.targets)
    if not 1 <= count <= MAX_TARGETS:
        raise ValidationError("BRACKET_TARGET_COUNT", value=count, maximum=MAX_TARGETS)
    shares = _shares(request.split, count)

    quantity = floor_to_step(request.quantity, market.amount_step)
    if quantity < market.min_amount or quantity <= ZERO:
        raise ValidationError(
            "QUANTITY_BELOW_MIN", value=request.quantity, minimum=market.min_amount, symbol=market.symbol
        )

    long = request.side is OrderSide.BUY
    entry = request.entry_price
    if entry is not None:
        entry = floor_to_step(entry, market.price_step) if long else ceil_to_step(entry, market.price_step)
    stop = round_to_step(request.stop_price, market.price_step)
    # The exits' limit prices round in the trader's favour: a sell up, a buy down.
    exit_rounding = ceil_to_step if long else floor_to_step
    targets = tuple(exit_rounding(price, market.price_step) for price in request.targets)
    if stop <= ZERO or any(price <= ZERO for price in targets):
        raise ValidationError("PRICE_BELOW_TICK", value=min((stop, *targets)), step=market.price_step)

    check_sides(long, expected_fill(long, entry, reference), stop, targets)

    def fits(index: int, size: Decimal) -> bool:
        return slice_fits(market, size, min(stop, targets[index]))

    slices, merges = allocate(quantity, shares, market.amount_step, fits)
    if not any(slices):
        raise ValidationError(
            "BRACKET_TOO_SMALL",
            value=quantity,
            minimum=market.min_amount,
            minimum_cost=market.min_cost,
            asset=market.quote,
            symbol=market.symbol,
        )
    return BracketPlan(
        symbol=market.symbol,
        side=request.side,
        quantity=quantity,
        entry_price=entry,
        stop_price=stop,
        targets=tuple(Target(price, size) for price, size in zip(targets, slices, strict=True)),
        breakeven=request.breakeven,
        exit_mode=exit_mode,
        merges=tuple(merges),
    )


def expected_fill(long: bool, entry: Decimal | None, reference: Decimal) -> Decimal:
    """Return the price the entry is expected to fill at, ``reference`` being the ask (a buy) or bid.

    A limit already past the market fills at once at the market's price, not at its limit.
    """
    if entry is None:
        return reference
    return min(entry, reference) if long else max(entry, reference)


def check_sides(long: bool, entry: Decimal, stop: Decimal, targets: Sequence[Decimal]) -> None:
    """Raise unless a long's stop is below the entry and its targets rise above it (a short: reversed)."""
    side = "BUY" if long else "SELL"
    if (stop >= entry) if long else (stop <= entry):
        raise ValidationError("BRACKET_STOP_SIDE", side=side, stop=stop, entry=entry)
    for number, price in enumerate(targets, start=1):
        if (price <= entry) if long else (price >= entry):
            raise ValidationError("BRACKET_TARGET_SIDE", side=side, target=number, price=price, entry=entry)
    for number, (nearer, farther) in enumerate(itertools.pairwise(targets), start=2):
        if (farther <= nearer) if long else (farther >= nearer):
            raise ValidationError(
                "BRACKET_TARGET_ORDER", side=side, target=number, price=farther, previous=nearer
            )


def slice_fits(market: Market, size: Decimal, lowest_price: Decimal) -> bool:
    """Tell whether an exit of ``size`` meets the minimum quantity and, at its lower price, cost."""
    return size >= market.min_amount and size * lowest_price >= market.min_cost


def allocate(
    total: Decimal, weights: Sequence[Decimal], step: Decimal, fits: SliceFits
) -> tuple[list[Decimal], list[Merge]]:
    """Split ``total`` by ``weights`` into slices on the step that sum exactly to it.

    Each slice is rounded down and the first (nearest) target takes what
    rounding leaves. A slice that does not fit goes to the nearest earlier
    target with a slice (the next one when it is the first). Returns all
    zeros when even the whole quantity in one slice does not fit.
    """
    weight_sum = sum(weights, ZERO)
    slices = [floor_to_step(total * weight / weight_sum, step) for weight in weights]
    slices[0] += total - sum(slices, ZERO)
    merges: list[Merge] = []

    changed = True
    while changed:
        changed = False
        for index in reversed(range(len(slices))):
            size = slices[index]
            if size == ZERO or fits(index, size):
                continue
            receiver = _receiver(slices, index)
            if receiver is None:
                return [ZERO] * len(slices), merges
            slices[receiver] += size
            slices[index] = ZERO
            merges.append(Merge(index + 1, size, receiver + 1))
            changed = True
    return slices, merges


def open_layout(
    planned: Sequence[Decimal], entered: Decimal, exited: Sequence[Decimal], step: Decimal, fits: SliceFits
) -> list[Decimal]:
    """Return how much each target must still cover: the entered quantity split as planned, less its exits.

    ``planned`` contains the targets' planned quantities (the weights), and
    ``exited`` what each target has sold so far. The result sums to ``entered`` less
    every exit, so the stop that follows it covers exactly the open position.
    A target that sold more than its share leaves the excess to be taken
    from the farthest targets; slices below the minimum merge into nearer ones.
    """
    shares, _ = allocate(entered, planned, step, lambda _index, _size: True)
    remaining = [max(share - done, ZERO) for share, done in zip(shares, exited, strict=True)]
    open_quantity = entered - sum(exited, ZERO)
    excess = sum(remaining, ZERO) - max(open_quantity, ZERO)
    for index in reversed(range(len(remaining))):
        if excess <= ZERO:
            break
        taken = min(remaining[index], excess)
        remaining[index] -= taken
        excess -= taken
    if not any(remaining):
        return remaining
    layout, _ = allocate(sum(remaining, ZERO), remaining, step, fits)
    return layout


def _receiver(slices: list[Decimal], index: int) -> int | None:
    for candidate in range(index - 1, -1, -1):
        if slices[candidate] > ZERO:
            return candidate
    for candidate in range(index + 1, len(slices)):
        if slices[candidate] > ZERO:
            return candidate
    return None


def _shares(split: tuple[Decimal, ...] | None, count: int) -> list[Decimal]:
    if split is None:
        return [Decimal(1)] * count
    if len(split) != count:
        raise ValidationError("BRACKET_SPLIT_COUNT", value=len(split), targets=count)
    if any(share <= ZERO for share in split) or sum(split, ZERO) != HUNDRED:
        raise ValidationError("BRACKET_SPLIT_SUM", value=sum(split, ZERO))
    return list(split)
