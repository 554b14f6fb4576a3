"""Equity and positions of users, valued in USDT at current prices, read in bulk.

PAPER balances of many accounts come from one call to the simulator; other
accounts are read through their own gateways a few at a time. Each symbol is
priced once per read (per exchange), however many users hold it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Protocol

from engine.accounts.models import Account, Exchange
from engine.common.money import ZERO
from engine.errors import ExchangeError, ValidationError
from engine.exchanges.models import BalanceEntry
from engine.exchanges.ports import GatewayProvider
from engine.market.models import Ticker
from engine.portfolio.service import USD_STABLE, VALUATION_ASSET

logger = logging.getLogger(__name__)

LIVE_READ_CONCURRENCY = 8
YIELD_EVERY = 500  # users valued between two turns of the event loop


class PaperBalanceSource(Protocol):
    """The PAPER simulator: balances of many accounts in one call, and its prices."""

    async def fetch_balances(
        self, account_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, BalanceEntry]]: ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...


@dataclass(frozen=True)
class Exposure:
    """A user's equity and signed position values (USDT) at one moment.

    Spot holdings are long positions; a negative value is a short. Assets that
    no market prices are listed in ``unpriced`` and left out of equity.
    """

    equity: Decimal
    positions: dict[str, Decimal] = field(default_factory=dict)  # "BTC/USDT" -> value in USDT
    unpriced: tuple[str, ...] = ()

    @cached_property
    def gross(self) -> Decimal:
        return sum((abs(value) for value in self.positions.values()), ZERO)

    @property
    def has_positions(self) -> bool:
        return any(value != ZERO for value in self.positions.values())

    def position(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, ZERO)

    def leverage(self) -> Decimal:
        """Gross exposure divided by equity; 0 without positions."""
        return position_figures(self.positions, self.equity)[2]

    def largest_position(self) -> tuple[str | None, Decimal]:
        """The symbol with the largest absolute value and that value as a fraction of equity."""
        symbol, largest, _leverage = position_figures(self.positions, self.equity)
        return symbol, largest


INFINITE = Decimal("Infinity")


def position_figures(positions: dict[str, Decimal], equity: Decimal) -> tuple[str | None, Decimal, Decimal]:
    """Return the largest position's symbol, its size as a fraction of equity, and the leverage.

    Without positions (all values zero): ``(None, 0, 0)``. With positions and no
    equity behind them, both fractions are infinite.
    """
    gross = ZERO
    symbol: str | None = None
    top = ZERO
    for name, value in positions.items():
        size = abs(value)
        gross += size
        if size > top:  # the first of equal sizes wins, as max() picks it
            symbol, top = name, size
    if gross == ZERO:
        return None, ZERO, ZERO
    if equity <= ZERO:
        return symbol, INFINITE, INFINITE
    return symbol, top / equity, gross / equity


class ExposureReader:
    def __init__(self, paper: PaperBalanceSource, gateways: GatewayProvider) -> None:
        self._paper = paper
        self._gateways = gateways

    async def read(
        self,
        accounts_by_user: dict[uuid.UUID, list[Account]],
        *,
        known: dict[uuid.UUID, dict[str, BalanceEntry]] | None = None,
    ) -> dict[uuid.UUID, Exposure | None]:
        """Value every user's active accounts; None for a user with an account that could not be read.

        ``known`` holds balances the caller has just read (by account id); they
        are used as they are instead of being read again.
        """
        accounts = [account for group in accounts_by_user.values() for account in group if account.is_active]
        known = known or {}
        balances = await self._read_balances([account for account in accounts if account.id not in known])
        balances.update((account.id, known[account.id]) for account in accounts if account.id in known)
        prices = await self._price(accounts, balances)

        exposures: dict[uuid.UUID, Exposure | None] = {}
        for index, (user_id, group) in enumerate(accounts_by_user.items()):
            if index and index % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a scan of many users gives the loop a turn
            active = [account for account in group if account.is_active]
            if any(account.id not in balances for account in active):
                exposures[user_id] = None  # an unreadable account: the user's equity is unknown
                continue
            exposures[user_id] = _exposure(active, balances, prices)
        return exposures

    async def _read_balances(self, accounts: list[Account]) -> dict[uuid.UUID, dict[str, BalanceEntry]]:
        paper_ids = [account.id for account in accounts if account.is_paper]
        balances = await self._paper.fetch_balances(paper_ids) if paper_ids else {}
        for account_id in paper_ids:
            balances.setdefault(account_id, {})

        live = [account for account in accounts if not account.is_paper]
        semaphore = asyncio.Semaphore(LIVE_READ_CONCURRENCY)

        async def read_one(account: Account) -> None:
            async with semaphore:
                try:
                    gateway = await self._gateways.gateway_for(account)
                    balances[account.id] = await gateway.fetch_balance()
                except ExchangeError as exc:
                    logger.warning("Reading balances of account %s for risk failed: %s", account.id, exc)

        await asyncio.gather(*(read_one(account) for account in live))
        return balances

    async def _price(
        self, accounts: list[Account], balances: dict[uuid.UUID, dict[str, BalanceEntry]]
    ) -> dict[tuple[Exchange, str], Decimal | None]:
        """Price each (exchange, asset) once; None where no market prices it."""
        needed: dict[tuple[Exchange, str], Account] = {}
        for account in accounts:
            for asset, entry in balances.get(account.id, {}).items():
                if asset not in USD_STABLE and entry.total != ZERO:
                    needed.setdefault((account.exchange, asset), account)

        prices: dict[tuple[Exchange, str], Decimal | None] = {}
        for (exchange, asset), account in needed.items():
            prices[(exchange, asset)] = await self._last_price(account, f"{asset}/{VALUATION_ASSET}")
        return prices

    async def paper_prices(self, assets: Iterable[str]) -> dict[str, Decimal | None]:
        """Return the PAPER price of each asset in USDT, or None where no market prices it."""
        prices: dict[str, Decimal | None] = {}
        for asset in assets:
            prices[asset] = await self._last_price(None, f"{asset}/{VALUATION_ASSET}")
        return prices

    async def _last_price(self, account: Account | None, symbol: str) -> Decimal | None:
        """Return the last price of ``symbol`` on the account's exchange (PAPER when ``account`` is None)."""
        try:
            if account is None or account.is_paper:
                return (await self._paper.fetch_ticker(symbol)).last
            gateway = await self._gateways.gateway_for(account)
            return (await gateway.fetch_ticker(symbol)).last
        except ValidationError:
            return None  # no such market: the asset is reported as unpriced
        except ExchangeError as exc:
            exchange = Exchange.PAPER if account is None else account.exchange
            logger.warning("Pricing %s on %s for risk failed: %s", symbol, exchange, exc)
            return None


