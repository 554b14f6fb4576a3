"""The outbox dispatcher against the fake Bot API server, through aiogram's real HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import bot_defaults
from bot.delivery import TelegramSender
from bot.services import Services
from engine.notifications.dispatcher import DeliveryConfig, OutboxDispatcher
from tests.conftest import TEST_TOKEN
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(TEST_TOKEN) as server:
        yield server


@pytest.fixture
async def fake_bot(telegram: FakeTelegramServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    bot = Bot(token=TEST_TOKEN, session=session, default=bot_defaults())
    try:
        yield bot
    finally:
        await bot.session.close()


def make_dispatcher(services: Services, bot: Bot, **config: float) -> OutboxDispatcher:
    dispatcher = OutboxDispatcher(
        services.uow, TelegramSender(bot), services.reachability, services.clock, DeliveryConfig(**config)
    )
    services.outbox.on_queued(dispatcher.wake)
    return dispatcher


def deliveries(telegram: FakeTelegramServer) -> list[ApiCall]:
    """Every sendMessage the server accepted, in arrival order."""
    return [call for call in telegram.calls("sendMessage") if call.ok]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The largest number of events inside any interval of ``window`` seconds."""
    ordered = sorted(times)
    largest, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        largest = max(largest, end - start + 1)
    return largest
