"""The opt-in daily P&L report: due once a day at the user's local time, in the user's language."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from bot.services import Services
from engine.common.clock import ManualClock
from tests.risk.test_risk_scan import hold, new_user, pushes

# The test clock starts at 2026-01-01 00:00 UTC, 03:00 in Moscow (UTC+3 all year).
MOSCOW = "Europe/Moscow"
REPORT_AT = "09:30"  # Moscow time, 06:30 UTC
MINUTES_TO_REPORT = (6 * 60) + 30


def ru_number(found: re.Match[str] | None) -> Decimal:
    assert found is not None
    return Decimal(found.group(1).replace("\u00a0", "").replace(",", "."))


async def moscow_user(services: Services, telegram_id: int) -> None:
    user = await new_user(services, telegram_id, language="ru")
    async with services.uow() as uow:
        await uow.users.update(replace(user, timezone=MOSCOW))
        await uow.commit()
    moved = await services.users.get_by_telegram_id(telegram_id)
    assert moved is not None
    await hold(services, moved, Decimal("5000"), Decimal("0.05"))
    await services.risk.set_report(moved, enabled=True, at=REPORT_AT)


async def test_report_waits_for_the_local_time(services: Services, clock: ManualClock) -> None:
    await moscow_user(services, 4101)

    clock.advance((MINUTES_TO_REPORT - 1) * 60)
    assert await services.daily_reports.send_due() == 0

    clock.advance(60)
    assert await services.daily_reports.send_due() == 1
    assert await services.daily_reports.send_due() == 0
    assert len(await pushes(services, 4101)) == 1


async def test_report_is_in_russian_with_positions(services: Services, clock: ManualClock) -> None:
    await moscow_user(services, 4102)
    clock.advance(MINUTES_TO_REPORT * 60)

    await services.daily_reports.send_due()
    text = (await pushes(services, 4102))[0]

    assert "Ежедневный отчёт" in text
    assert "Позиции:" in text
    equity = ru_number(re.search(r"Капитал: ([\d\u00a0,]+) USDT", text))
    position = ru_number(re.search(r"BTC/USDT: ([\d\u00a0,]+) USDT", text))
    assert equity == Decimal("5000") + position

async def test_next_day_compares_with_the_last_report(services: Services, clock: ManualClock) -> None:
    await moscow_user(services, 4103)
    clock.advance(MINUTES_TO_REPORT * 60)
    await services.daily_reports.send_due()

    clock.advance(24 * 3600)
    assert await services.daily_reports.send_due() == 1

    second = (await pushes(services, 4103))[1]
    assert "Изменение с прошлого отчёта" in second
    assert "09:30" in second


async def test_user_without_a_report_gets_none(services: Services, clock: ManualClock) -> None:
    user = await new_user(services, 4104)
    await hold(services, user, Decimal("10000"))
    clock.advance(20 * 3600)

    assert await services.daily_reports.send_due() == 0
    assert await pushes(services, 4104) == []
