"""Many users trading at once through the real Dispatcher on one SQLite file.

Every simulated user buys at market, places a resting limit buy and cancels
it, all users at the same time (asyncio.gather). Afterwards no order is
missing or doubled, nothing logged "database is locked" or an ERROR, every
user got each outcome, and every PAPER balance equals the opening balance
minus what the user's stored fills cost, to the last Decimal digit.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, Update

from bot.app import build_services, close_services, start_services
from engine.common.clock import ManualClock
from engine.common.money import ZERO
from engine.orders.models import OrderSide, OrderStatus
from engine.users.models import RiskProfile
from engine.users.service import Registration
from tests.conftest import START
from tests.harness import BotHarness, button_data, plain
from tests.security.support import quiet_settings

FIRST_USER = 600_000
OPENING = Decimal("10000")


class Crowd:
    """Feeds updates of many users concurrently and reads each user's replies by chat."""

    def __init__(self, harness: BotHarness) -> None:
        self.harness = harness
        self.ids = itertools.count(1)

    async def send(self, user: int, text: str) -> list[TelegramMethod[Any]]:
        person = self.harness.telegram_user(user, username=f"u{user}")
        message = Message(
            message_id=next(self.ids),
            date=datetime.now(UTC),
            chat=Chat(id=user, type="private"),
            from_user=person,
            text=text,
        )
        return await self._feed(user, Update(update_id=next(self.ids), message=message))

    async def press(self, user: int, data: str) -> list[TelegramMethod[Any]]:
        person = self.harness.telegram_user(user, username=f"u{user}")
        card = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=user, type="private"), text="")
        query = CallbackQuery(
            id=str(next(self.ids)), from_user=person, chat_instance="crowd", data=data, message=card
        )
        return await self._feed(user, Update(update_id=next(self.ids), callback_query=query))

    async def _feed(self, user: int, update: Update) -> list[TelegramMethod[Any]]:
        requests = self.harness.session.requests
        start = len(requests)
        await self.harness.dispatcher.feed_update(self.harness.bot, update)
        return [request for request in requests[start:] if getattr(request, "chat_id", None) == user]


def last_text(requests: list[TelegramMethod[Any]]) -> str:
    shown = [plain(r.text) for r in requests if isinstance(r, SendMessage | EditMessageText)]
    return shown[-1] if shown else ""


async def trade(crowd: Crowd, user: int) -> None:
    """Buy at market (Confirm pressed twice at once), rest a limit buy, cancel it; each outcome is shown."""
    card = await crowd.send(user, "/buy BTCUSDT 0.001")
    confirm = button_data(card, "od:ok:")
    first, second = await asyncio.gather(crowd.press(user, confirm), crowd.press(user, confirm))
    assert "Bought 0.001 BTC" in last_text(first) + last_text(second)

    card = await crowd.send(user, "/buy BTCUSDT 0.002 40000")
    assert "limit at 40,000 USDT" in last_text(await crowd.press(user, button_data(card, "od:ok:")))

    account = await crowd.harness.services.users.get_by_telegram_id(user)
    assert account is not None
    resting = await crowd.harness.services.orders.changes.open_orders(account)
    assert len(resting) == 1
    assert "cancelled" in last_text(await crowd.press(user, f"oa:c:{resting[0].id.hex}"))


@pytest.fixture
async def crowd(tmp_path: Path, migrated_database: Path) -> AsyncIterator[Crowd]:
    shutil.copy(migrated_database, tmp_path / "test.db")
    services = build_services(quiet_settings(tmp_path), clock=ManualClock(START))
    services.i18n.set_current(services.i18n)
    await start_services(services)
    harness = BotHarness(services)
    try:
        yield Crowd(harness)
    finally:
        await harness.close()
        await close_services(services)


async def register_crowd(crowd: Crowd, count: int) -> list[int]:
    users = list(range(FIRST_USER, FIRST_USER + count))
    for user in users:
        await crowd.harness.services.users.register(
            Registration(user, f"u{user}", "Trader", "en", RiskProfile.MEDIUM)
        )
    return users


async def check_books(crowd: Crowd, users: list[int]) -> None:
    services = crowd.harness.services
    total_spent, total_btc = ZERO, ZERO
    for user in users:
        account = await services.users.get_by_telegram_id(user)
        assert account is not None
        async with services.uow(read_only=True) as uow:
            orders, count = await uow.orders.list_for_user(account.id, limit=10)
            paper = await uow.accounts.get_default(account.id)
            assert paper is not None
            balances = await uow.paper.get_balances(paper.id)
        assert count == 2, f"user {user} has {count} orders"
        assert sorted(order.status for order in orders) == [OrderStatus.CANCELLED, OrderStatus.FILLED]
        assert len({order.client_order_id for order in orders}) == 2

        fills = [fill for order in orders for fill in order.fills]
        assert all(order.side is OrderSide.BUY for order in orders)
        spent = sum((fill.price * fill.quantity + fill.fee for fill in fills), ZERO)
        bought = sum((fill.quantity for fill in fills), ZERO)
        usdt, btc = balances["USDT"], balances["BTC"]
        assert usdt.locked == ZERO
        assert btc.locked == ZERO
        assert usdt.free == OPENING - spent, f"user {user}: {usdt.free} != {OPENING} - {spent}"
        assert btc.free == bought == Decimal("0.001")
        total_spent += spent
        total_btc += bought

    everything = sum((balance.free + balance.locked for balance in await _all_usdt(crowd, users)), ZERO)
    assert everything + total_spent == OPENING * len(users)
    assert total_btc == Decimal("0.001") * len(users)


async def _all_usdt(crowd: Crowd, users: list[int]) -> list[Any]:
    services = crowd.harness.services
    found = []
    async with services.uow(read_only=True) as uow:
        for user in users:
            account = await uow.users.get_by_telegram_id(user)
            assert account is not None
            paper = await uow.accounts.get_default(account.id)
            assert paper is not None
            found.append((await uow.paper.get_balances(paper.id))["USDT"])
    return found


@pytest.mark.parametrize(
    "count", [pytest.param(25, id="25"), pytest.param(200, id="200", marks=pytest.mark.slow)]
)
async def test_users_trade_at_once_without_losing_anything(
    crowd: Crowd, count: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    users = await register_crowd(crowd, count)

    outcomes = await asyncio.gather(*(trade(crowd, user) for user in users), return_exceptions=True)

    failures = [(user, outcome) for user, outcome in zip(users, outcomes, strict=True) if outcome is not None]
    assert failures == []
    assert not [r.getMessage() for r in caplog.records if "locked" in r.getMessage().lower()]
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    await check_books(crowd, users)
    assert await crowd.harness.delivery.drain() == 0  # every outcome was shown inline, none was lost