def value_paper(
    holdings: Iterable[tuple[str, Decimal]], prices: dict[str, Decimal | None]
) -> tuple[Decimal, dict[str, Decimal]]:
    """Return the equity and position values (USDT) of PAPER holdings, as ``_exposure`` values an account.

    Assets without a price are left out of both, as ``_exposure`` leaves out its unpriced assets.
    """
    equity = ZERO
    positions: dict[str, Decimal] = {}
    for asset, total in holdings:
        if total == ZERO:
            continue
        if asset in USD_STABLE:
            equity += total
            continue
        price = prices.get(asset)
        if price is None:
            continue
        value = total * price
        equity += value
        symbol = f"{asset}/{VALUATION_ASSET}"
        positions[symbol] = positions.get(symbol, ZERO) + value
    return equity, positions


def _exposure(
    accounts: Iterable[Account],
    balances: dict[uuid.UUID, dict[str, BalanceEntry]],
    prices: dict[tuple[Exchange, str], Decimal | None],
) -> Exposure:
    equity = ZERO
    positions: dict[str, Decimal] = {}
    unpriced: set[str] = set()
    for account in accounts:
        for asset, entry in balances[account.id].items():
            total = entry.total
            if total == ZERO:
                continue
            if asset in USD_STABLE:
                equity += total
                continue
            price = prices.get((account.exchange, asset))
            if price is None:
                unpriced.add(asset)
                continue
            value = total * price
            equity += value
            symbol = f"{asset}/{VALUATION_ASSET}"
            positions[symbol] = positions.get(symbol, ZERO) + value
    return Exposure(equity=equity, positions=positions, unpriced=tuple(sorted(unpriced)))
