"""Start-up time of ``patriot run``: from starting the process to its first getUpdates request.

    .venv/bin/python bench/startup_time.py [--runs 5] [--users 10000] [--imports 5]

The fake Bot API server (tests/fakes/telegram_server.py) runs in this process
on 127.0.0.1; the bot is a child process with a SQLite file that already contains
``--users`` registered users. Before the timed runs, one start on the same
file brings the schema to the newest revision, so each timed start does what a
restart does: imports, settings, the schema check, replay prices, getMe, the
command list, the scheduler, then the first long poll. Each start is timed
from just before the fork to the arrival of getUpdates at the server (both
``time.monotonic``), then the bot is stopped with SIGTERM. For comparison the
same run times fresh interpreters that only import aiogram (which builds all
of its types at import), or only import the modules ``patriot run`` loads
before it starts (``bot.runner``, with aiogram's types and methods deferred).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bot_process import ROOT, PatriotProcess, patriot_command, prepare_database, wait_for_polling
from bench.report import add_write_argument, command_line, context, verdict, write_section
from tests.conftest import TEST_TOKEN
from tests.fakes.telegram_server import FakeTelegramServer

TARGET_SECONDS = 2.0
POLLING_TIMEOUT_SECONDS = 60.0
# Module imported alone in a fresh interpreter, and what that includes.
IMPORT_ONLY = {
    "aiogram": " (all of its types built at import, as aiogram does by itself)",
    "bot.runner": " (what `patriot run` imports, aiogram's types and methods deferred by bot.lazy_types)",
}


@dataclass(frozen=True)
class Start:
    seconds: float  # wall time from the fork to the first getUpdates
    cpu_seconds: float  # CPU time of the child by then (read just after getUpdates arrived)


async def start_once(workdir: Path, telegram: FakeTelegramServer, database: Path) -> Start:
    """Start the bot, wait for its first getUpdates, stop it; return the time in between."""
    process = PatriotProcess(workdir, telegram.base_url, database)
    process.start()
    try:
        call = await wait_for_polling(process, telegram, POLLING_TIMEOUT_SECONDS)
        cpu_seconds = process.cpu_seconds()
    finally:
        code = await asyncio.to_thread(process.stop)
    if code != 0:
        raise RuntimeError(f"patriot run exited with {code}:\n{process.stderr()}")
    return Start(call.arrived_at - process.started_at, cpu_seconds)


def time_import(module: str) -> float:
    """Seconds for a fresh interpreter of this venv to import ``module`` and exit."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True)
    return time.monotonic() - started


async def measure(runs: int, users: int) -> tuple[Start, list[Start]]:
    """Return the first start (schema created) and the timed starts, in seconds."""
    workdir = Path(tempfile.mkdtemp(prefix="patriot-bench-"))
    try:
        database = await prepare_database(workdir, users)
        async with FakeTelegramServer(TEST_TOKEN) as telegram:
            first = await start_once(workdir, telegram, database)
            timed = [await start_once(workdir, telegram, database) for _ in range(runs)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return first, timed


def report(
    first: Start, timed: list[Start], imports: dict[str, list[float]], users: int, command: str
) -> str:
    seconds = sorted(start.seconds for start in timed)
    median = statistics.median(seconds)
    cpu_median = statistics.median(start.cpu_seconds for start in timed)
    import_rows = [
        f"| a fresh interpreter that only runs `import {module}`{IMPORT_ONLY[module]}, median of "
        f"{len(times)} | {statistics.median(times):.2f} | |"
        for module, times in imports.items()
    ]
    return "\n".join(
        [
            "## Start-up time",
            "",
            f"`{' '.join(Path(part).name for part in patriot_command())} run` as a child process, "
            f"PAPER prices replayed from the bundled candles, {users:,} registered users in the SQLite file, "
            "the fake Bot API server on 127.0.0.1 in the benchmark's process. Timed from just before the "
            "fork to the arrival of the first getUpdates request, so imports, settings, the schema check, "
            "replay prices, getMe, the command list and the scheduler are all inside. The CPU column is the "
            "bot's user and system time from /proc when that request arrived (10 ms ticks); it varies less "
            "than the wall time when other work shares the machine.",
            "",
            context(command),
            "",
            "| start | seconds | CPU seconds of the bot |",
            "|---|---|---|",
            f"| first start on the file (schema check after the fill) | {first.seconds:.2f} "
            f"| {first.cpu_seconds:.2f} |",
            f"| median of {len(timed)} restarts | {median:.2f} | {cpu_median:.2f} |",
            f"| fastest restart | {seconds[0]:.2f} | |",
            f"| slowest restart | {seconds[-1]:.2f} | |",
            *import_rows,
            "",
            f"Target ≤ {TARGET_SECONDS:.0f} s (median restart): {verdict(median <= TARGET_SECONDS)}.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed restarts after the first start")
    parser.add_argument("--users", type=int, default=10_000, help="registered users in the database")
    parser.add_argument("--imports", type=int, default=5, help="timed import-only interpreters per module")
    add_write_argument(parser)
    arguments = parser.parse_args(argv)

    first, timed = asyncio.run(measure(max(1, arguments.runs), arguments.users))
    imports = {
        module: [time_import(module) for _ in range(max(1, arguments.imports))] for module in IMPORT_ONLY
    }
    command = command_line("startup_time.py", argv if argv is not None else sys.argv[1:])
    body = report(first, timed, imports, arguments.users, command)
    write_section("startup-time", body, write=not arguments.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
