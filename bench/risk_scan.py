"""Time the risk scan over many users with five PAPER positions each (default 10,000 users).

    .venv/bin/python bench/risk_scan.py [--users N] [--runs N]

Builds a fresh SQLite database in a temporary directory, fills it in bulk,
then times whole scans (every read, the valuation, VaR, and the writes).
"""

from __future__ import annotations

import argparse
import asyncio
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

from bench.report import machine, write_section
from bot.app import build_services, close_services, start_services
from engine.common.clock import ManualClock
from storage.models import AccountRow, PaperBalanceRow, UserRow
from tests.conftest import make_settings

START = datetime(2026, 1, 1, tzinfo=UTC)
# Quantities that make the five positions roughly 5-8 % of equity each at the replay's first prices.
HOLDINGS = {"BTC": "0.012", "ETH": "0.16", "SOL": "3.5", "XRP": "600", "ADA": "500", "USDT": "6000"}


async def fill(services, users: int) -> None:  # type: ignore[no-untyped-def]
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


async def main(users: int, runs: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    clock = ManualClock(START)
    services = build_services(make_settings(workdir), clock=clock)
    await start_services(services)
    await fill(services, users)

    timings = []
    summaries = []
    for _ in range(runs):
        started = time.perf_counter()
        summary = await services.risk_scanner.scan()
        timings.append(time.perf_counter() - started)
        summaries.append(summary)
        clock.advance(60)
    await close_services(services)

    first, steady = timings[0], timings[1:] or timings
    median = statistics.median(steady)
    alerts = len(summaries[0].changes)
    body = f"""## Risk scan

`bench/risk_scan.py --users {users} --runs {runs}` on {machine()};
SQLite file, PAPER replay prices.
{users:,} ACTIVE users with five positions each (BTC, ETH, SOL, XRP, ADA) and USDT, profiles in turn.

| scan | seconds | target 2 s |
|---|---|---|
| first (creates {users:,} equity marks, {alerts:,} alerts queued) | {first:.2f} | {first / 2:.0%} of target |
| later scans, median of {len(steady)} | {median:.2f} | {median / 2:.0%} of target |
| later scans, slowest | {max(steady):.2f} | {max(steady) / 2:.0%} of target |

The 2 s target is not met on this machine. A profile of one later scan puts most of the time in
reading rows: converting about 100,000 UUID and Decimal values (users, accounts, 60,000 balances,
marks) and building 10,000 User objects, then the bulk UPDATE of equity marks; valuation, alert
rules and VaR (one matrix product) take well under a second. Figures vary by a factor of two between
runs when other work shares the two CPUs.
"""
    write_section("risk-scan", body)
    print(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.users, arguments.runs))
