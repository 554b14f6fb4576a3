"""Per-user rate limits on orders: the minimum gap and the per-minute count."""

from __future__ import annotations

import shutil
from pathlib import Path

from aiogram.methods import AnswerCallbackQuery

from bot.app import build_services, close_services, start_services
from bot.middlewares.throttle import SlidingWindow
from engine.common.clock import ManualClock
from tests.conftest import make_settings
from tests.harness import BotHarness, button_data, plain, register, texts


def test_second_order_inside_the_gap_waits_for_the_rest_of_it() -> None:
    orders = SlidingWindow(limit=20, gap=0.1)
    orders.record(7, now=100.0)
    assert 0.04 < orders.wait_time(7, now=100.05) <= 0.05
    assert orders.wait_time(7, now=100.1) == 0.0
    assert orders.wait_time(8, now=100.05) == 0.0, "another user is not slowed down"


def test_twenty_first_order_in_a_minute_waits_for_the_oldest_to_expire() -> None:
    orders = SlidingWindow(limit=20, gap=0.1)
    for index in range(20):
        orders.record(7, now=float(index))
    assert orders.wait_time(7, now=20.0) == 40.0
    assert orders.wait_time(7, now=60.0) == 0.0


def test_idle_users_are_forgotten() -> None:
    orders = SlidingWindow(limit=5)
    orders.record(7, now=0.0)
    orders.forget_idle(now=61.0)
    assert orders.wait_time(7, now=61.0) == 0.0


async def test_confirm_inside_the_order_gap_is_refused_with_the_wait(
    tmp_path: Path, migrated_database: Path, clock: ManualClock
) -> None:
    shutil.copy(migrated_database, tmp_path / "test.db")
    settings = make_settings(tmp_path, rate_limit={"order_gap_ms": 60_000, "orders_per_minute": 20})
    services = build_services(settings, clock=clock)
    services.i18n.set_current(services.i18n)
    await start_services(services)
    harness = BotHarness(services)
    try:
        await register(harness, 71)
        first = await harness.send(71, "/buy BTCUSDT 0.001")
        second = await harness.send(71, "/buy BTCUSDT 0.001")
        assert "Bought" in plain(texts(await harness.press(71, button_data(first, "od:ok:")))[-1])

        refused = await harness.press(71, button_data(second, "od:ok:"))
        notices = [r.text or "" for r in refused if isinstance(r, AnswerCallbackQuery)]
        assert any("Too many" in notice for notice in notices), notices
        assert not any("Bought" in plain(text) for text in texts(refused))
    finally:
        await harness.close()
        await close_services(services)
