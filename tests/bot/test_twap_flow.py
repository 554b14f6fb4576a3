"""Smart orders through the real Dispatcher: the price-impact warning, the TWAP split, progress messages.

PAPER_FILL_VOLUME_SHARE is 0.00001 here, so each level of PAPER's book and
each recorded candle gives one order at most 0.00422 BTC (422.57905 BTC of
volume in the first candle): a 0.02 BTC market buy walks five levels.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from aiogram.methods import SendMessage

from bot.app import build_services, close_services, start_services
from engine.common.clock import ManualClock
from tests.conftest import make_settings
from tests.harness import BotHarness, button_data, buttons, plain, register, texts

USER = 71


@pytest.fixture
async def thin_harness(
    tmp_path: Path, migrated_database: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    shutil.copy(migrated_database, tmp_path / "test.db")
    services = build_services(
        make_settings(tmp_path, matching={"fill_volume_share": D("0.00001")}), clock=clock
    )
    services.i18n.set_current(services.i18n)
    await start_services(services)
    harness = BotHarness(services)
    try:
        yield harness
    finally:
        await harness.close()
        await close_services(services)


async def pushed_to(harness: BotHarness, start: int, chat_id: int) -> list[str]:
    """Deliver what the outbox holds, then return the texts sent to ``chat_id`` since ``start``."""
    await harness.delivery.drain()
    return [
        plain(request.text)
        for request in harness.session.requests[start:]
        if isinstance(request, SendMessage) and request.chat_id == chat_id
    ]


async def set_max_slippage(harness: BotHarness, percent: str) -> None:
    menu = await harness.send(USER, "/settings")
    await harness.press(USER, button_data(menu, "st:slippage"))
    await harness.send(USER, percent)


async def test_twap_offer_runs_to_the_end(thin_harness: BotHarness, clock: ManualClock) -> None:
    harness = thin_harness
    await register(harness, USER)
    await set_max_slippage(harness, "0.05")

    card = await harness.send(USER, "/buy BTCUSDT 0.02")
    card_text = plain(texts(card)[0])
    assert "is above your maximum slippage 0.05 %" in card_text
    draft = button_data(card, "tw:").split(":")[1]
    slices = await harness.press(USER, button_data(card, f"tw:{draft}:0:0"))
    assert "into how many slices?" in plain(texts(slices)[-1])
    intervals = await harness.press(USER, button_data(slices, f"tw:{draft}:5:0"))
    assert f"tw:{draft}:5:30" in buttons(intervals).values()
    plan = await harness.press(USER, f"tw:{draft}:5:30")
    assert "5 market orders of 0.004 BTC each, one every 30 s" in plain(texts(plan)[-1])

    started = await harness.press(USER, button_data(plan, "ts:"))
    assert "1 of 5 slices sent, filled 0.004 BTC of 0.02" in plain(texts(started)[-1])

    start = len(harness.session.requests)
    for _ in range(4):
        clock.advance(30)
        await harness.services.twaps.run_due()
    messages = await pushed_to(harness, start, USER)
    assert "2 of 5 slices sent" in messages[0]
    assert "TWAP finished." in messages[-1]
    assert "5 of 5 slices sent, filled 0.02 BTC of 0.02" in messages[-1]


async def test_running_twap_is_listed_and_can_be_stopped(
    thin_harness: BotHarness, clock: ManualClock
) -> None:
    harness = thin_harness
    await register(harness, USER)
    await set_max_slippage(harness, "0.05")
    card = await harness.send(USER, "/buy BTCUSDT 0.02")
    draft = button_data(card, "tw:").split(":")[1]
    await harness.press(USER, f"ts:{draft}:4:60")

    listed = await harness.send(USER, "/twap")
    assert "1 of 4 slices sent" in plain(texts(listed)[-1])
    stopped = await harness.press(USER, button_data(listed, "tc:"))
    assert "TWAP stopped" in plain(texts(stopped)[-1])

    clock.advance(600)
    assert await harness.services.twaps.run_due() == 0
    assert "No TWAP is running" in plain(texts(await harness.send(USER, "/twap"))[-1])


async def test_small_market_order_shows_no_twap_offer(thin_harness: BotHarness) -> None:
    harness = thin_harness
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    assert "Expected price impact: 0.00 %" in plain(texts(card)[0])
    assert not any(data.startswith("tw:") for data in buttons(card).values())


async def test_partial_fill_is_pushed_with_the_filled_part(
    thin_harness: BotHarness, clock: ManualClock
) -> None:
    harness = thin_harness
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.01 43400")
    await harness.press(USER, button_data(card, "od:ok:"))
    start = len(harness.session.requests)

    clock.advance(300)
    await harness.services.order_sync.match_paper()

    [message] = await pushed_to(harness, start, USER)
    assert "partially filled: 0.00422 BTC of 0.01 at an average 43,400 USDT" in message


async def test_twap_command_plans_then_starts(thin_harness: BotHarness) -> None:
    harness = thin_harness
    await register(harness, USER)

    plan = await harness.send(USER, "/twap BTCUSDT buy 0.01 4 1m")
    assert "4 market orders of 0.0025 BTC each, one every 1 min" in plain(texts(plan)[-1])
    started = await harness.press(USER, button_data(plan, "ts:"))

    assert "1 of 4 slices sent, filled 0.0025 BTC of 0.01" in plain(texts(started)[-1])


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ("/twap BTCUSDT buy 0.01 1 60", "TWAP_SLICES"),
        ("/twap BTCUSDT buy 0.01 many 60", "TWAP_SLICES_INVALID"),
        ("/twap BTCUSDT buy 0.01 4 soon", "TWAP_INTERVAL_INVALID"),
        ("/twap BTCUSDT buy 0.01 4 5", "TWAP_INTERVAL"),
        ("/twap BTCUSDT buy 0.001 20 60", "TWAP_SLICE_TOO_SMALL"),
    ],
)
async def test_bad_twap_command_starts_nothing(thin_harness: BotHarness, command: str, code: str) -> None:
    harness = thin_harness
    await register(harness, USER)

    replies = texts(await harness.send(USER, command))

    assert code in replies[-1]
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    assert await harness.services.twaps.active(user) == []
