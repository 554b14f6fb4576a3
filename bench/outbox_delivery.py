"""Time the outbox delivering N messages at the real rates against the fake Bot API server.

    .venv/bin/python bench/outbox_delivery.py [--messages 500] [--chats 100] [--runs 3]

The bound is N / 25 s (25 messages a second); with at least 25 chats the
per-chat limit of one message a second is not what holds delivery back. Each
run queues the messages in a fresh SQLite file, then times the outbox
dispatcher from its start to the last accepted sendMessage. The fake server
runs on 127.0.0.1 in this process, so its handling shares the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bench.report import add_write_argument, command_line, context, percentile, verdict, write_section
from bot.app import bot_defaults, build_services, close_services, start_services
from bot.delivery import TelegramSender
from engine.common.clock import SystemClock
from engine.notifications.dispatcher import OutboxDispatcher
from tests.conftest import TEST_TOKEN, make_settings
from tests.fakes.telegram_server import FakeTelegramServer

RATE = 25.0
TARGET_RATIO = 1.05
TELEGRAM_LIMIT_PER_SECOND = 30


@dataclass(frozen=True)
class Delivery:
    seconds: float
    arrivals: list[float]  # monotonic arrival times of the sendMessage requests

    def gaps_ms(self) -> list[float]:
        return [(later - earlier) * 1000 for earlier, later in pairwise(self.arrivals)]

    def busiest_second(self) -> int:
        """Return the maximum number of sendMessage requests that arrived within any one second."""
        return max(
            bisect.bisect_left(self.arrivals, start + 1.0) - index
            for index, start in enumerate(self.arrivals)
        )


async def deliver(messages: int, chats: int) -> Delivery:
    workdir = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    services = build_services(make_settings(workdir), clock=SystemClock())
    await start_services(services)
    try:
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
            last = max(call.arrived_at for call in telegram.calls("sendMessage"))
            stop.set()
            await task
            await bot.session.close()
            arrivals = sorted(call.arrived_at for call in telegram.calls("sendMessage"))
    finally:
        await close_services(services)
        shutil.rmtree(workdir, ignore_errors=True)
    return Delivery(last - started, arrivals)


def report(runs: list[Delivery], messages: int, chats: int, command: str) -> str:
    bound = messages / RATE
    rows = []
    for number, run in enumerate(runs, start=1):
        gaps = run.gaps_ms()
        rows.append(
            f"| {number} | {run.seconds:.2f} | {run.seconds / bound:.3f} | {statistics.median(gaps):.1f} | "
            f"{percentile(gaps, 0.99):.1f} | {run.busiest_second()} |"
        )
    median_ratio = statistics.median(run.seconds / bound for run in runs)
    worst_ratio = max(run.seconds / bound for run in runs)
    busiest = max(run.busiest_second() for run in runs)
    return "\n".join(
        [
            "## Outbox delivery",
            "",
            f"{messages} messages to {chats} chats queued in the outbox of a SQLite file, then delivered by "
            "the outbox dispatcher at the default rates (25 messages a second, one a second per chat, "
            "a bucket of 5 starts) to the fake Bot API server on 127.0.0.1 in the same process. Timed from "
            "the dispatcher's start to the arrival of the last sendMessage; "
            f"the bound N/25 is {bound:.2f} s.",
            "",
            context(command),
            "",
            "| run | delivered in s | ratio to N/25 | gap between sends median ms | p99 ms | most sends "
            "in one second |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Target ≤ {TARGET_RATIO} × N/25: median ratio {median_ratio:.3f}, worst {worst_ratio:.3f}: "
            f"{verdict(worst_ratio <= TARGET_RATIO)}. "
            f"Telegram's limit of {TELEGRAM_LIMIT_PER_SECOND} messages "
            f"a second to different chats: at most {busiest} in one second, "
            f"{verdict(busiest <= TELEGRAM_LIMIT_PER_SECOND)}.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    add_write_argument(parser)
    arguments = parser.parse_args(argv)

    runs = [asyncio.run(deliver(arguments.messages, arguments.chats)) for _ in range(max(1, arguments.runs))]
    command = command_line("outbox_delivery.py", argv if argv is not None else sys.argv[1:])
    body = report(runs, arguments.messages, arguments.chats, command)
    write_section("outbox-delivery", body, write=not arguments.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
