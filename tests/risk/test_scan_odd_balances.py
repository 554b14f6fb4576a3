"""The risk scan over users with odd balances: zero, negative, dust, huge, unknown assets, many accounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

import engine.risk.scan as scan_module
from bot.services import Services
from engine.accounts.models import Account, Exchange
from engine.common.ids import new_id
from engine.exchanges.paper.ledger import PaperBalance
from engine.risk.limits import LimitName, PersonalLimits
from engine.risk.models import AlertType, Severity
from engine.users.models import UserStatus
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, plain, register, texts
from tests.risk.test_risk_scan import BTC_MARK, new_user, open_types, pushes

BALANCES: dict[str, list[tuple[str, str]]] = {
    "zero": [("USDT", "0"), ("BTC", "0")],
    "negative_cash": [("USDT", "-100")],
    "dust": [("USDT", "0.000000000000000001"), ("BTC", "0.000000000000000000000000001")],
    "huge": [("USDT", "1" + "0" * 30), ("BTC", "1" + "0" * 20)],
    "unknown_assets": [("USDT", "1000"), ("ZZZQ", "5"), ("btc", "1"), ("ÄÖ/€", "2")],
    "short": [("USDT", "10000"), ("BTC", "-0.05")],
    "broke": [("USDT", "-1000000"), ("BTC", "0.01")],
}


async def hold(
    services: Services, telegram_id: int, balances: list[tuple[str, str]], accounts: int = 1
) -> None:
    user = await new_user(services, telegram_id)
    async with services.uow() as uow:
        account = await uow.accounts.get_default(user.id)
        assert account is not None
        for asset, total in balances:
            await uow.paper.save_balance(account.id, PaperBalance(asset, Decimal(total)))
        await uow.commit()


@pytest.mark.parametrize("kind", sorted(BALANCES))
async def test_odd_balances_scan_without_failing(services: Services, kind: str) -> None:
    await hold(services, 5000, BALANCES[kind])
    await hold(services, 5001, [("USDT", "10000")])  # a plain user in the same batch

    first = await services.risk_scanner.scan()
    second = await services.risk_scanner.scan()

    assert first.users == second.users == 2
    assert first.unreadable == 0
    assert second.changes == []  # the figures stored by the first scan read back unchanged
    user = await services.users.get_by_telegram_id(5001)
    assert user is not None and await open_types(services, user) == {}
    for text in await pushes(services, 5000):
        assert "NaN" not in text
        assert "Infinity" not in text


async def test_user_suspended_between_listing_and_reading_is_skipped(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hold(services, 5010, BALANCES["broke"])
    await hold(services, 5011, BALANCES["broke"])
    original = scan_module.RiskScanner._scan_batch

    async def suspend_first(self: scan_module.RiskScanner, *args: object) -> None:
        await services.admin.set_status(ADMIN_ID, 5010, UserStatus.SUSPENDED, "test")
        await original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_module.RiskScanner, "_scan_batch", suspend_first)
    summary = await services.risk_scanner.scan()

    assert summary.users == 1
    assert await pushes(services, 5010) == []
    assert await pushes(services, 5011)


async def test_personal_limit_of_zero_is_critical_not_a_crash(services: Services) -> None:
    await hold(services, 5020, [("USDT", "9000"), ("BTC", "0.02")])
    user = await services.users.get_by_telegram_id(5020)
    assert user is not None
    async with services.uow() as uow:
        limits = PersonalLimits(**{LimitName.MAX_POSITION.value: Decimal("0")})
        await uow.risk.save_personal_limits(user.id, limits, services.clock.now())
        await uow.commit()

    await services.risk_scanner.scan()

    assert (await open_types(services, user))[AlertType.POSITION_SIZE] is Severity.CRITICAL


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_alerts_page_shows_infinite_figures(harness: BotHarness, language: str) -> None:
    services = harness.services
    await register(harness, 5030, language=language)
    user = await services.users.get_by_telegram_id(5030)
    assert user is not None
    async with services.uow() as uow:
        account = await uow.accounts.get_default(user.id)
        assert account is not None
        for asset, total in BALANCES["broke"]:
            await uow.paper.save_balance(account.id, PaperBalance(asset, Decimal(total)))
        await uow.commit()
    await services.risk_scanner.scan()

    page = "\n".join(plain(text) for text in texts(await harness.send(5030, "/alerts")))

    assert page.count("∞") >= 3
    assert "Infinity" not in page
    assert "NaN" not in page


async def test_many_paper_accounts_add_up_and_inactive_ones_are_left_out(services: Services) -> None:
    await hold(services, 5050, [("USDT", "3000")])
    user = await services.users.get_by_telegram_id(5050)
    assert user is not None
    now = services.clock.now()
    holdings = {"spare": ("BTC", "0.02", True), "old": ("BTC", "5", False)}
    async with services.uow() as uow:
        for name, (asset, total, active) in holdings.items():
            account = Account(new_id(), user.id, Exchange.PAPER, name, False, active, False, now, now)
            await uow.accounts.add(account)
            await uow.paper.save_balance(account.id, PaperBalance(asset, Decimal(total)))
            await uow.paper.save_balance(account.id, PaperBalance("USDT", Decimal("1000")))
        await uow.commit()

    await services.risk_scanner.scan()

    # 0.02 BTC (869 USDT) of 4869 USDT equity is 17.8 %: within the 20 % limit. The inactive
    # account's 5 BTC would make it 95 % and its 1000 USDT would change the equity.
    assert await open_types(services, user) == {}
    async with services.uow(read_only=True) as uow:
        marks = await uow.risk.marks(user.id)
    assert marks is not None
    assert marks.peak_equity == Decimal("4000") + Decimal("0.02") * BTC_MARK
