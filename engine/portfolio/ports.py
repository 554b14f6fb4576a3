"""Ports of the portfolio: stored valuations and snapshots, fills, and derivative positions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from engine.accounts.models import Account
from engine.exchanges.models import BalanceEntry
from engine.portfolio.cost_basis import TradeFill
from engine.portfolio.models import DerivativePosition, EquitySnapshot, StoredValuation
from engine.users.models import User


@runtime_checkable
class DerivativePositionSource(Protocol):
    """Optional gateway method for exchanges with futures or perpetual contracts.

    A gateway that has it (ccxt's ``fetch_positions``) shows leverage, margin
    and liquidation price in /positions; spot-only gateways (PAPER) do not
    implement it and their positions come from balances.
    """

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[DerivativePosition]:
        """Return the open derivative positions; raise ExchangeError like any gateway call."""
        ...


@dataclass(frozen=True)
class SummaryReads:
    """The stored data of a portfolio summary, read together in one transaction."""

    accounts: list[Account]  # as accounts.list_for_user: not removed, oldest first
    stored: dict[uuid.UUID, StoredValuation]  # the last valuation of each of those that has one
    paper_balances: dict[uuid.UUID, dict[str, BalanceEntry]]  # by PAPER account, as its gateway reads them
    fills: list[TradeFill]  # as list_fills
    open_orders: int
    past: EquitySnapshot | None  # as snapshot_at_or_before(moment)


class PortfolioRepository(Protocol):
    async def add_snapshot(self, snapshot: EquitySnapshot) -> None: ...

    async def list_snapshots(
        self, user_id: uuid.UUID, since: datetime | None, until: datetime
    ) -> list[EquitySnapshot]:
        """Return the snapshots taken in ``[since, until]`` (from the first when None), oldest first."""
        ...

    async def snapshot_at_or_before(self, user_id: uuid.UUID, moment: datetime) -> EquitySnapshot | None:
        """Return the newest snapshot taken at or before ``moment``."""
        ...

    async def save_valuation(self, valuation: StoredValuation) -> None:
        """Store the account's last successful valuation, replacing the previous one."""
        ...

    async def get_valuations(self, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, StoredValuation]: ...

    async def list_fills(self, user_id: uuid.UUID) -> list[TradeFill]:
        """Return every fill of the user's orders, oldest first."""
        ...

    async def count_open_orders(self, user_id: uuid.UUID) -> int: ...

    async def summary_reads(self, user_id: uuid.UUID, moment: datetime) -> SummaryReads:
        """Read everything a summary needs, with the newest snapshot at or before ``moment``."""
        ...

    async def list_active_users(self) -> list[User]:
        """Return the ACTIVE users that have at least one active account."""
        ...
