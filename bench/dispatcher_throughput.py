"""Read commands (/portfolio, /help, /orders, /alerts) fed through the real Dispatcher, 1,000 users.

    .venv/bin/python bench/dispatcher_throughput.py [--users 1000] [--updates 4000] [--concurrency 16]
        [--drivers aiosqlite,inline] [--profile]

Registers the users in bulk (each with a PAPER account holding five coins and
USDT, so /portfolio values five positions at current prices), then feeds
Telegram updates through the Dispatcher the bot runs, with a Bot whose session
answers locally (``bot.local_session.LocalSession``, as tests/harness.py does).
Each update is parsed from the JSON shape getUpdates returns, as polling does.
A warm-up pass sends every user one /help first, so the once-per-10-minutes
last-seen write is not what is measured.

Two runs per SQLite driver: one update at a time (latency per update), and
``--concurrency`` updates in flight as polling handles them (throughput). The
database is a SQLite file; no request leaves the process.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram.types import Update

from bench.report import add_write_argument, command_line, context, percentile, verdict, write_section
from bench.risk_scan import fill
from bot.app import build_services, close_services, start_services
from engine.common.clock import ManualClock
from storage.db import Database
from tests.conftest import make_settings
from tests.harness import BotHarness

COMMANDS = ("/portfolio", "/help", "/orders", "/alerts")
FIRST_TELEGRAM_ID = 10_000_000  # the ids bench.risk_scan.fill gives its users
START = datetime(2026, 1, 1, tzinfo=UTC)
TARGET_PER_SECOND = 1000
TARGET_P99_MS = 25.0
DRIVERS = ("aiosqlite", "inline")

Results = dict[str, tuple[list[float], float, float]]  # run name: latencies ms, wall s, CPU s


class Feeder:
    """Builds updates as getUpdates returns them and feeds them to the Dispatcher."""

    def __init__(self, harness: BotHarness) -> None:
        self._harness = harness
        self._ids = itertools.count(1)

    async def feed(self, user_id: int, text: str) -> None:
        update_id = next(self._ids)
        raw: dict[str, Any] = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": "en"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            },
        }
        update = Update.model_validate(raw, context={"bot": self._harness.bot})
        await self._harness.dispatcher.feed_update(self._harness.bot, update)


async def sequential(feeder: Feeder, users: int, updates: int) -> tuple[list[float], float]:
    latencies = []
    started = time.perf_counter()
    for index in range(updates):
        user_id = FIRST_TELEGRAM_ID + index % users
        began = time.perf_counter()
        await feeder.feed(user_id, COMMANDS[index % len(COMMANDS)])
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies, time.perf_counter() - started


async def concurrent(feeder: Feeder, users: int, updates: int, in_flight: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    slots = asyncio.Semaphore(in_flight)

    async def one(index: int) -> None:
        async with slots:
            began = time.perf_counter()
            await feeder.feed(FIRST_TELEGRAM_ID + index % users, COMMANDS[index % len(COMMANDS)])
            latencies.append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(updates)))
    return latencies, time.perf_counter() - started


async def measure(
    driver: str, users: int, updates: int, in_flight: int, profile: cProfile.Profile | None = None
) -> Results:
    workdir = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    settings = make_settings(workdir, rate_limit={"commands_per_minute": 10_000})
    database = Database(settings.database.database_url, sqlite_driver=driver)
    services = build_services(settings, clock=ManualClock(START), database=database)
    services.i18n.set_current(services.i18n)
    await start_services(services)
    await fill(services, users)
    harness = BotHarness(services)
    feeder = Feeder(harness)
    try:
        for index in range(users):  # warm-up: last-seen writes, caches, first-use imports
            await feeder.feed(FIRST_TELEGRAM_ID + index, "/help")
        answered_before = len(harness.session.requests)
        results: Results = {}
        for name in ("sequential", "concurrent"):
            cpu = time.process_time()
            if name == "sequential":
                if profile is not None:
                    profile.enable()
                latencies, wall = await sequential(feeder, users, updates)
                if profile is not None:
                    profile.disable()
            else:
                latencies, wall = await concurrent(feeder, users, updates, in_flight)
            results[name] = (latencies, wall, time.process_time() - cpu)
        answered = len(harness.session.requests) - answered_before
        if answered < 2 * updates:
            raise RuntimeError(f"only {answered} replies to {2 * updates} updates")
        return results
    finally:
        await harness.close()
        await close_services(services)
        shutil.rmtree(workdir, ignore_errors=True)


def report(by_driver: dict[str, Results], users: int, updates: int, in_flight: int, command: str) -> str:
    rows, verdicts = [], []
    for driver, results in by_driver.items():
        for name, (latencies, wall, cpu) in results.items():
            label = "one at a time" if name == "sequential" else f"{in_flight} in flight"
            rows.append(
                f"| {driver} | {label} | {updates / wall:.0f} | {statistics.median(latencies):.2f} | "
                f"{percentile(latencies, 0.99):.2f} | {max(latencies):.2f} | {cpu * 1000 / updates:.2f} |"
            )
        best_rate = max(updates / wall for _latencies, wall, _cpu in results.values())
        p99 = percentile(results["sequential"][0], 0.99)
        verdicts.append(
            f"{driver}: ≥ {TARGET_PER_SECOND:,} updates/s {verdict(best_rate >= TARGET_PER_SECOND)}, "
            f"p99 ≤ {TARGET_P99_MS:.0f} ms one at a time {verdict(p99 <= TARGET_P99_MS)}."
        )
    ratios = ""
    if len(by_driver) == 2:
        (first, first_results), (second, second_results) = by_driver.items()
        ratios = (
            f"Ratio {first} / {second} in CPU per update: "
            + ", ".join(
                f"{name} {first_results[name][2] / second_results[name][2]:.2f}×" for name in first_results
            )
            + "."
        )
    return "\n".join(
        [
            "## Dispatcher throughput for read commands",
            "",
            f"{updates:,} updates per run, /portfolio, /help, /orders and /alerts in turn from {users:,} "
            "registered users (each with a PAPER account holding BTC, ETH, SOL, XRP, ADA and USDT), parsed "
            "from getUpdates JSON and fed through the real Dispatcher with a local Bot API session. "
            "Latency is from feeding the update to the end of its handling, replies included.",
            "",
            context(command),
            "",
            "| SQLite driver | run | updates/s | median ms | p99 ms | max ms | CPU ms per update |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Targets: " + " ".join(verdicts),
            ratios,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=4000, help="updates per run")
    parser.add_argument("--concurrency", type=int, default=16, help="updates in flight in the second run")
    parser.add_argument("--drivers", default=",".join(DRIVERS), help="SQLite drivers to compare, in order")
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile's top entries (first driver, one at a time)"
    )
    add_write_argument(parser)
    arguments = parser.parse_args(argv)

    drivers = [name.strip() for name in arguments.drivers.split(",") if name.strip()]
    profile = cProfile.Profile() if arguments.profile else None
    by_driver = {
        driver: asyncio.run(
            measure(
                driver,
                arguments.users,
                arguments.updates,
                arguments.concurrency,
                profile if index == 0 else None,
            )
        )
        for index, driver in enumerate(drivers)
    }
    command = command_line("dispatcher_throughput.py", argv if argv is not None else sys.argv[1:])
    body = report(by_driver, arguments.users, arguments.updates, arguments.concurrency, command)
    write_section("dispatcher-throughput", body, write=not arguments.no_write)
    if profile is not None:
        stream = io.StringIO()
        pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(40)
        stream.write("\n")
        pstats.Stats(profile, stream=stream).sort_stats("cumulative").print_stats(60)
        print(stream.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
