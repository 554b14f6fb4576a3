"""No read transaction is open during a Bot API request, nor after an update, whichever way it ended."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.methods import SendMessage, TelegramMethod

from tests.bot.test_access import suspend
from tests.harness import BotHarness, plain, register

USER = 77


def _watch(harness: BotHarness) -> list[int]:
    """Record how many read connections are out of the pool at each Bot API request."""
    seen: list[int] = []
    pool = harness.services.database.read_engine.pool

    def record(_method: TelegramMethod[Any], _result: Any) -> None:
        seen.append(pool.checkedout())

    harness.session._on_request = record
    return seen


@pytest.mark.parametrize("command", ["/portfolio", "/orders", "/alerts", "/help", "/orders nonsense=1"])
async def test_read_commands_send_with_no_transaction_open(harness: BotHarness, command: str) -> None:
    await register(harness, USER)
    seen = _watch(harness)

    requests = await harness.send(USER, command)

    assert [r for r in requests if isinstance(r, SendMessage)]
    assert seen and set(seen) == {0}
    assert harness.services.database.read_engine.pool.checkedout() == 0


async def test_refusal_is_sent_with_no_transaction_open(harness: BotHarness) -> None:
    await register(harness, USER)
    await suspend(harness, USER, "chargeback")
    seen = _watch(harness)

    requests = await harness.send(USER, "/portfolio")

    assert "suspended" in plain(requests[0].text)  # type: ignore[attr-defined]
    assert seen == [0]  # the user load's read ended before the refusal went out
    assert harness.services.database.read_engine.pool.checkedout() == 0
