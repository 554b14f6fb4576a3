"""Engine overhead per order on PAPER: validate, pre-trade check, persist, fill, record, event.

Run from the repository root:

    .venv/bin/python bench/order_overhead.py [--orders 2000] [--profile]

Places market orders through ``OrderService.place`` on a PAPER account over a
real SQLite file (WAL, the production settings). Buys and sells of 0.001 BTC
alternate so the balance never runs out, and a manual clock moves one second
per order. Each order is timed from the call to its return, which
includes the event published to a subscriber. The figures replace the
"Order overhead on PAPER" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.app import build_services, close_services, start_services  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import (  # noqa: E402
    DatabaseSettings,
    LoggingSettings,
    OrderSettings,
    PaperMatchingSettings,
    PaperSettings,
    Settings,
    StorageSettings,
    TelegramSettings,
    TradingSettings,
)
from engine.common.clock import ManualClock  # noqa: E402
from engine.events import Event  # noqa: E402
from engine.orders.models import OrderRequest, OrderSide, OrderStatus, OrderType  # noqa: E402
from engine.users.models import User  # noqa: E402
from engine.users.service import Registration  # noqa: E402

REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## Order overhead on PAPER"
WARM_UP = 50
START = datetime(2026, 1, 1, tzinfo=UTC)


def settings_for(directory: Path) -> Settings:
    return Settings(
        telegram=TelegramSettings(_env_file=None),
        database=DatabaseSettings(
            _env_file=None, database_url=f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        ),
        paper=PaperSettings(_env_file=None),
        trading=TradingSettings(_env_file=None),
        logging=LoggingSettings(_env_file=None),
        storage=StorageSettings(_env_file=None),
        paper_matching=PaperMatchingSettings(_env_file=None),
        orders=OrderSettings(_env_file=None),
    )


class StatementClock:
    """Counts and times the SQL statements the database runs, through SQLAlchemy's cursor events.

    A statement's time runs from before its cursor call to after it, so it
    includes the hand-off to aiosqlite's worker thread and back.
    """

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._started: dict[int, float] = {}

    def listen(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def _before(self, connection: object, cursor: object, *args: object) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, connection: object, cursor: object, *args: object) -> None:
        began = self._started.pop(id(cursor), None)
        if began is not None:
            self.count += 1
            self.seconds += time.perf_counter() - began


async def transaction_floor(services: Services, user: User) -> float:
    """Median seconds of one write transaction running one indexed SELECT: the cost every step pays."""
    timings = []
    for _ in range(WARM_UP + 200):
        began = time.perf_counter()
        async with services.uow() as uow:
            await uow.orders.get_by_client_id_for_user(user.id, "missing")
            await uow.commit()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings[WARM_UP:])


@dataclass(frozen=True)
class Measured:
    """SQL statements an order runs, and the seconds spent in them."""

    statements: float
    seconds: float


async def measure(count: int, profile: cProfile.Profile | None) -> tuple[list[float], Measured, float]:
    directory = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    clock = ManualClock(START)
    services = build_services(settings_for(directory), clock=clock)
    await start_services(services)
    events: list[str] = []

    async def count_event(event: Event) -> None:
        events.append(event.name)

    services.bus.subscribe("order_filled", count_event)
    statements = StatementClock()
    for engine in {services.database.write_engine, services.database.read_engine}:
        statements.listen(engine)
    try:
        user, _ = await services.users.register(Registration(1, "bench", "Bench", "en"))
        account = await services.orders.account(user, None)
        timings = []
        for index in range(WARM_UP + count):
            side = OrderSide.BUY if index % 2 == 0 else OrderSide.SELL
            request = OrderRequest("BTC/USDT", side, OrderType.MARKET, Decimal("0.001"))
            if profile is not None and index == WARM_UP:
                profile.enable()
            began = time.perf_counter()
            order = await services.orders.place(user, account, request)
            elapsed = time.perf_counter() - began
            if order.status is not OrderStatus.FILLED:
                raise RuntimeError(f"order {index} ended {order.status}")
            if index == WARM_UP - 1:
                statements.reset()
            if index >= WARM_UP:
                timings.append(elapsed)
            clock.advance(1)
        if profile is not None:
            profile.disable()
        if len(events) != WARM_UP + count:
            raise RuntimeError(f"{len(events)} order_filled events for {WARM_UP + count} orders")
        per_order = Measured(statements.count / count, statements.seconds / count)
        return timings, per_order, await transaction_floor(services, user)
    finally:
        await close_services(services)
        shutil.rmtree(directory, ignore_errors=True)


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} cores visible, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def report(timings: list[float], sql: Measured, floor: float, command: str) -> str:
    values = sorted(seconds * 1000 for seconds in timings)
    median, p90, p99 = percentile(values, 0.5), percentile(values, 0.9), percentile(values, 0.99)
    verdict = "met" if median <= 2 and p99 <= 10 else "missed"
    statements = sql.statements
    lines = [
        SECTION,
        "",
        f"What it measures: `OrderService.place` of a 0.001 BTC market order on PAPER, from the call to "
        f"its return: market rules, pre-trade checks, the PENDING row, PAPER's fill (balances, order, "
        f"trade), the recorded report with its fill and holding, and the `order_filled` event. "
        f"{len(values)} orders after {WARM_UP} warm-up orders, on a real SQLite file in WAL mode.",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}. Measured {datetime.now(UTC).strftime('%Y-%m-%d')}, "
        f"load average {os.getloadavg()[0]:.1f} at the end of the run.",
        "",
        "| figure | ms per order |",
        "|---|---|",
        f"| median | {median:.2f} |",
        f"| p90 | {p90:.2f} |",
        f"| p99 | {p99:.2f} |",
        f"| mean | {statistics.fmean(values):.2f} |",
        f"| max | {values[-1]:.2f} |",
        "",
        f"Target: median ≤ 2 ms and p99 ≤ 10 ms on a 2-core machine: {verdict}. "
        f"Throughput in one task: {1000 / statistics.fmean(values):.0f} orders/s. "
        f"SQL statements per order: {statements:.0f}, in four transactions (balance read, "
        f"PENDING row, PAPER fill, recorded report).",
        "",
        f"Where the time goes: one write transaction running a single indexed SELECT through the "
        f"SQLAlchemy ORM and aiosqlite takes {floor * 1000:.2f} ms (median) on this machine, most of it "
        f"Python in the ORM and the thread hand-offs of aiosqlite (every statement, BEGIN and COMMIT "
        f"goes to its worker thread and back). The statements themselves, hand-offs included, take "
        f"{sql.seconds * 1000:.1f} ms of an order on average. The "
        f"order path needs four transactions, because the order must be stored PENDING before it is "
        f"sent and the exchange's report is recorded after, and the other "
        f"{statements - 4:.0f} statements with their ORM work cost about "
        f"{(statistics.median(values) - 4 * floor * 1000) / max(statements - 4, 1):.1f} ms each "
        f"(the median minus four transactions, divided by them; an estimate). So the 2 ms target is "
        f"out of reach on this stack. What was cut: repositories reuse the rows they loaded "
        f"instead of selecting them again, the PENDING write checks the client order id once (24 "
        f"statements an order before, {statements:.0f} now), and PAPER builds only the book levels "
        f"an order reaches. "
        f"Reaching the target would need the PAPER fill and the record "
        f"in one synchronous SQLite transaction (one thread hop) or SQLAlchemy Core in place of the ORM "
        f"on this path.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, keeping every other section."""
    if REPORT.exists():
        existing = REPORT.read_text()
    else:
        existing = (
            "# Benchmarks\n\n"
            "Each section is written by the script it names; rerun the script to refresh it.\n"
        )
    if SECTION in existing:
        head, _, rest = existing.partition(SECTION)
        following = rest.find("\n## ")
        tail = rest[following + 1 :] if following != -1 else ""
        updated = head + text + ("\n" + tail if tail else "")
    else:
        updated = existing.rstrip("\n") + "\n\n" + text
    REPORT.write_text(updated)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders to time after the warm-up")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries too")
    parser.add_argument("--no-write", action="store_true", help="print the figures without updating the docs")
    args = parser.parse_args()

    profile = cProfile.Profile() if args.profile else None
    timings, sql, floor = asyncio.run(measure(args.orders, profile))
    command = ".venv/bin/python bench/order_overhead.py" + (
        f" --orders {args.orders}" if args.orders != 2000 else ""
    )
    text = report(timings, sql, floor, command)
    print(text)
    if profile is not None:
        stream = io.StringIO()
        pstats.Stats(profile, stream=stream).sort_stats("cumulative").print_stats(40)
        print(stream.getvalue())
    if not args.no_write and profile is None:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
