"""Time the risk scan over many users with five PAPER positions each (default 10,000 users).

    .venv/bin/python bench/risk_scan.py [--users N] [--runs N] [--drivers aiosqlite,inline]

For each SQLite driver, builds a fresh SQLite database in a temporary
directory, fills it in bulk, then times whole scans (every read, the valuation, VaR, and the writes), with
the CPU time of each and the longest time the event loop went without a turn
during a scan (a task that wakes every 10 ms measures it).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bench.report import add_write_argument, command_line, context, verdict, write_section
from bot.app import build_services, close_services, start_services
from bot.services import Services
from engine.common.clock import ManualClock
from engine.risk.scan import BATCH_USERS
from storage.db import Database
from storage.models import AccountRow, PaperBalanceRow, UserRow
from tests.conftest import make_settings

START = datetime(2026, 1, 1, tzinfo=UTC)
TARGET_SECONDS = 2.0
TICK_SECONDS = 0.01
DRIVERS = ("aiosqlite", "inline")
# Quantities that make the five positions roughly 5-8 % of equity each at the replay's first prices.
HOLDINGS = {"BTC": "0.012", "ETH": "0.16", "SOL": "3.5", "XRP": "600", "ADA": "500", "USDT": "6000"}


async def fill(services: Services, users: int) -> None:
    """Insert ``users`` ACTIVE users, each with a PAPER account holding HOLDINGS, in one transaction."""
    user_rows, account_rows, balance_rows = [], [], []
    for index in range(users):
        user_id, account_id = uuid.uuid4(), uuid.uuid4()
        user_rows.append(
            {
                "id": user_id,
                "telegram_id": 10_000_000 + index,
                "username": f"bench{index}",
                "username_lower": f"bench{index}",
                "first_name": "Bench",
                "language": "en" if index % 2 else "ru",
                "risk_profile": ("LOW", "MEDIUM", "HIGH", "ULTRA_HIGH")[index % 4],
                "status": "ACTIVE",
                "timezone": "UTC",
                "permissions": "manage_accounts,trade,view_portfolio",
                "created_at": START,
                "updated_at": START,
            }
        )
        account_rows.append(
            {
                "id": account_id,
                "user_id": user_id,
                "exchange": "PAPER",
                "name": "Paper",
                "is_testnet": False,
                "is_active": True,
                "is_default": True,
                "created_at": START,
                "updated_at": START,
            }
        )
        for asset, quantity in HOLDINGS.items():
            balance_rows.append(
                {"account_id": account_id, "asset": asset, "free": Decimal(quantity), "locked": Decimal(0)}
            )
    async with services.database.session(read_only=False) as session, session.begin():
        await session.execute(insert(UserRow), user_rows)
        await session.execute(insert(AccountRow), account_rows)
        await session.execute(insert(PaperBalanceRow), balance_rows)


class LoopWatch:
    """The longest gap between turns of a task that asks to wake every TICK_SECONDS."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - TICK_SECONDS)
            last = now

    def __enter__(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def measure(driver: str, users: int, runs: int) -> tuple[list[tuple[float, float, float]], int]:
    """Return (wall s, CPU s, longest loop gap s) per scan, and the alerts the first scan raised."""
    workdir = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    clock = ManualClock(START)
    settings = make_settings(workdir)
    database = Database(settings.database.database_url, sqlite_driver=driver)
    services = build_services(settings, clock=clock, database=database)
    await start_services(services)
    await fill(services, users)

    scans, alerts = [], 0
    for run in range(runs):
        with LoopWatch() as watch:
            started, cpu = time.perf_counter(), time.process_time()
            summary = await services.risk_scanner.scan()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            await asyncio.sleep(TICK_SECONDS * 2)  # let the watcher see the end of the scan
        scans.append((wall, cpu, watch.longest))
        if run == 0:
            alerts = len(summary.changes)
        clock.advance(60)
    await close_services(services)
    shutil.rmtree(workdir, ignore_errors=True)
    return scans, alerts


Scans = list[tuple[float, float, float]]  # per scan: wall s, CPU s, longest event-loop gap s


def driver_rows(driver: str, users: int, scans: Scans, alerts: int) -> list[str]:
    first, later = scans[0], scans[1:] or scans
    walls, cpus, gaps = [s[0] for s in later], [s[1] for s in later], [s[2] for s in later]
    return [
        f"| {driver} | first (creates {users:,} equity marks, {alerts:,} alerts queued) | {first[0]:.3f} | "
        f"{first[1]:.3f} | {first[2] * 1000:.0f} |",
        f"| {driver} | later scans, median of {len(later)} | {statistics.median(walls):.3f} | "
        f"{statistics.median(cpus):.3f} | {max(gaps) * 1000:.0f} |",
        f"| {driver} | later scans, slowest | {max(walls):.3f} | {max(cpus):.3f} | |",
    ]


def later_median(scans: Scans) -> float:
    return statistics.median(wall for wall, _cpu, _gap in (scans[1:] or scans))


def report(users: int, by_driver: dict[str, tuple[Scans, int]], command: str) -> str:
    rows = [
        row
        for driver, (scans, alerts) in by_driver.items()
        for row in driver_rows(driver, users, scans, alerts)
    ]
    verdicts = [
        f"{driver} {verdict(later_median(scans) <= TARGET_SECONDS)}"
        for driver, (scans, _alerts) in by_driver.items()
    ]
    longest_gap = max(gap for scans, _alerts in by_driver.values() for _wall, _cpu, gap in scans)
    ratio = ""
    if len(by_driver) == 2:
        (first, (first_scans, _)), (second, (second_scans, _)) = by_driver.items()
        quotient = later_median(first_scans) / later_median(second_scans)
        ratio = f" Ratio {first} / {second} (later scans, median): {quotient:.2f}×."
    return "\n".join(
        [
            "## Risk scan",
            "",
            f"{users:,} ACTIVE users with five PAPER positions each (BTC, ETH, SOL, XRP, ADA) and USDT, "
            "risk profiles in turn, on a SQLite file. One scan works through the users in batches of "
            f"{BATCH_USERS:,}. For each batch it reads the users, accounts, balances, limits, marks and "
            "alert states, and values and checks every user. It computes the batch's VaR in one matrix "
            "product and writes its marks, alerts and outbox messages in one transaction.",
            "",
            context(command),
            "",
            "| SQLite driver | scan | wall s | CPU s | longest event-loop gap ms |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Target ≤ {TARGET_SECONDS:.0f} s for a later scan: {', '.join(verdicts)}.{ratio} "
            f"The event loop got a turn at least every {longest_gap * 1000:.0f} ms during the scans.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=4, help="scans; the first creates the marks")
    parser.add_argument("--drivers", default=",".join(DRIVERS), help="SQLite drivers to compare, in order")
    add_write_argument(parser)
    arguments = parser.parse_args(argv)

    drivers = [name.strip() for name in arguments.drivers.split(",") if name.strip()]
    by_driver = {
        driver: asyncio.run(measure(driver, arguments.users, max(1, arguments.runs))) for driver in drivers
    }
    command = command_line("risk_scan.py", argv if argv is not None else sys.argv[1:])
    write_section("risk-scan", report(arguments.users, by_driver, command), write=not arguments.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
