"""What a bracket risks and can gain, in the quote asset, fees included.

Every fill pays the taker fee rate, a conservative estimate because resting
targets usually pay the lower maker rate. For a long, the loss at the stop
is ``Q * (entry - stop)`` plus the fees of buying at the entry and selling
at the stop. The gain at target ``i`` is ``q_i * (target_i - entry)`` less
the fees of its buy and its sell. A short mirrors both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.brackets.plan import BracketPlan
from engine.common.money import ZERO


@dataclass(frozen=True)
class BracketFigures:
    entry_price: Decimal  # the expected fill: a limit's price, or the market's when it is better
    fee_rate: Decimal
    loss_at_stop: Decimal
    gains: tuple[Decimal, ...]  # at each target, for that target's quantity
    equity: Decimal | None  # the user's equity when the risk checks could value it

    @property
    def total_gain(self) -> Decimal:
        return sum(self.gains, ZERO)

    @property
    def reward_to_risk(self) -> Decimal | None:
        """Gain when every target fills, per unit lost at the stop."""
        return self.total_gain / self.loss_at_stop if self.loss_at_stop > ZERO else None

    @property
    def equity_at_risk(self) -> Decimal | None:
        """The loss at the stop as a fraction of equity."""
        if self.equity is None or self.equity <= ZERO:
            return None
        return self.loss_at_stop / self.equity


def bracket_figures(
    plan: BracketPlan, entry_price: Decimal, fee_rate: Decimal, equity: Decimal | None
) -> BracketFigures:
    loss = trade_result(plan.is_long, plan.quantity, entry_price, plan.stop_price, fee_rate)
    gains = tuple(
        trade_result(plan.is_long, target.quantity, entry_price, target.price, fee_rate)
        for target in plan.targets
    )
    return BracketFigures(entry_price, fee_rate, -loss, gains, equity)


def trade_result(
    long: bool, quantity: Decimal, entry: Decimal, exit_price: Decimal, fee_rate: Decimal
) -> Decimal:
    """Profit (negative: loss) of entering ``quantity`` at ``entry`` and leaving at ``exit_price``."""
    move = exit_price - entry if long else entry - exit_price
    fees = quantity * (entry + exit_price) * fee_rate
    return quantity * move - fees
