"""PAPER exchange fixtures: services over a real SQLite file with chosen matching settings."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app import build_services, close_services, start_services
from bot.services import Services
from engine.common.clock import ManualClock
from engine.users.models import User
from engine.users.service import Registration
from tests.conftest import make_settings

ServicesFactory = Callable[..., Awaitable[Services]]


@pytest.fixture
async def make_services(
    tmp_path: Path, migrated_database: Path, clock: ManualClock
) -> AsyncIterator[ServicesFactory]:
    """Build services over one database file; several calls share it, as a restart would."""
    database = tmp_path / "test.db"
    shutil.copy(migrated_database, database)
    built: list[Services] = []

    async def make(**matching: object) -> Services:
        services = build_services(make_settings(tmp_path, matching=matching), clock=clock)
        services.i18n.set_current(services.i18n)
        await start_services(services)
        built.append(services)
        return services

    try:
        yield make
    finally:
        for services in built:
            await close_services(services)


async def trader(services: Services, telegram_id: int = 7) -> tuple[User, uuid.UUID]:
    """A registered user and their PAPER account id (10000 USDT)."""
    user, _ = await services.users.register(Registration(telegram_id, f"trader{telegram_id}", "T", "en"))
    account = await services.orders.account(user, None)
    return user, account.id


async def balances(services: Services, account_id: uuid.UUID) -> dict[str, tuple[Decimal, Decimal]]:
    """Free and locked amount of every asset."""
    entries = await services.paper.fetch_balance(account_id)
    return {asset: (entry.free, entry.used) for asset, entry in entries.items()}
