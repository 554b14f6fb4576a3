"""Engine overhead per order on PAPER: validate, pre-trade checks, persist, fill, record, event.

    .venv/bin/python bench/order_overhead.py [--orders 2000] [--warm-up 50] [--drivers aiosqlite,inline]
        [--profile]

Places market orders through ``OrderService.place`` on a PAPER account over a
real SQLite file (WAL, the production settings), once per SQLite driver, in
one run, so the ratio between them is measured under the same load. Buys and
sells of 0.001 BTC alternate so the balance never runs out, and a manual
clock moves one second per order. Each order is timed from the call to its
return, which includes the ``order_filled`` event reaching a subscriber. CPU
time per order (``time.process_time``) is reported too: this machine is
shared, and CPU time varies much less between runs than wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosqlite.core
from sqlalchemy import event

from bench.report import add_write_argument, command_line, context, percentile, verdict, write_section
from bot.app import build_services, close_services, start_services
from bot.services import Services
from engine.accounts.models import Account
from engine.common.clock import ManualClock
from engine.events import Event
from engine.orders.models import OrderRequest, OrderSide, OrderStatus, OrderType
from engine.users.models import User
from engine.users.service import Registration
from storage import direct, prepared
from storage.db import Database
from tests.conftest import make_settings

WARM_UP = 50  # orders placed before timing starts, per driver
HOP_SAMPLE = 20  # untimed orders after the timed ones, placed while hand-offs are counted
START = datetime(2026, 1, 1, tzinfo=UTC)
DRIVERS = ("aiosqlite", "inline")


@dataclass(frozen=True)
class Run:
    driver: str
    wall_ms: list[float]
    cpu_ms_per_order: float
    statements_per_order: float
    transactions_per_order: float
    hops_per_order: float


class StatementCounter:
    """Counts SQL statements and transactions through SQLAlchemy's engine events.

    BEGIN is issued by the database's "begin" listener straight to the driver, so it
    counts as a transaction and not as a statement. The order path's prepared statements
    (``storage.prepared``) and the transactions begun without a session (``storage.direct``)
    bypass SQLAlchemy's execution and are added from those modules' counters.
    """

    def __init__(self) -> None:
        self.executed = 0
        self.begun = 0
        self._prepared_before = prepared.prepared_statements[0]
        self._direct_before = direct.direct_begins[0]

    @property
    def statements(self) -> int:
        return self.executed + prepared.prepared_statements[0] - self._prepared_before

    @property
    def transactions(self) -> int:
        return self.begun + direct.direct_begins[0] - self._direct_before

    def listen(self, database: Database) -> None:
        for engine in {database.write_engine, database.read_engine}:
            event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
            event.listen(engine.sync_engine, "begin", self._begin)

    def _statement(self, *args: object) -> None:
        self.executed += 1

    def _begin(self, *args: object) -> None:
        self.begun += 1


@contextlib.contextmanager
def counting_hops() -> Iterator[list[int]]:
    """Count calls handed to aiosqlite's worker thread (``Connection._execute``, aiosqlite 0.22).

    The wrapper adds a coroutine call to each hand-off, so the counted orders are not timed.
    """
    count = [0]
    original = aiosqlite.core.Connection._execute

    async def counted(self: aiosqlite.core.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await original(self, fn, *args, **kwargs)

    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield count
    finally:
        aiosqlite.core.Connection._execute = original  # type: ignore[method-assign]


async def measure(driver: str, count: int, warm_up: int, profile: cProfile.Profile | None) -> Run:
    directory = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    clock = ManualClock(START)
    settings = make_settings(directory)
    database = Database(settings.database.database_url, sqlite_driver=driver)
    services = build_services(settings, clock=clock, database=database)
    await start_services(services)
    filled: list[str] = []

    async def on_filled(event: Event) -> None:
        filled.append(event.name)

    services.bus.subscribe("order_filled", on_filled)
    counter = StatementCounter()
    counter.listen(database)
    try:
        user, _ = await services.users.register(Registration(1, "bench", "Bench", "en"))
        account = await services.orders.account(user, None)
        wall: list[float] = []
        cpu_started = statements = transactions = 0.0
        for index in range(warm_up + count):
            if index == warm_up:
                cpu_started = time.process_time()
                statements, transactions = counter.statements, counter.transactions
                if profile is not None:
                    profile.enable()
            began = time.perf_counter()
            await place_one(services, user, account, index)
            elapsed = time.perf_counter() - began
            if index >= warm_up:
                wall.append(elapsed * 1000)
            clock.advance(1)
        cpu = time.process_time() - cpu_started
        if profile is not None:
            profile.disable()
        statements_per_order = (counter.statements - statements) / count
        transactions_per_order = (counter.transactions - transactions) / count

        with counting_hops() as hops:
            for index in range(warm_up + count, warm_up + count + HOP_SAMPLE):
                await place_one(services, user, account, index)
                clock.advance(1)
        placed = warm_up + count + HOP_SAMPLE
        if len(filled) != placed:
            raise RuntimeError(f"{len(filled)} order_filled events for {placed} orders")
        return Run(
            driver=driver,
            wall_ms=wall,
            cpu_ms_per_order=cpu * 1000 / count,
            statements_per_order=statements_per_order,
            transactions_per_order=transactions_per_order,
            hops_per_order=hops[0] / HOP_SAMPLE,
        )
    finally:
        await close_services(services)
        shutil.rmtree(directory, ignore_errors=True)


async def place_one(services: Services, user: User, account: Account, index: int) -> None:
    """Place the index-th order: buys and sells alternate so the balance never runs out."""
    side = OrderSide.BUY if index % 2 == 0 else OrderSide.SELL
    request = OrderRequest("BTC/USDT", side, OrderType.MARKET, Decimal("0.001"))
    order = await services.orders.place(user, account, request)
    if order.status is not OrderStatus.FILLED:
        raise RuntimeError(f"order {index} ended {order.status}")


def report(runs: list[Run], count: int, warm_up: int, command: str) -> str:
    lines = [
        "## Order overhead on PAPER",
        "",
        "What it measures: `OrderService.place` of a 0.001 BTC market order on PAPER, from the call to its "
        "return: market rules, the balance check and six risk checks (VaR after the trade included), "
        "the order, PAPER's fill (balances, its order, trade), the recorded fill and holding, and the "
        f"`order_filled` event. {count} orders after {warm_up} warm-up orders per SQLite driver, on a real "
        "SQLite file in WAL mode with synchronous=NORMAL. The statements column counts what SQLAlchemy "
        "executes and the prepared statements that go to the driver directly (`storage/prepared.py`); BEGIN "
        "is counted under transactions. Hops are the "
        f"calls handed to aiosqlite's worker thread per order (a statement, COMMIT or ROLLBACK, with the "
        f"BEGIN and queued writes that go ahead of it), counted "
        f"over {HOP_SAMPLE} more orders that are not timed; the inline driver makes none.",
        "",
        context(command),
        "",
        "| SQLite driver | median ms | p90 ms | p99 ms | max ms | CPU ms per order | statements "
        "| transactions | hops |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        values = run.wall_ms
        lines.append(
            f"| {run.driver} | {statistics.median(values):.2f} | {percentile(values, 0.9):.2f} | "
            f"{percentile(values, 0.99):.2f} | {max(values):.2f} | {run.cpu_ms_per_order:.2f} | "
            f"{run.statements_per_order:.1f} | {run.transactions_per_order:.1f} | {run.hops_per_order:.1f} |"
        )
    verdicts = [
        f"{run.driver} {verdict(statistics.median(run.wall_ms) <= 2 and percentile(run.wall_ms, 0.99) <= 10)}"
        for run in runs
    ]
    lines += ["", f"Target (median ≤ 2 ms and p99 ≤ 10 ms): {', '.join(verdicts)}."]
    if len(runs) > 1:
        first, second = runs[0], runs[1]
        lines.append(
            f"Ratio {first.driver} / {second.driver}: median "
            f"{statistics.median(first.wall_ms) / statistics.median(second.wall_ms):.2f}×, "
            f"CPU per order {first.cpu_ms_per_order / second.cpu_ms_per_order:.2f}×."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders to time after the warm-up")
    parser.add_argument("--warm-up", type=int, default=WARM_UP, help="untimed orders first, per driver")
    parser.add_argument("--drivers", default=",".join(DRIVERS), help="SQLite drivers to compare, in order")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries of the first")
    add_write_argument(parser)
    arguments = parser.parse_args(argv)

    drivers = [name.strip() for name in arguments.drivers.split(",") if name.strip()]
    profile = cProfile.Profile() if arguments.profile else None
    runs = [
        asyncio.run(measure(driver, arguments.orders, arguments.warm_up, profile if index == 0 else None))
        for index, driver in enumerate(drivers)
    ]
    command = command_line("order_overhead.py", argv if argv is not None else sys.argv[1:])
    body = report(runs, arguments.orders, arguments.warm_up, command)
    write_section("order-overhead", body, write=not arguments.no_write)
    if profile is not None:
        stream = io.StringIO()
        pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(30)
        print(stream.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
