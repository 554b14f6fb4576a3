"""Shared fixtures: settings isolated from the environment, real SQLite, the real Dispatcher."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_services, close_services, start_services
from bot.logging_setup import redactor
from bot.services import Services
from bot.settings import (
    DatabaseSettings,
    LoggingSettings,
    OrderSettings,
    PaperMatchingSettings,
    PaperSettings,
    RateLimitSettings,
    Settings,
    StorageSettings,
    TelegramSettings,
    TradingSettings,
    VaultSettings,
)
from engine.common.clock import ManualClock
from storage.db import Database
from storage.migrate import upgrade_to_head
from tests.harness import BotHarness

ADMIN_ID = 900_001
TEST_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
# A fixed Fernet key for tests only; production keys come from `patriot keys generate`.
TEST_MASTER_KEY = "bXdL6wOYo9pS8cI3kK1bqVn6Yt8xJrQp0aZfUe2HcM4="
# 2026-01-01 00:00 UTC is the default replay anchor: replay time starts at the
# first recorded candle, 2022-01-06 00:00 UTC, BTC/USDT open 43451.14.
START = datetime(2026, 1, 1, tzinfo=UTC)


def make_settings(
    tmp_path: Path,
    *,
    matching: dict[str, object] | None = None,
    orders: dict[str, object] | None = None,
    rate_limit: dict[str, object] | None = None,
    **paper: object,
) -> Settings:
    return Settings(
        telegram=TelegramSettings(_env_file=None, bot_token=TEST_TOKEN, admin_ids=[ADMIN_ID]),
        database=DatabaseSettings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"),
        paper=PaperSettings(_env_file=None, **paper),
        trading=TradingSettings(_env_file=None),
        logging=LoggingSettings(_env_file=None),
        storage=StorageSettings(_env_file=None),
        vault=VaultSettings(_env_file=None, master_key=TEST_MASTER_KEY),
        paper_matching=PaperMatchingSettings(_env_file=None, **(matching or {})),
        # No waiting between lookups of an order whose creation timed out.
        orders=OrderSettings(_env_file=None, **{"lookup_delay_seconds": 0, **(orders or {})}),
        # Tests press Confirm many times in a row; tests of the order limits pass their own values.
        rate_limit=RateLimitSettings(
            _env_file=None, **{"order_gap_ms": 0, "orders_per_minute": 10_000, **(rate_limit or {})}
        ),
    )


@pytest.fixture(autouse=True)
def root_logging_restored() -> object:
    """Remove the handler a test's call of ``bot.cli.main`` installs on the root logger.

    Its redactor rewrites every record in place (the traceback becomes redacted text), so
    left installed it would change what later tests read from caplog.
    """
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if redactor in handler.filters:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the newest schema revision, copied by each test that needs one."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade_to_head(database)
        await database.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_database: Path) -> Settings:
    shutil.copy(migrated_database, tmp_path / "test.db")
    return make_settings(tmp_path)


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    built = build_services(settings, clock=clock)
    built.i18n.set_current(built.i18n)
    await start_services(built)
    try:
        yield built
    finally:
        await close_services(built)


@pytest.fixture
async def harness(services: Services) -> AsyncIterator[BotHarness]:
    built = BotHarness(services)
    try:
        yield built
    finally:
        await built.close()
