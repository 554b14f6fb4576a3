"""The portfolio: every account valued at current prices, positions, PnL and equity snapshots."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.errors import PatriotError
from engine.exchanges.models import BalanceEntry
from engine.exchanges.ports import GatewayProvider
from engine.market.ports import PriceFeed
from engine.portfolio.cost_basis import book_fills
from engine.portfolio.models import (
    USD_STABLE,
    VALUATION_ASSET,
    AccountValuation,
    EquitySnapshot,
    PortfolioSummary,
    Position,
    StoredValuation,
)
from engine.portfolio.positions import build_positions
from engine.portfolio.valuation import value_account
from engine.uow import UnitOfWork, UnitOfWorkFactory
from engine.users.models import User

__all__ = ["USD_STABLE", "VALUATION_ASSET", "AccountValuation", "PortfolioService", "PortfolioSummary"]

logger = logging.getLogger(__name__)

CHANGE_WINDOW = timedelta(hours=24)
BENCHMARK_SYMBOLS = ("BTC/USDT", "ETH/USDT")


@dataclass(frozen=True)
class PositionFilter:
    """Filters of /positions; an account matches by name ignoring case, a symbol by base or pair."""

    account: str | None = None
    symbol: str | None = None
    min_value: Decimal | None = None

    def matches(self, position: Position) -> bool:
        if self.account is not None and position.account_name.lower() != self.account.lower():
            return False
        if self.symbol is not None and self.symbol not in (position.symbol, position.base_asset):
            return False
        return self.min_value is None or abs(position.value or Decimal(0)) >= self.min_value


class PortfolioService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: GatewayProvider,
        clock: Clock,
        prices: PriceFeed | None = None,
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._clock = clock
        self._prices = prices

    async def valuations(self, user: User) -> list[AccountValuation]:
        """Value every active account; an unreachable one comes back with its last stored values."""
        async with self._uow(read_only=True) as uow:
            accounts, stored = await _active_accounts(uow, user)
        return await self._value(accounts, stored)

    async def _value(
        self,
        accounts: list[Account],
        stored: dict[uuid.UUID, StoredValuation],
        paper_balances: dict[uuid.UUID, dict[str, BalanceEntry]] | None = None,
    ) -> list[AccountValuation]:
        now = self._clock.now()
        valuations = [
            await value_account(self._gateways, a, stored.get(a.id), now, _paper_balances(a, paper_balances))
            for a in accounts
        ]
        await self._store(valuations)
        return valuations

    async def _store(self, valuations: Sequence[AccountValuation]) -> None:
        fresh = [v for v in valuations if v.is_live and v.valued_at is not None and not v.account.is_paper]
        if not fresh:
            return
        async with self._uow() as uow:
            for valuation in fresh:
                assert valuation.valued_at is not None
                await uow.portfolio.save_valuation(
                    StoredValuation(valuation.account.id, valuation.valued_at, list(valuation.holdings))
                )
            await uow.commit()

    async def summary(self, user: User) -> PortfolioSummary:
        """Balances, positions, PnL, open orders and the change since the snapshot 24 h ago."""
        # One read-only unit of work for everything stored. On SQLite its reads go to the driver in
        # one hand-off, because each extra unit of work or statement costs more CPU than SQLite's own work.
        async with self._uow(read_only=True) as uow:
            reads = await uow.portfolio.summary_reads(user.id, self._clock.now() - CHANGE_WINDOW)
        accounts = [account for account in reads.accounts if account.is_active]
        # PAPER accounts cannot be unreachable, so only live ones fall back to a stored valuation.
        stored = {a.id: reads.stored[a.id] for a in accounts if not a.is_paper and a.id in reads.stored}
        valuations = await self._value(accounts, stored, reads.paper_balances)
        now = self._clock.now()

        books, _trades = book_fills(reads.fills)
        return PortfolioSummary(
            valued_at=now,
            accounts=valuations,
            positions=build_positions(valuations, books),
            realized_pnl=sum((book.realized_pnl for book in books.values()), Decimal(0)),
            open_orders=reads.open_orders,
            equity_24h_ago=reads.past,
        )

    async def positions(self, user: User, criteria: PositionFilter | None = None) -> list[Position]:
        summary = await self.summary(user)
        chosen = criteria or PositionFilter()
        return [position for position in summary.positions if chosen.matches(position)]

    async def snapshot(self, user: User) -> EquitySnapshot:
        """Value the user's accounts and store their total equity with benchmark prices."""
        valuations = await self.valuations(user)
        snapshot = EquitySnapshot(
            user_id=user.id,
            taken_at=self._clock.now(),
            equity=sum((v.total for v in valuations), Decimal(0)),
            complete=all(v.is_live for v in valuations),
            benchmarks=await self.benchmark_prices(),
        )
        async with self._uow() as uow:
            await uow.portfolio.add_snapshot(snapshot)
            await uow.commit()
        return snapshot

    async def benchmark_prices(self) -> dict[str, Decimal]:
        """Return the current BTC and ETH prices the feed has; a missing one is left out."""
        if self._prices is None:
            return {}
        found = {}
        for symbol in BENCHMARK_SYMBOLS:
            if symbol not in self._prices.symbols():
                continue
            try:
                found[symbol] = (await self._prices.fetch_ticker(symbol)).last
            except PatriotError as exc:
                logger.warning("Benchmark price of %s unavailable: %s", symbol, exc)
        return found

    async def snapshot_all(self) -> int:
        """Snapshot every active user (a scheduled job); one user's failure does not stop the rest."""
        async with self._uow(read_only=True) as uow:
            users = await uow.portfolio.list_active_users()
        taken = 0
        for user in users:
            try:
                await self.snapshot(user)
            except Exception:
                logger.exception("Equity snapshot of user %s failed", user.telegram_id)
                continue
            taken += 1
        logger.info("Took %d of %d equity snapshots", taken, len(users))
        return taken


def _paper_balances(
    account: Account, read: dict[uuid.UUID, dict[str, BalanceEntry]] | None
) -> dict[str, BalanceEntry] | None:
    """Return a PAPER account's balances read with the summary ({} when none is stored), None for others."""
    if read is None or not account.is_paper:
        return None
    return read.get(account.id, {})


async def _active_accounts(
    uow: UnitOfWork, user: User
) -> tuple[list[Account], dict[uuid.UUID, StoredValuation]]:
    """Return the user's active accounts and the stored valuations of the live ones."""
    accounts = [a for a in await uow.accounts.list_for_user(user.id) if a.is_active]
    # PAPER balances are read from the database and cannot be unreachable,
    # so only live accounts keep a stored valuation to fall back on.
    live = [a.id for a in accounts if not a.is_paper]
    stored = await uow.portfolio.get_valuations(live) if live else {}
    return accounts, stored
