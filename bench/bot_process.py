"""``patriot run`` as a child process against the fake Bot API server, for the start-up and memory benchmarks.

The child gets only the variables set here (and PATH, HOME, LANG), so no
developer setting or stray ``.env`` changes what is measured. It talks to the
fake server on 127.0.0.1 and to a SQLite file in its own working directory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.risk_scan import fill
from bot.app import build_services, close_services, start_services
from tests.conftest import TEST_MASTER_KEY, TEST_TOKEN, make_settings
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer

ROOT = Path(__file__).resolve().parent.parent
INHERITED_VARIABLES = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL")
STOP_TIMEOUT_SECONDS = 20.0


def patriot_command() -> list[str]:
    """Return the ``patriot`` console script of this interpreter's environment, or ``python -m bot``."""
    script = Path(sys.executable).parent / "patriot"
    if script.exists():
        return [str(script)]
    found = shutil.which("patriot")
    return [found] if found else [sys.executable, "-m", "bot"]


async def prepare_database(workdir: Path, users: int) -> Path:
    """Create ``workdir``/test.db at the newest schema revision with ``users`` users; return its path."""
    settings = make_settings(workdir)
    services = build_services(settings)
    await start_services(services)
    try:
        await fill(services, users)
    finally:
        await close_services(services)
    return workdir / "test.db"


class PatriotProcess:
    """One ``patriot run`` child with its stdout and stderr in files of ``workdir``."""

    def __init__(self, workdir: Path, api_base: str, database: Path, settings: dict[str, str] | None = None):
        self.workdir = workdir
        self._environment = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
        self._environment.update(
            {
                "BOT_TOKEN": TEST_TOKEN,
                "MASTER_KEY": TEST_MASTER_KEY,
                "TELEGRAM_API_BASE": api_base,
                "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
                "POLLING_TIMEOUT_SECONDS": "1",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
                **(settings or {}),
            }
        )
        self.started_at = 0.0
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the child; ``started_at`` is ``time.monotonic()`` just before the fork."""
        with (
            (self.workdir / "bot.stdout.log").open("wb") as stdout,
            (self.workdir / "bot.stderr.log").open("wb") as stderr,
        ):
            self.started_at = time.monotonic()
            self.popen = subprocess.Popen(
                [*patriot_command(), "run"],
                cwd=self.workdir,
                env=self._environment,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )

    def memory_kib(self) -> tuple[int, int]:
        """Current resident set size and its peak so far (VmRSS, VmHWM from /proc), in KiB."""
        assert self.popen is not None
        values = {}
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(value.split()[0])
        return values["VmRSS"], values["VmHWM"]

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the child has used so far, from /proc/<pid>/stat."""
        assert self.popen is not None
        stat = Path(f"/proc/{self.popen.pid}/stat").read_text()
        # Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        """Send SIGTERM, wait for the exit and return the exit code (the child is killed after a timeout)."""
        assert self.popen is not None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                return self.popen.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait(STOP_TIMEOUT_SECONDS)

    def stderr(self) -> str:
        return (self.workdir / "bot.stderr.log").read_text(encoding="utf-8", errors="replace")


async def wait_for_polling(process: PatriotProcess, telegram: FakeTelegramServer, timeout: float) -> ApiCall:
    """Wait for the child's first getUpdates request; raise RuntimeError with its stderr if it exits first."""
    since = telegram.mark()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = telegram.calls("getUpdates", since=since)
        if calls:
            return calls[0]
        assert process.popen is not None
        if process.popen.poll() is not None:
            raise RuntimeError(f"patriot run exited with {process.popen.returncode}:\n{process.stderr()}")
        await asyncio.sleep(0.005)
    raise RuntimeError(f"no getUpdates within {timeout} s:\n{process.stderr()}")
