"""One pass over one bracket: what the keeper read, and the small steps every part of it uses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.accounts.models import Account
from engine.brackets.models import Bracket
from engine.brackets.plan import open_layout, slice_fits
from engine.brackets.position import Position
from engine.exchanges.ports import ExchangeGateway
from engine.market.models import Market
from engine.users.models import User


@dataclass
class BracketPass:
    bracket: Bracket
    position: Position
    user: User
    account: Account
    gateway: ExchangeGateway
    market: Market

    def fits(self, index: int, size: Decimal) -> bool:
        """Tell whether an exit of ``size`` for target ``index`` (0-based) meets the market's minimums."""
        target = self.bracket.targets[index].price
        return slice_fits(self.market, size, min(target, self.bracket.active_stop))

    def layout(self) -> list[Decimal]:
        """What each target must still cover, summing to the open quantity (see ``open_layout``)."""
        planned = [target.quantity for target in self.bracket.targets]
        return open_layout(
            planned,
            self.position.entered,
            self.position.exited_by_targets(),
            self.market.amount_step,
            self.fits,
        )
