"""Bracket fixtures: a clock at a chosen recorded candle, traders, and the replayed prices to expect.

The ``clock`` fixture starts at the replay anchor, where the replay shows the
first recorded candle (2022-01-06 00:00 UTC). At replay speed 1 candle ``k``
of the recorded BTC/USDT series starts ``k * 300`` seconds later.
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from bot.app import build_services, close_services, start_services
from bot.services import Services
from bot.settings import BracketSettings
from engine.common.clock import ManualClock
from engine.common.money import ceil_to_step, floor_to_step
from engine.users.models import RiskProfile, User
from engine.users.service import Registration
from tests.conftest import START, make_settings

DATA = Path(__file__).resolve().parents[2] / "engine" / "market" / "data" / "BTC_USDT-5m.csv"
CANDLE_SECONDS = 300
TICK = Decimal("0.01")
SLIPPAGE = Decimal("0.0005")
FEE = Decimal("0.001")


@dataclass(frozen=True)
class Candle:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@cache
def btc_candles() -> tuple[Candle, ...]:
    """The recorded BTC/USDT 5-minute candles the PAPER replay walks."""
    with DATA.open() as handle:
        return tuple(
            Candle(
                Decimal(row["open"]),
                Decimal(row["high"]),
                Decimal(row["low"]),
                Decimal(row["close"]),
                Decimal(row["volume"]),
            )
            for row in csv.DictReader(handle)
        )


def candle_start(index: int) -> datetime:
    return START + timedelta(seconds=CANDLE_SECONDS * index)


def at_candle(clock: ManualClock, index: int, seconds: float = 0) -> None:
    clock.set(candle_start(index) + timedelta(seconds=seconds))


def ask(price: Decimal) -> Decimal:
    """Where PAPER's first ask level sits around ``price`` (a market buy's fill)."""
    return ceil_to_step(price * (1 + SLIPPAGE), TICK)


def bid(price: Decimal) -> Decimal:
    """Where PAPER's first bid level sits around ``price`` (a market sell's or a fired stop's fill)."""
    return floor_to_step(price * (1 - SLIPPAGE), TICK)


async def bracket_trader(services: Services, telegram_id: int = 7) -> tuple[User, uuid.UUID]:
    """A registered ULTRA_HIGH user (so the limits let a whole bracket through) and their PAPER account."""
    user, _ = await services.users.register(
        Registration(telegram_id, f"trader{telegram_id}", "T", "en", risk_profile=RiskProfile.ULTRA_HIGH)
    )
    account = await services.orders.account(user, None)
    return user, account.id


async def run_until(services: Services, clock: ManualClock, moments: list[datetime]) -> None:
    """Move the clock through ``moments``, running PAPER matching and a bracket watcher pass at each."""
    for moment in moments:
        clock.set(moment)
        await services.order_sync.match_paper()
        await services.brackets.keeper.watch()


ServicesFactory = Callable[..., Awaitable[Services]]


@pytest.fixture
async def make_services(
    tmp_path: Path, migrated_database: Path, clock: ManualClock
) -> AsyncIterator[ServicesFactory]:
    """Build services over one database file; several calls share it, as a restart would."""
    shutil.copy(migrated_database, tmp_path / "test.db")
    built: list[Services] = []

    async def make(*, matching: dict[str, object] | None = None, paper_exits: str = "native") -> Services:
        settings = replace(
            make_settings(tmp_path, matching=matching),
            brackets=BracketSettings(_env_file=None, paper_bracket_exits=paper_exits),  # type: ignore[call-arg]
        )
        services = build_services(settings, clock=clock)
        services.i18n.set_current(services.i18n)
        await start_services(services)
        built.append(services)
        return services

    try:
        yield make
    finally:
        for services in built:
            await close_services(services)
