"""What the portfolio views show: holdings, account valuations, positions and equity snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from engine.accounts.models import Account
from engine.common.money import ZERO

VALUATION_ASSET = "USDT"
# Assets valued one to one with USDT.
USD_STABLE = frozenset({"USDT", "USDC", "FDUSD", "BUSD", "TUSD"})


@dataclass(frozen=True)
class Holding:
    asset: str
    free: Decimal
    locked: Decimal
    price: Decimal | None  # USDT per unit; None when no market prices it
    value: Decimal | None

    @property
    def total(self) -> Decimal:
        return self.free + self.locked

    @property
    def free_value(self) -> Decimal:
        return self.free * self.price if self.price is not None else ZERO

    @property
    def locked_value(self) -> Decimal:
        return self.locked * self.price if self.price is not None else ZERO


class PositionSide(StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"


class MarginMode(StrEnum):
    CROSS = "cross"
    ISOLATED = "isolated"


@dataclass(frozen=True)
class DerivativePosition:
    """An open futures or perpetual position as the exchange reports it.

    ``contracts`` times ``contract_size`` is the size in the base asset;
    ``margin`` is the collateral held for the position in the settlement
    asset (USDT for linear contracts).
    """

    symbol: str
    side: PositionSide
    contracts: Decimal
    contract_size: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    margin: Decimal | None
    liquidation_price: Decimal | None
    margin_mode: MarginMode | None = None

    @property
    def size(self) -> Decimal:
        return self.contracts * self.contract_size


@dataclass
class AccountValuation:
    """One account valued now, or its last stored valuation when the exchange cannot be reached.

    ``error`` holds the error code when the account could not be reached;
    ``valued_at`` is then the time of the last successful valuation (None if
    there never was one) and the holdings are the ones valued then.
    """

    account: Account
    holdings: list[Holding] = field(default_factory=list)
    valued_at: datetime | None = None
    error: str | None = None
    derivatives: list[DerivativePosition] = field(default_factory=list)

    @property
    def is_live(self) -> bool:
        return self.error is None

    @property
    def total(self) -> Decimal:
        return sum((h.value for h in self.holdings if h.value is not None), ZERO)

    @property
    def available(self) -> Decimal:
        return sum((h.free_value for h in self.holdings), ZERO)

    @property
    def used(self) -> Decimal:
        return sum((h.locked_value for h in self.holdings), ZERO)


@dataclass(frozen=True)
class Position:
    """An open position. Spot positions come from holdings, with the average cost from fills."""

    account_id: uuid.UUID
    account_name: str
    symbol: str
    side: PositionSide
    size: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    value: Decimal | None
    unrealized_pnl: Decimal | None
    is_derivative: bool = False
    leverage: Decimal | None = None
    margin: Decimal | None = None
    liquidation_price: Decimal | None = None
    is_stale: bool = False  # from the last stored valuation of an unreachable account

    @property
    def base_asset(self) -> str:
        return self.symbol.partition("/")[0]

    @property
    def unrealized_pnl_fraction(self) -> Decimal | None:
        """PnL over the position's cost (over the margin for a derivative, where known)."""
        if self.unrealized_pnl is None:
            return None
        if self.is_derivative and self.margin:
            return self.unrealized_pnl / self.margin
        if self.entry_price is None or self.entry_price == ZERO or self.size == ZERO:
            return None
        return self.unrealized_pnl / (self.entry_price * self.size)

    @property
    def signed_value(self) -> Decimal | None:
        """Exposure: the value, negative for a short."""
        if self.value is None:
            return None
        return -self.value if self.side is PositionSide.SHORT else self.value


@dataclass(frozen=True)
class EquitySnapshot:
    """A user's total equity at one moment, with benchmark prices for comparisons.

    ``complete`` is false when some account was valued from its last stored
    valuation because its exchange could not be reached.
    """

    user_id: uuid.UUID
    taken_at: datetime
    equity: Decimal
    complete: bool = True
    benchmarks: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredValuation:
    """The last successful valuation of one account."""

    account_id: uuid.UUID
    valued_at: datetime
    holdings: list[Holding]


@dataclass
class PortfolioSummary:
    valued_at: datetime
    accounts: list[AccountValuation]
    positions: list[Position] = field(default_factory=list)
    realized_pnl: Decimal = ZERO
    open_orders: int = 0
    equity_24h_ago: EquitySnapshot | None = None

    @property
    def total(self) -> Decimal:
        return sum((a.total for a in self.accounts), ZERO)

    @property
    def available(self) -> Decimal:
        return sum((a.available for a in self.accounts), ZERO)

    @property
    def used(self) -> Decimal:
        return sum((a.used for a in self.accounts), ZERO)

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions if p.unrealized_pnl is not None), ZERO)

    @property
    def change_24h(self) -> Decimal | None:
        past = self.equity_24h_ago
        return self.total - past.equity if past is not None else None

    @property
    def change_24h_fraction(self) -> Decimal | None:
        past = self.equity_24h_ago
        if past is None or past.equity <= ZERO:
            return None
        return (self.total - past.equity) / past.equity

    @property
    def unreachable(self) -> list[AccountValuation]:
        return [a for a in self.accounts if not a.is_live]
