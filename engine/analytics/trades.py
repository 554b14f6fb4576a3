"""Trade statistics from closed trades (reductions of a position), exact in Decimal.

A trade wins when its realized PnL is above 0 and loses when below; a trade
at exactly 0 counts as a trade but neither. Win rate is ``wins / trades``.
Profit factor is gross profit over gross loss (quantstats ``profit_factor``
on trade PnL); it is None without a losing trade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.common.money import ZERO
from engine.portfolio.cost_basis import ClosedTrade


@dataclass(frozen=True)
class TradeStats:
    trades: int
    wins: int
    losses: int
    gross_profit: Decimal
    gross_loss: Decimal  # a positive amount
    realized_pnl: Decimal

    @property
    def win_rate(self) -> Decimal | None:
        return Decimal(self.wins) / Decimal(self.trades) if self.trades else None

    @property
    def profit_factor(self) -> Decimal | None:
        return self.gross_profit / self.gross_loss if self.gross_loss > ZERO else None


def trade_stats(trades: Iterable[ClosedTrade], since: datetime | None = None) -> TradeStats:
    """Count the trades closed at or after ``since`` (all when None)."""
    chosen = [t for t in trades if since is None or t.closed_at >= since]
    profits = [t.realized_pnl for t in chosen if t.realized_pnl > ZERO]
    losses = [t.realized_pnl for t in chosen if t.realized_pnl < ZERO]
    return TradeStats(
        trades=len(chosen),
        wins=len(profits),
        losses=len(losses),
        gross_profit=sum(profits, ZERO),
        gross_loss=-sum(losses, ZERO),
        realized_pnl=sum((t.realized_pnl for t in chosen), ZERO),
    )
