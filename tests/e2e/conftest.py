"""Fixtures that run the real ``python -m bot run`` process against the fake Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_MASTER_KEY
from tests.fakes.telegram_server import FakeTelegramServer

REPOSITORY = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
TOKEN_SECRET = TOKEN.partition(":")[2]
ADMIN_ID = 9001
# Variables the child keeps from the parent environment. Every other
# variable, including any setting the developer exported, is left out, so
# only the values set in BotProcess configure the bot.
INHERITED_VARIABLES = ("PATH", "HOME", "TMPDIR", "SYSTEMROOT", "LANG", "LC_ALL")


class BotProcess:
    """The bot running as a child process, with stdout and stderr captured to files."""

    def __init__(self, workdir: Path, api_base: str, settings: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.database = workdir / "e2e.db"
        self.stdout_path = workdir / "bot.stdout.log"
        self.stderr_path = workdir / "bot.stderr.log"
        environment = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
        environment.update(
            {
                "BOT_TOKEN": TOKEN,
                "MASTER_KEY": TEST_MASTER_KEY,
                "TELEGRAM_API_BASE": api_base,
                "ADMIN_IDS": str(ADMIN_ID),
                "DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
                "POLLING_TIMEOUT_SECONDS": "1",
                "LOG_LEVEL": "INFO",
                "PYTHONIOENCODING": "utf-8",
                # The child runs the code of this checkout even where another copy is installed.
                "PYTHONPATH": str(REPOSITORY),
            }
        )
        environment.update(settings or {})
        # The working directory is the test's own, so pydantic-settings finds no stray .env.
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def terminate(self) -> None:
        self.popen.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        """Wait for the exit and return the exit code; raise subprocess.TimeoutExpired on timeout."""
        return self.popen.wait(timeout)

    def kill(self) -> None:
        if self.running:
            self.popen.kill()
            self.popen.wait(10)

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(TOKEN) as server:
        yield server


@pytest.fixture
def bot_process(telegram: FakeTelegramServer, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path, telegram.base_url)
    try:
        yield process
    finally:
        process.kill()
        # pytest shows output printed in teardown only when the test failed.
        print(f"--- bot exit code: {process.popen.returncode}")
        print("--- bot stdout ---\n" + process.stdout())
        print("--- bot stderr ---\n" + process.stderr())
        print("--- Bot API calls ---\n" + telegram.describe_calls())
