"""``patriot chat`` as a real process: lines typed on stdin reach the Dispatcher, numbers press buttons."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import INHERITED_VARIABLES, REPOSITORY

pytestmark = pytest.mark.e2e

# Registration (/start, Medium, Skip the email), a market buy pressed through
# Confirm, the portfolio, a number that matches no button, and the exit word.
SESSION = ("/start", "2", "1", "/buy BTCUSDT 0.001", "1", "/portfolio", "7", ":q")


def run_chat(database: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    environment = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    environment.update({"PYTHONPATH": str(REPOSITORY), "PYTHONIOENCODING": "utf-8"})
    command = [sys.executable, "-m", "bot", "chat", "--database-url", f"sqlite+aiosqlite:///{database}"]
    return subprocess.run(
        command,
        input="\n".join(SESSION) + "\n",
        capture_output=True,
        text=True,
        cwd=workdir,
        env=environment,
        timeout=120,
        check=False,
    )


def test_chat_registers_buys_and_shows_portfolio(tmp_path: Path) -> None:
    database = tmp_path / "chat.db"

    result = run_chat(database, tmp_path)
    output = result.stdout

    assert result.returncode == 0, result.stderr
    assert "[1] Low  [2] Medium (default)  [3] High  [4] Ultra high" in output
    assert "Risk profile: Medium" in output
    assert "[1] Skip" in output
    assert "You are registered, trader." in output
    assert re.search(r"\[1\] ✅ Confirm\s+\[2\] ✖ Cancel", output)
    assert re.search(r"Bought 0\.001 BTC at [\d,.]+ USDT", output)
    assert re.search(r"0\.001 BTC × [\d,.]+ USDT", output)
    assert output.count("I did not understand that. /help lists what I can do.") == 1


def test_chat_stores_what_the_session_did(tmp_path: Path) -> None:
    database = tmp_path / "chat.db"

    result = run_chat(database, tmp_path)

    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        users = connection.execute("SELECT username, risk_profile FROM users").fetchall()
        orders = connection.execute("SELECT status, filled_quantity FROM orders").fetchall()
    assert users == [("trader", "MEDIUM")]
    assert orders == [("FILLED", "0.001")]
