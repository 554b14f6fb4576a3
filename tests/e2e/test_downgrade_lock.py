"""``patriot db downgrade`` refuses while the bot runs on the database file, and works once it stops."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.in_use import InUseLock
from tests.e2e.conftest import REPOSITORY, BotProcess
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.e2e

WAIT = 30.0


def downgrade(process: BotProcess, revision: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot db downgrade`` as a second process on the bot's database file."""
    environment = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "TMPDIR")}
    environment.update(DATABASE_URL=f"sqlite+aiosqlite:///{process.database}", PYTHONPATH=str(REPOSITORY))
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", "downgrade", revision],
        cwd=process.workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def stored_revision(process: BotProcess) -> str:
    with sqlite3.connect(process.database) as connection:
        return str(connection.execute("SELECT version_num FROM alembic_version").fetchone()[0])


async def test_downgrade_refused_while_bot_runs(
    bot_process: BotProcess, telegram: FakeTelegramServer
) -> None:
    await telegram.wait_for_call("getUpdates", timeout=WAIT)
    head = stored_revision(bot_process)

    rejected = downgrade(bot_process, "0008")

    assert rejected.returncode == 2
    assert "stop the bot first" in rejected.stderr
    assert stored_revision(bot_process) == head

    bot_process.terminate()
    assert bot_process.wait(WAIT) == 0
    done = downgrade(bot_process, "0008")

    assert done.returncode == 0, done.stderr
    assert stored_revision(bot_process) == "0008"


async def test_bot_refused_during_downgrade(telegram: FakeTelegramServer, tmp_path: Path) -> None:
    migration = InUseLock(str(tmp_path / "e2e.db"))
    migration.take_alone()
    process = BotProcess(tmp_path, telegram.base_url)
    try:
        exit_code = process.wait(WAIT)
    finally:
        process.kill()
        migration.release()

    assert exit_code == 2
    assert "Refusing to start" in process.stderr()
    assert "downgrade" in process.stderr()
