"""Balances of a user's accounts valued at current prices in USDT."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.accounts.models import Account
from engine.common.clock import Clock
from engine.common.money import ZERO
from engine.errors import ExchangeError, ValidationError
from engine.exchanges.ports import ExchangeGateway, GatewayProvider
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)

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


@dataclass
class AccountValuation:
    account: Account
    holdings: list[Holding] = field(default_factory=list)
    error: str | None = None  # set when the account could not be reached

    @property
    def total(self) -> Decimal:
        return sum((h.value for h in self.holdings if h.value is not None), ZERO)


@dataclass
class PortfolioSummary:
    valued_at: datetime
    accounts: list[AccountValuation]

    @property
    def total(self) -> Decimal:
        return sum((a.total for a in self.accounts), ZERO)


class PortfolioService:
    def __init__(self, uow_factory: UnitOfWorkFactory, gateways: GatewayProvider, clock: Clock) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._clock = clock

    async def summary(self, user: User) -> PortfolioSummary:
        """Value every active account; an unreachable account is reported, not dropped."""
        async with self._uow(read_only=True) as uow:
            accounts = [a for a in await uow.accounts.list_for_user(user.id) if a.is_active]

        valuations = []
        for account in accounts:
            valuations.append(await self._value_account(account))
        return PortfolioSummary(valued_at=self._clock.now(), accounts=valuations)

    async def _value_account(self, account: Account) -> AccountValuation:
        try:
            gateway = await self._gateways.gateway_for(account)
            balances = await gateway.fetch_balance()
            holdings = [
                await self._value(gateway, asset, entry.free, entry.used)
                for asset, entry in sorted(balances.items())
                if entry.total > ZERO
            ]
        except ExchangeError as exc:
            logger.warning("Valuing account %s failed: %s", account.id, exc)
            return AccountValuation(account=account, error=exc.code)
        holdings.sort(key=lambda h: h.value if h.value is not None else ZERO, reverse=True)
        return AccountValuation(account=account, holdings=holdings)

    async def _value(self, gateway: ExchangeGateway, asset: str, free: Decimal, locked: Decimal) -> Holding:
        total = free + locked
        if asset in USD_STABLE:
            return Holding(asset, free, locked, Decimal(1), total)
        try:
            ticker = await gateway.fetch_ticker(f"{asset}/{VALUATION_ASSET}")
        except ValidationError:
            return Holding(asset, free, locked, None, None)
        return Holding(asset, free, locked, ticker.last, total * ticker.last)
