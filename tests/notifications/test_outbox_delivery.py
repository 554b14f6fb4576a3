"""Delivery of the outbox to the fake Bot API server: flood control, blocked chats, order and rates."""

from __future__ import annotations

import asyncio
import random
import time
from itertools import pairwise

from aiogram import Bot

from bot.services import Services
from engine.notifications.models import Priority
from tests.fakes.telegram_server import FakeTelegramServer
from tests.notifications.conftest import deliveries, make_dispatcher, max_in_window

FIRST_CHAT = 700_000


async def run_until(dispatcher_run: asyncio.Task[None], condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert not dispatcher_run.done(), f"delivery stopped early: {dispatcher_run!r}"
        assert time.monotonic() < deadline, "delivery did not finish in time"
        await asyncio.sleep(0.05)


async def statuses(services: Services) -> dict[str, int]:
    stats = await services.outbox.stats()
    return {"pending": stats.pending, "sending": stats.sending}


async def test_thousand_pushes_with_flood_control_and_blocked_chats(
    services: Services, telegram: FakeTelegramServer, fake_bot: Bot
) -> None:
    chats = [FIRST_CHAT + index for index in range(200)]
    rng = random.Random(7)
    blocked = set(rng.sample(chats, 12))
    flooded = set(rng.sample([chat for chat in chats if chat not in blocked], 40))
    for chat in blocked:
        telegram.block_chat(chat)
    for chat in flooded:
        telegram.rate_limit_next("sendMessage", retry_after=1, chat_id=chat)

    expected: dict[int, list[str]] = {chat: [] for chat in chats}
    for round_number in range(5):
        pushes = []
        for chat in chats:
            text = f"push {round_number} to {chat}"
            expected[chat].append(text)
            pushes.append(services.outbox.message(chat, text))
        await services.outbox.enqueue(pushes)  # one transaction per round keeps the test quick

    dispatcher = make_dispatcher(services, fake_bot, rate_per_second=400, chat_interval_seconds=1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    reachable = [chat for chat in chats if chat not in blocked]
    await run_until(task, lambda: len(deliveries(telegram)) >= 5 * len(reachable), timeout=60)
    await asyncio.sleep(0.3)  # let the last answers be recorded
    stop.set()
    await task

    delivered: dict[int, list[str]] = {}
    for call in deliveries(telegram):
        assert call.chat_id is not None
        delivered.setdefault(call.chat_id, []).append(call.text or "")
    for chat in reachable:
        assert delivered.get(chat) == expected[chat], f"chat {chat} got {delivered.get(chat)}"

    for chat in chats:
        arrivals = telegram.arrival_times("sendMessage", chat_id=chat)
        gaps = [later - earlier for earlier, later in pairwise(arrivals)]
        assert all(gap >= 1.0 for gap in gaps), f"chat {chat} got two messages {min(gaps):.3f} s apart"
    for chat in flooded:
        assert any(call.status == 429 for call in telegram.calls("sendMessage", chat_id=chat))

    for chat in blocked:
        assert chat not in delivered
        assert len(telegram.calls("sendMessage", chat_id=chat)) == 1, "a blocked chat must be tried once"
        assert services.reachability.is_unreachable(chat)
    async with services.uow(read_only=True) as uow:
        assert await uow.outbox.unreachable_chats() == blocked
    stats = await services.outbox.stats()
    assert stats.pending == 0
    assert stats.sending == 0
    assert stats.failed_last_day == len(blocked)  # the first message of each blocked chat
    assert stats.skipped_last_day == 4 * len(blocked)  # the rest were not tried


async def test_real_rates_hold_at_twenty_five_per_second(
    services: Services, telegram: FakeTelegramServer, fake_bot: Bot
) -> None:
    chats = [FIRST_CHAT + index for index in range(40)]
    for round_number in range(2):
        for chat in chats:
            await services.notifier.send(chat, f"round {round_number}")

    dispatcher = make_dispatcher(services, fake_bot)  # the defaults: 25 messages/s, 1 s per chat
    assert dispatcher.config.rate_per_second == 25
    assert dispatcher.config.chat_interval_seconds == 1.0
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(dispatcher.run(stop))
    await run_until(task, lambda: len(deliveries(telegram)) >= 80, timeout=30)
    stop.set()
    await task

    arrivals = [call.arrived_at for call in deliveries(telegram)]
    assert len(arrivals) == 80
    # 25 a second plus a burst of 5 after a hold-up: Telegram's 30 a second. One request's
    # network delay may shift an arrival into the next second.
    burst = dispatcher.config.burst
    assert max_in_window(arrivals) <= 25 + burst + 1
    assert arrivals[-1] - started >= (80 - burst) / 25 - 0.05
    for chat in chats:
        first, second = telegram.arrival_times("sendMessage", chat_id=chat)
        assert second - first >= 1.0


async def test_critical_alert_jumps_the_queue(
    services: Services, telegram: FakeTelegramServer, fake_bot: Bot
) -> None:
    for index in range(30):
        await services.notifier.send(FIRST_CHAT + index, f"bulk {index}", Priority.BULK)
    await services.notifier.send(FIRST_CHAT + 99, "critical", Priority.URGENT)

    dispatcher = make_dispatcher(services, fake_bot, rate_per_second=50)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await run_until(task, lambda: len(deliveries(telegram)) >= 31, timeout=20)
    stop.set()
    await task
    assert deliveries(telegram)[0].text == "critical"


async def test_rejected_message_is_recorded_with_its_reason(
    services: Services, telegram: FakeTelegramServer, fake_bot: Bot
) -> None:
    await services.notifier.send(FIRST_CHAT, "<b>unclosed")  # Telegram refuses broken HTML with 400
    await services.notifier.send(FIRST_CHAT + 1, "fine")
    telegram.server_error_next("sendMessage", chat_id=FIRST_CHAT + 1)

    dispatcher = make_dispatcher(services, fake_bot, rate_per_second=50, retry_base_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await run_until(task, lambda: len(deliveries(telegram)) >= 1, timeout=20)
    await asyncio.sleep(0.2)
    stop.set()
    await task

    assert [call.text for call in deliveries(telegram)] == ["fine"]  # sent again after the 502
    async with services.uow(read_only=True) as uow:
        stats = await uow.outbox.stats(services.clock.now())
    assert stats.failed_last_day == 1
    assert stats.top_failures[0][0].startswith("Bad Request: can't parse entities")
    assert await statuses(services) == {"pending": 0, "sending": 0}
