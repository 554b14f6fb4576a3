"""Valuing an account's balances: every nonzero balance counts, a negative one (borrowed) included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from engine.accounts.models import Account, Exchange
from engine.exchanges.models import BalanceEntry
from engine.portfolio.valuation import value_account
from tests.fakes.fake_gateway import FakeGateway, FakeGatewayProvider

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def bybit_account() -> Account:
    return Account(uuid.uuid4(), uuid.uuid4(), Exchange.BYBIT, "main", False, True, True, NOW, NOW)


def entry(asset: str, free: str) -> BalanceEntry:
    return BalanceEntry(asset, Decimal(free), Decimal(0))


def borrowing_gateway() -> FakeGateway:
    """Return a gateway for an account with borrowed USDT, BTC at 40,000 and an empty ETH balance."""
    gateway = FakeGateway(last=Decimal("40000"))
    gateway.balances = {
        "USDT": entry("USDT", "-1500.5"),
        "BTC": entry("BTC", "0.25"),
        "ETH": entry("ETH", "0"),
    }
    return gateway


async def test_borrowed_cash_lowers_the_account_total() -> None:
    valuation = await value_account(FakeGatewayProvider(borrowing_gateway()), bybit_account(), None, NOW)

    assert valuation.total == Decimal("8499.5")


async def test_zero_balances_are_left_out() -> None:
    valuation = await value_account(FakeGatewayProvider(borrowing_gateway()), bybit_account(), None, NOW)

    assert [holding.asset for holding in valuation.holdings] == ["BTC", "USDT"]
