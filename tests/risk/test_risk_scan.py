"""The scheduled risk scan on real storage: each alert type, severity bands, repeats, worsening, clearing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

import engine.risk.scan as scan_module
from bot.scheduler import build_scheduler
from bot.services import Services
from engine.accounts.models import Account, Exchange
from engine.common.ids import new_id
from engine.errors import TemporaryExchangeError
from engine.exchanges.models import BalanceEntry
from engine.exchanges.paper.ledger import PaperBalance
from engine.risk.alerts import severity_for
from engine.risk.exposure import ExposureReader
from engine.risk.limits import LimitName
from engine.risk.models import AlertKind, AlertType, EquityMarks, Severity
from engine.risk.scan import RiskScanner
from engine.users.models import RiskProfile, User, UserStatus
from engine.users.service import Registration
from storage.models import OutboxRow
from tests.fakes.fake_gateway import FakeGateway, FakeGatewayProvider

BTC_MARK = Decimal("43451.14")  # BTC/USDT at the replay's start, where the test clock stands


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        ("0.20", None),
        ("0.2001", Severity.LOW),
        ("0.22", Severity.LOW),
        ("0.2201", Severity.MEDIUM),
        ("0.25", Severity.MEDIUM),
        ("0.2501", Severity.HIGH),
        ("0.30", Severity.HIGH),
        ("0.3001", Severity.CRITICAL),
    ],
)
def test_severity_bands_for_a_twenty_percent_limit(value: str, severity: Severity | None) -> None:
    assert severity_for(Decimal(value), Decimal("0.20")) is severity


async def new_user(
    services: Services, telegram_id: int, *, language: str = "en", profile: RiskProfile = RiskProfile.MEDIUM
) -> User:
    user, _created = await services.users.register(
        Registration(telegram_id, f"user{telegram_id}", "Trader", language, profile)
    )
    return user


async def hold(services: Services, user: User, usdt: Decimal, btc: Decimal = Decimal(0)) -> None:
    async with services.uow() as uow:
        account = await uow.accounts.get_default(user.id)
        assert account is not None
        await uow.paper.save_balance(account.id, PaperBalance("USDT", usdt))
        await uow.paper.save_balance(account.id, PaperBalance("BTC", btc))
        await uow.commit()


async def set_marks(services: Services, user: User, *, day_start: Decimal, peak: Decimal) -> None:
    now = services.clock.now()
    async with services.uow() as uow:
        existing = await uow.risk.marks(user.id)
        marks = EquityMarks(user.id, now.date(), day_start, peak, now)
        if existing is None:
            await uow.risk.insert_marks([marks])
        else:
            await uow.risk.update_marks([marks])
        await uow.commit()


async def pushes(services: Services, telegram_id: int) -> list[str]:
    async with services.database.session(read_only=True) as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.chat_id == telegram_id).order_by(OutboxRow.id)
        )
        return [row.text for row in rows]


async def open_types(services: Services, user: User) -> dict[AlertType, Severity]:
    return {state.type: state.severity for state in await services.risk.open_alerts(user)}


async def test_position_size_raised_not_repeated_worsened_and_cleared(services: Services) -> None:
    user = await new_user(services, 3001)
    # 0.069 BTC is 2998.13 USDT: 29.98 % of 10000 equity against the 20 % limit, 49.9 % past: HIGH.
    btc = Decimal("0.069")
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)

    await services.risk_scanner.scan()
    assert (await open_types(services, user))[AlertType.POSITION_SIZE] is Severity.HIGH
    first = await pushes(services, 3001)
    assert len(first) == 1
    assert "Risk alert: position size" in first[0] and "BTC/USDT" in first[0]
    assert "20.00 %" in first[0]

    await services.risk_scanner.scan()
    assert await pushes(services, 3001) == first, "an unchanged condition must not be sent again"

    btc = Decimal("0.08")  # 34.8 %: 74 % past the limit, CRITICAL
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)
    await services.risk_scanner.scan()
    worse = (await pushes(services, 3001))[1:]
    assert len(worse) == 1
    assert "worsened" in worse[0] and "critical" in worse[0] and "(was 🔴 high)" in worse[0]

    btc = Decimal("0.075")  # eases back to HIGH: nothing is said
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)
    await services.risk_scanner.scan()
    assert len(await pushes(services, 3001)) == 2

    await hold(services, user, Decimal("10000"))
    await services.risk_scanner.scan()
    cleared = (await pushes(services, 3001))[2:]
    assert len(cleared) == 1 and "Back within limits: position size" in cleared[0]
    assert await open_types(services, user) == {}

    kinds = [alert.kind for alert in reversed(await services.risk.recent_alerts(user))]
    assert kinds == [AlertKind.RAISED, AlertKind.WORSENED, AlertKind.CLEARED]


async def test_drawdown_and_daily_loss_alerts(services: Services) -> None:
    drawdown_user = await new_user(services, 3002)
    await services.risk_scanner.scan()  # first marks: 10000 at the start of the day
    await set_marks(services, drawdown_user, day_start=Decimal("10000"), peak=Decimal("13000"))
    loss_user = await new_user(services, 3003)
    await set_marks(services, loss_user, day_start=Decimal("10600"), peak=Decimal("10600"))

    await services.risk_scanner.scan()
    # 3000 / 13000 = 23.1 % against 20 %: 15 % past, MEDIUM.
    assert await open_types(services, drawdown_user) == {AlertType.DRAWDOWN_LIMIT: Severity.MEDIUM}
    # 600 / 10600 = 5.66 % against 5 %: 13 % past, MEDIUM; the drawdown is the same 5.66 %, within 20 %.
    assert await open_types(services, loss_user) == {AlertType.DAILY_LOSS: Severity.MEDIUM}
    assert "below its peak" in (await pushes(services, 3002))[0]
    assert "lost 5.66 % of your equity today" in (await pushes(services, 3003))[0]


async def test_leverage_and_var_alerts(services: Services) -> None:
    user = await new_user(services, 3004, profile=RiskProfile.LOW)
    # Borrowed USDT (a negative balance) buys 12000 USDT of BTC on 10000 of equity: leverage 1.2 against 1.
    btc = Decimal("0.27617")
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)

    await services.risk_scanner.scan()
    found = await open_types(services, user)
    assert found[AlertType.LEVERAGE_LIMIT] is Severity.MEDIUM  # 20 % past
    assert (
        found[AlertType.VAR_EXCEEDED] is Severity.CRITICAL
    )  # 120 % of equity in BTC against a 2 % VaR limit
    assert found[AlertType.POSITION_SIZE] is Severity.CRITICAL
    texts = await pushes(services, 3004)
    assert len(texts) == 3
    critical_first = [row for row in texts if "critical" in row]
    assert len(critical_first) == 2


async def test_severities_the_user_left_out_are_stored_not_sent(services: Services) -> None:
    user = await new_user(services, 3005)
    await services.risk.toggle_severity(user, Severity.HIGH)  # HIGH switched off
    btc = Decimal("0.069")  # HIGH position-size alert
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)
    await services.risk_scanner.scan()
    assert await pushes(services, 3005) == []
    alerts = await services.risk.recent_alerts(user)
    assert [(alert.type, alert.delivered) for alert in alerts] == [(AlertType.POSITION_SIZE, False)]

    await hold(services, user, Decimal("10000"))
    await services.risk_scanner.scan()
    assert await pushes(services, 3005) == [], "no 'back within limits' for an alert that was never sent"


async def test_quiet_hours_hold_alerts_but_not_critical_ones(services: Services) -> None:
    user = await new_user(services, 3006)  # the clock is 00:00 UTC, inside 22:00-07:00
    await services.risk.set_quiet_hours(user, "22:00-07:00")
    btc = Decimal("0.069")
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)
    await services.risk_scanner.scan()
    async with services.database.session(read_only=True) as session:
        row = await session.scalar(select(OutboxRow).where(OutboxRow.chat_id == 3006))
    assert row is not None
    assert row.not_before == datetime(2026, 1, 1, 7, tzinfo=UTC)

    btc = Decimal("0.09")  # CRITICAL: sent at once, at the urgent priority
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)
    await services.risk_scanner.scan()
    async with services.database.session(read_only=True) as session:
        rows = list(
            await session.scalars(select(OutboxRow).where(OutboxRow.chat_id == 3006).order_by(OutboxRow.id))
        )
    assert rows[1].not_before == services.clock.now()
    assert rows[1].priority > rows[0].priority


async def test_suspended_users_are_not_scanned(services: Services) -> None:
    user = await new_user(services, 3007)
    btc = Decimal("0.08")
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)
    await services.admin.set_status(1, 3007, user.status.SUSPENDED, "test")
    summary = await services.risk_scanner.scan()
    assert summary.users == 0
    assert await pushes(services, 3007) == []


async def test_scan_in_batches_covers_every_active_user(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "BATCH_USERS", 2)
    batches: list[tuple[uuid.UUID, uuid.UUID]] = []
    scan_batch = RiskScanner._scan_batch

    async def recording(self: RiskScanner, between: tuple[uuid.UUID, uuid.UUID], *args: Any) -> None:
        batches.append(between)
        await scan_batch(self, between, *args)

    monkeypatch.setattr(RiskScanner, "_scan_batch", recording)
    users = [await new_user(services, telegram_id) for telegram_id in range(3101, 3106)]
    btc = Decimal("0.069")  # a HIGH position-size alert for each of them
    for user in users:
        await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)
    # The second-lowest id: it lies inside the first batch's id range once suspended.
    by_id = sorted(users, key=lambda user: user.id)
    suspended = by_id[1]
    await services.admin.set_status(1, suspended.telegram_id, UserStatus.SUSPENDED, "test")
    active = [user.id for user in by_id if user is not suspended]

    summary = await services.risk_scanner.scan()

    assert batches == [(active[0], active[1]), (active[2], active[3])]
    assert suspended.id > active[0]
    assert suspended.id < active[1]
    assert summary.users == 4
    assert summary.messages == 4
    for user in users:
        expected = {} if user is suspended else {AlertType.POSITION_SIZE: Severity.HIGH}
        assert await open_types(services, user) == expected
        assert len(await pushes(services, user.telegram_id)) == len(expected)
        async with services.uow(read_only=True) as uow:
            marks = await uow.risk.marks(user.id)
        assert (marks is None) == (user is suspended)


async def test_scheduled_scan_speaks_the_users_language(services: Services) -> None:
    user = await new_user(services, 3008, language="ru")
    btc = Decimal("0.069")
    await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)

    scheduler = build_scheduler(services)
    scheduler.start()
    try:
        scheduler.modify_job("risk_scan", next_run_time=datetime.now(UTC) + timedelta(milliseconds=50))
        for _ in range(100):
            if await pushes(services, 3008):
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    texts = await pushes(services, 3008)
    assert len(texts) == 1
    assert "Оповещение о риске: размер позиции" in texts[0]
    assert "20,00 %" in texts[0]


async def test_personal_limit_is_checked_instead_of_the_profiles(services: Services) -> None:
    tightened, kept = await new_user(services, 3009), await new_user(services, 3010)
    await services.risk.tighten(tightened, LimitName.MAX_POSITION, Decimal("0.15"))
    btc = Decimal("0.039")  # 16.9 % of 10000 equity: 13 % past 15 % (MEDIUM), within the profile's 20 %
    for user in (tightened, kept):
        await hold(services, user, Decimal("10000") - btc * BTC_MARK, btc)

    await services.risk_scanner.scan()

    assert await open_types(services, tightened) == {AlertType.POSITION_SIZE: Severity.MEDIUM}
    assert await open_types(services, kept) == {}
    assert "15.00 %" in (await pushes(services, 3009))[0]


async def live_account(services: Services, user: User) -> None:
    now = services.clock.now()
    account = Account(new_id(), user.id, Exchange.BYBIT, "Bybit", True, True, False, now, now)
    async with services.uow() as uow:
        await uow.accounts.add(account)
        await uow.commit()


def scanner_with(services: Services, gateway: FakeGateway) -> RiskScanner:
    """The scan of ``services`` with live accounts read from ``gateway``."""
    scanner = services.risk_scanner
    exposures = ExposureReader(services.paper, FakeGatewayProvider(gateway))
    return RiskScanner(
        services.uow, exposures, scanner._returns, services.outbox, scanner._renderer, services.clock
    )


async def test_live_account_adds_to_paper_equity_and_positions(services: Services) -> None:
    user = await new_user(services, 3011)
    await live_account(services, user)
    gateway = FakeGateway(last=Decimal("40000"))
    # PAPER: 10000 USDT. Bybit: 0.1 BTC at 40000 = 4000 USDT, 28.6 % of 14000 equity (HIGH past 20 %).
    gateway.balances = {"BTC": BalanceEntry("BTC", Decimal("0.1"), Decimal(0))}

    summary = await scanner_with(services, gateway).scan()

    assert summary.unreadable == 0
    assert await open_types(services, user) == {AlertType.POSITION_SIZE: Severity.HIGH}
    async with services.uow(read_only=True) as uow:
        marks = await uow.risk.marks(user.id)
    assert marks is not None
    assert marks.peak_equity == Decimal("14000.0")


async def test_unreadable_live_account_keeps_the_users_state(services: Services) -> None:
    user = await new_user(services, 3012)
    await live_account(services, user)
    gateway = FakeGateway()

    async def unavailable() -> dict[str, BalanceEntry]:
        raise TemporaryExchangeError("bybit is down", reason="NETWORK_ERROR")

    gateway.fetch_balance = unavailable  # type: ignore[method-assign]

    summary = await scanner_with(services, gateway).scan()

    assert summary.users == 1
    assert summary.unreadable == 1
    async with services.uow(read_only=True) as uow:
        assert await uow.risk.marks(user.id) is None


async def test_negative_equity_does_not_block_the_batch(services: Services) -> None:
    broke, other = await new_user(services, 3013), await new_user(services, 3014)
    btc = Decimal("0.069")
    await hold(services, broke, Decimal("-5000"), btc)  # equity about -2000 USDT with a long BTC position
    await hold(services, other, Decimal("10000") - btc * BTC_MARK, btc)

    await services.risk_scanner.scan()

    assert await open_types(services, other) == {AlertType.POSITION_SIZE: Severity.HIGH}
    opened = await open_types(services, broke)
    assert opened[AlertType.POSITION_SIZE] is Severity.CRITICAL
    assert opened[AlertType.LEVERAGE_LIMIT] is Severity.CRITICAL
    sent = await pushes(services, 3013)
    assert any("∞" in text for text in sent)

    await services.risk_scanner.scan()  # the stored infinite figures read back as they were
    assert await pushes(services, 3013) == sent
