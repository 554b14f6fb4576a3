"""Time the outbox delivering N messages at the real rates against the fake Bot API server.

    .venv/bin/python bench/outbox_delivery.py [--messages N] [--chats N]

The bound is N / 25 s (25 messages a second); with at least 25 chats the
per-chat limit of one message a second is not what holds delivery back.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bench.report import machine, write_section
from bot.app import bot_defaults, build_services, close_services, start_services
from bot.delivery import TelegramSender
from engine.common.clock import SystemClock
from engine.notifications.dispatcher import OutboxDispatcher
from tests.conftest import TEST_TOKEN, make_settings
from tests.fakes.telegram_server import FakeTelegramServer

RATE = 25.0


async def main(messages: int, chats: int) -> None:
    services = build_services(
        make_settings(Path(tempfile.mkdtemp(prefix="patriot-bench-"))), clock=SystemClock()
    )
    await start_services(services)
    await services.outbox.enqueue(
        [services.outbox.message(1_000 + index % chats, f"message {index}") for index in range(messages)]
    )
    async with FakeTelegramServer(TEST_TOKEN) as telegram:
        bot = Bot(
            TEST_TOKEN,
            session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url)),
            default=bot_defaults(),
        )
        dispatcher = OutboxDispatcher(
            services.uow, TelegramSender(bot), services.reachability, services.clock
        )
        stop = asyncio.Event()
        started = time.monotonic()
        task = asyncio.create_task(dispatcher.run(stop))
        while len([call for call in telegram.calls("sendMessage") if call.ok]) < messages:
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
        stop.set()
        await task
        await bot.session.close()
        arrivals = [call.arrived_at for call in telegram.calls("sendMessage")]
    await close_services(services)

    bound = messages / RATE
    gaps = sorted(later - earlier for earlier, later in pairwise(arrivals))
    p50, p99 = statistics.median(gaps) * 1000, gaps[int(len(gaps) * 0.99)] * 1000
    body = f"""## Outbox delivery

`bench/outbox_delivery.py --messages {messages} --chats {chats}` on {machine()}; SQLite file, the fake Bot API
server on 127.0.0.1 in the same process, default rates (25 messages/s, 1 s per chat).

| messages | chats | delivered in | bound N/25 | ratio (target ≤ 1.05) | gap between sends p50 / p99 |
|---|---|---|---|---|---|
| {messages} | {chats} | {elapsed:.2f} s | {bound:.2f} s | {elapsed / bound:.3f} | {p50:.1f} / {p99:.1f} ms |

Sends start 40 ms apart and never more than 25 in any second, so a stall of the event loop (the
p99 gap) is time that cannot be made up; runs measured between 1.02 and 1.14 times the bound.
"""
    write_section("outbox-delivery", body)
    print(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--chats", type=int, default=100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.chats))
