"""The real ``patriot run`` process is killed while it delivers the outbox, then started again.

Nothing may be lost, and only the messages that were in flight at the kill
(SENDING in the table) may arrive twice.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from engine.common.clock import SystemClock
from engine.notifications.outbox import Outbox
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWorkFactory
from tests.e2e.conftest import BotProcess
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.e2e

CHATS = 100
PER_CHAT = 3
FIRST_CHAT = 810_000
WAIT = 60.0
SETTINGS = {"OUTBOX_RATE_PER_SECOND": "60", "OUTBOX_MAX_IN_FLIGHT": "25"}


async def queue_pushes(database_path: Path) -> list[tuple[int, str]]:
    database = Database(f"sqlite+aiosqlite:///{database_path}")
    await upgrade_to_head(database)
    outbox = Outbox(SqlUnitOfWorkFactory(database), SystemClock())
    pushes = [
        (FIRST_CHAT + chat, f"push {number} to {FIRST_CHAT + chat}")
        for number in range(PER_CHAT)
        for chat in range(CHATS)
    ]
    await outbox.enqueue([outbox.message(chat, text) for chat, text in pushes])
    await database.dispose()
    return pushes


def delivered(telegram: FakeTelegramServer) -> list[tuple[int, str]]:
    return [(call.chat_id or 0, call.text or "") for call in telegram.calls("sendMessage") if call.ok]


async def wait_until(process: BotProcess, condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if not process.running:
            pytest.fail(f"the bot exited with code {process.popen.returncode}:\n{process.stderr()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; the bot's log:\n{process.stderr()[-3000:]}")
        await asyncio.sleep(0.05)


def in_flight_texts(database_path: Path) -> set[str]:
    with sqlite3.connect(database_path) as connection:
        rows = connection.execute("SELECT text FROM outbox WHERE status = 'SENDING'").fetchall()
    return {text for (text,) in rows}


async def test_kill_mid_delivery_loses_nothing(telegram: FakeTelegramServer, tmp_path: Path) -> None:
    pushes = await queue_pushes(tmp_path / "e2e.db")

    first = BotProcess(tmp_path, telegram.base_url, SETTINGS)
    try:
        await wait_until(first, lambda: len(delivered(telegram)) >= len(pushes) // 3, WAIT)
        first.kill()  # SIGKILL: no shutdown code runs
    finally:
        first.kill()
    sent_before_kill = len(delivered(telegram))
    assert sent_before_kill < len(pushes), "the kill came too late to test anything"
    in_flight = in_flight_texts(tmp_path / "e2e.db")
    shutil.copy(first.stderr_path, tmp_path / "first-run.stderr.log")

    second = BotProcess(tmp_path, telegram.base_url, SETTINGS)
    try:
        expected = set(pushes)
        await wait_until(second, lambda: expected <= set(delivered(telegram)), WAIT)
        await asyncio.sleep(0.5)  # a duplicate, if any, would arrive now
    finally:
        second.kill()

    counts = Counter(delivered(telegram))
    assert set(counts) == set(pushes), "a message was lost or an unknown one was sent"
    twice = {text for (_chat, text), count in counts.items() if count > 1}
    assert all(count <= 2 for count in counts.values())
    assert twice <= in_flight, f"sent twice but not in flight at the kill: {twice - in_flight}"
    assert len(in_flight) <= int(SETTINGS["OUTBOX_MAX_IN_FLIGHT"])
    assert "in flight at the last stop" in second.stderr() or not in_flight

    for chat in {chat for chat, _text in pushes}:
        order = [text for (to, text) in delivered(telegram) if to == chat]
        firsts = list(dict.fromkeys(order))
        assert firsts == [text for to, text in pushes if to == chat], f"chat {chat} order: {order}"
        arrivals = telegram.arrival_times("sendMessage", chat_id=chat)
        gaps = [later - earlier for earlier, later in pairwise(arrivals)]
        # Across the restart the gap is the start-up time, seconds long.
        assert all(gap >= 1.0 for gap in gaps), f"chat {chat} got two messages {min(gaps):.3f} s apart"
