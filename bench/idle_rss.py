"""Resident memory of an idle ``patriot run`` with 10,000 registered users in its database.

    .venv/bin/python bench/idle_rss.py [--users 10000] [--idle 75] [--drivers aiosqlite,inline]

Fills a SQLite file with ``--users`` users (each with a PAPER account holding
five coins and USDT) and starts the real bot as a child process against the
fake Bot API server on 127.0.0.1. Once it polls, it receives no update for
``--idle`` seconds while its scheduled jobs run (the risk scan every 60 s by
default, so a 75 s window includes one scan over every user). The resident set
size (VmRSS in /proc) is sampled every half second; the peak (VmHWM) includes
start-up. One bot per SQLite driver, on copies of the same file.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bot_process import PatriotProcess, prepare_database, wait_for_polling
from bench.report import add_write_argument, command_line, context, verdict, write_section
from tests.conftest import TEST_TOKEN
from tests.fakes.telegram_server import FakeTelegramServer

TARGET_MB = 150  # decimal megabytes, as the target is stated
TARGET_MIB = TARGET_MB * 10**6 / 2**20  # 143.05 MiB: the samples below are in MiB
SAMPLE_SECONDS = 0.5
POLLING_TIMEOUT_SECONDS = 60.0
DRIVERS = ("aiosqlite", "inline")


@dataclass(frozen=True)
class Memory:
    driver: str
    polling_mib: float  # when the first getUpdates arrived
    samples_mib: list[float]  # during the idle window
    peak_mib: float  # VmHWM at the end of the window


async def watch(workdir: Path, database: Path, driver: str, idle_seconds: float) -> Memory:
    """Run one bot through its idle window and sample its memory."""
    async with FakeTelegramServer(TEST_TOKEN) as telegram:
        process = PatriotProcess(workdir, telegram.base_url, database, {"DATABASE_SQLITE_DRIVER": driver})
        process.start()
        try:
            await wait_for_polling(process, telegram, POLLING_TIMEOUT_SECONDS)
            polling, _peak = process.memory_kib()
            samples = []
            deadline = time.monotonic() + idle_seconds
            while time.monotonic() < deadline:
                await asyncio.sleep(SAMPLE_SECONDS)
                samples.append(process.memory_kib()[0] / 1024)
            _rss, peak = process.memory_kib()
        finally:
            code = await asyncio.to_thread(process.stop)
    if code != 0:
        raise RuntimeError(f"patriot run exited with {code}:\n{process.stderr()}")
    return Memory(driver, polling / 1024, samples, peak / 1024)


async def measure(users: int, idle_seconds: float, drivers: list[str]) -> list[Memory]:
    workdir = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    try:
        template = await prepare_database(workdir, users)
        results = []
        for driver in drivers:
            rundir = workdir / driver
            rundir.mkdir()
            database = rundir / "bot.db"
            shutil.copy(template, database)
            results.append(await watch(rundir, database, driver, idle_seconds))
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(results: list[Memory], users: int, idle_seconds: float, command: str) -> str:
    rows = [
        f"| {item.driver} | {item.polling_mib:.1f} | {statistics.median(item.samples_mib):.1f} | "
        f"{item.samples_mib[-1]:.1f} | {max(item.samples_mib):.1f} | {item.peak_mib:.1f} |"
        for item in results
    ]
    settled = max(item.samples_mib[-1] for item in results)
    worst = max(max(item.samples_mib) for item in results)
    return "\n".join(
        [
            "## Idle memory",
            "",
            f"`patriot run` as a child process with {users:,} registered users (each with a PAPER account "
            "holding five coins and USDT) in its SQLite file and the fake Bot API server on 127.0.0.1. "
            f"After the first getUpdates no update arrives for {idle_seconds:.0f} s while the scheduled jobs "
            "run (the risk scan over every user included); VmRSS is sampled every "
            f"{SAMPLE_SECONDS} s. MiB are 2^20 bytes.",
            "",
            context(command),
            "",
            "| SQLite driver | RSS at first getUpdates MiB | idle RSS median MiB | idle RSS at the end MiB "
            "| idle RSS max MiB | peak (VmHWM) MiB |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Target ≤ {TARGET_MB} MB idle RSS, that is ≤ {TARGET_MIB:.2f} MiB: at the end of the window, "
            "after the scheduled jobs ran, "
            f"{verdict(settled <= TARGET_MIB)}; the highest sample in the window, "
            f"{verdict(worst <= TARGET_MIB)}.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="registered users in the database")
    parser.add_argument(
        "--idle", type=float, default=75.0, help="seconds without updates after polling starts"
    )
    parser.add_argument("--drivers", default=",".join(DRIVERS), help="SQLite drivers to compare, in order")
    add_write_argument(parser)
    arguments = parser.parse_args(argv)

    drivers = [name.strip() for name in arguments.drivers.split(",") if name.strip()]
    results = asyncio.run(measure(arguments.users, arguments.idle, drivers))
    command = command_line("idle_rss.py", argv if argv is not None else sys.argv[1:])
    body = report(results, arguments.users, arguments.idle, command)
    write_section("idle-rss", body, write=not arguments.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
