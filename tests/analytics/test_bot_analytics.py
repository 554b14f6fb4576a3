"""/portfolio, /positions, /performance, /risk, /rebalance and /scenarios through the real Dispatcher."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from aiogram.methods import SendPhoto

from bot import charts
from bot.cli import main
from engine.accounts.models import Account, Exchange
from engine.common.clock import ManualClock
from engine.common.ids import new_id
from engine.errors import TemporaryExchangeError
from engine.exchanges.models import BalanceEntry
from engine.market.models import Ticker
from engine.portfolio.models import DerivativePosition, MarginMode, PositionSide
from engine.portfolio.service import PortfolioService
from tests.analytics.test_charts import png_size
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, button_data, plain, register, texts

# The scenarios build portfolios of 20-50 % positions, which only the widest risk profile allows.
TRADER_PROFILE = "ULTRA_HIGH"
# A little over the default minimum gap between two orders of one user (RATE_LIMIT_ORDER_GAP_MS=100).
ORDER_GAP_SECONDS = 0.12
USER = 61


async def buy(harness: BotHarness, user_id: int, command: str) -> None:
    await harness.press(user_id, button_data(await harness.send(user_id, command), "od:ok:"))
    await asyncio.sleep(ORDER_GAP_SECONDS)  # the next Confirm must not fall inside the minimum order gap


async def hourly_snapshots(harness: BotHarness, clock: ManualClock, user_id: int, hours: int) -> None:
    user = await harness.services.users.get_by_telegram_id(user_id)
    assert user is not None
    for _ in range(hours):
        await harness.services.portfolio.snapshot(user)
        clock.advance(3600)


def photos(requests: list) -> list[SendPhoto]:
    return [r for r in requests if isinstance(r, SendPhoto)]


async def test_performance_sends_figures_and_equity_chart(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    await buy(harness, USER, "/buy BTCUSDT 0.05")
    await hourly_snapshots(harness, clock, USER, 30)
    await buy(harness, USER, "/sell BTCUSDT 0.02")

    sent = await harness.send(USER, "/performance 7D vs BTC")
    text = plain(texts(sent)[0])
    for label in ("Total return", "Sharpe", "Sortino", "Calmar", "Max drawdown", "Against BTC", "win rate"):
        assert label in text
    assert "Trades: 1 (wins 0, losses 1)" in text
    assert "nan" not in text.lower()

    pictures = photos(sent)
    assert len(pictures) == 1
    data = pictures[0].photo.data
    assert png_size(data) == charts.EQUITY_SIZE


async def test_performance_without_snapshots_says_so(harness: BotHarness) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    sent = await harness.send(USER, "/performance 1H")
    assert "Not enough equity snapshots" in plain(texts(sent)[0])
    assert photos(sent) == []


async def test_risk_with_many_assets_sends_heatmap(harness: BotHarness) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    for command in ("/buy BTCUSDT 0.05", "/buy ETHUSDT 0.5", "/buy SOLUSDT 5", "/buy ADAUSDT 800"):
        await buy(harness, USER, command)

    sent = await harness.send(USER, "/risk 0.99 48")
    text = plain(texts(sent)[0])
    assert "99 % confidence over 48 h" in text
    for label in ("Historical VaR", "Parametric (normal) VaR", "diversification ratio", "HHI", "component"):
        assert label in text
    assert "Whole market -40 %" in text and "BTC -20 %" in text and "Worst day of" in text
    assert "nan" not in text.lower()
    sizes = [png_size(p.photo.data) for p in photos(sent)]
    assert sizes == [charts.ALLOCATION_SIZE, charts.HEATMAP_SIZE]


@pytest.mark.parametrize(
    ("arguments", "code", "fragment"),
    [
        ("0.5", "CONFIDENCE_INVALID", "“0.5” is outside the allowed range 0.90–0.99"),
        ("abc", "CONFIDENCE_INVALID", "“abc” is outside the allowed range 0.90–0.99"),
        ("0.95 0", "HORIZON_INVALID", "“0” is not allowed: give a whole number of hours from 1 to 720"),
        ("0.95 1000", "HORIZON_INVALID", "“1000” is not allowed"),
        ("0.95 abc", "HORIZON_INVALID", "“abc”"),
    ],
)
async def test_risk_bad_arguments_are_explained(
    harness: BotHarness, arguments: str, code: str, fragment: str
) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    replies = texts(await harness.send(USER, f"/risk {arguments}"))
    assert len(replies) == 1
    assert code in replies[0]
    assert fragment in plain(replies[0])


async def test_positions_show_average_entry_and_filters(harness: BotHarness) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    await buy(harness, USER, "/buy BTCUSDT 0.001")
    await buy(harness, USER, "/buy ETHUSDT 0.01")
    text = plain(texts(await harness.send(USER, "/positions symbol=BTC"))[0])
    # Average cost: the fill at 43472.87 plus its 0.1 % fee, per BTC.
    assert "Entry 43,516.34287" in text
    assert "ETH" not in text
    assert "No positions match" in plain(texts(await harness.send(USER, "/positions min=100000"))[0])
    assert "POSITION_FILTER_INVALID" in texts(await harness.send(USER, "/positions colour=red"))[0]


class BrokenGateway:
    """Reaches the exchange once, then fails like a network outage."""

    def __init__(self) -> None:
        self.reachable = True

    async def fetch_balance(self) -> dict[str, BalanceEntry]:
        if not self.reachable:
            raise TemporaryExchangeError("timed out")
        return {
            "USDT": BalanceEntry("USDT", Decimal("500"), Decimal("0")),
            "BTC": BalanceEntry("BTC", Decimal("0.01"), Decimal("0")),
        }

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return Ticker(symbol=symbol, last=Decimal("40000"), timestamp=datetime(2026, 1, 1, tzinfo=UTC))


class FlakyProvider:
    """Serves PAPER from the real registry and the second account from ``BrokenGateway``."""

    def __init__(self, real: object, broken: BrokenGateway) -> None:
        self.real = real
        self.broken = broken

    async def gateway_for(self, account: Account) -> object:
        if account.is_paper:
            return await self.real.gateway_for(account)  # type: ignore[attr-defined]
        return self.broken

    async def close(self) -> None:
        """Nothing of its own to close."""


async def test_unreachable_account_shows_last_known_values(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    services = harness.services
    user = await services.users.get_by_telegram_id(USER)
    assert user is not None
    now = clock.now()
    async with services.uow() as uow:
        await uow.accounts.add(
            Account(new_id(), user.id, Exchange.BINANCE, "Main", False, True, False, now, now)
        )
        await uow.commit()
    broken = BrokenGateway()
    services.portfolio = PortfolioService(
        services.uow, FlakyProvider(services.gateways, broken), clock, services.prices
    )

    first = plain(texts(await harness.send(USER, "/portfolio"))[0])
    assert "Total equity: 10,900.00 USDT" in first

    broken.reachable = False
    clock.advance(600)
    second = plain(texts(await harness.send(USER, "/portfolio"))[0])
    assert "Main (BINANCE)" in second
    assert "cannot be reached right now (EXCHANGE_UNAVAILABLE)" in second
    assert "Last known values from 2026-01-01 00:00 (UTC)" in second
    assert "0.01 BTC × 40,000 USDT = 400.00 USDT" in second
    assert "Total equity: 10,900.00 USDT" in second


async def test_unreachable_account_without_history_is_named(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    services = harness.services
    user = await services.users.get_by_telegram_id(USER)
    assert user is not None
    async with services.uow() as uow:
        await uow.accounts.add(
            Account(new_id(), user.id, Exchange.BYBIT, "Alt", False, True, False, clock.now(), clock.now())
        )
        await uow.commit()
    broken = BrokenGateway()
    broken.reachable = False
    services.portfolio = PortfolioService(
        services.uow, FlakyProvider(services.gateways, broken), clock, services.prices
    )
    text = plain(texts(await harness.send(USER, "/portfolio"))[0])
    assert "Alt (BYBIT)" in text
    assert "No earlier valuation is stored" in text


async def test_snapshot_job_feeds_the_24h_change(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    await register(harness, USER + 1, username="other")
    assert await harness.services.portfolio.snapshot_all() == 2
    clock.advance(25 * 3600)
    text = plain(texts(await harness.send(USER, "/portfolio"))[0])
    assert "24 h change: 0.00 USDT (0.00 %) since 2026-01-01 00:00 (UTC)" in text


async def test_scenarios_are_added_audited_and_applied(harness: BotHarness) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    await buy(harness, USER, "/buy BTCUSDT 0.05")
    added = texts(await harness.send(ADMIN_ID, "/scenarios add Crash BTC=-50", username="boss"))[0]
    assert "Scenario added" in plain(added)
    bad = texts(await harness.send(ADMIN_ID, "/scenarios add Bad BTC=-150", username="boss"))[0]
    assert "SCENARIO_SHOCK_INVALID" in bad and "BTC=-150" in plain(bad)

    entries, _total = await harness.services.admin.recent_audit(page=0, page_size=10)
    assert any(e.action == "analytics.scenario.add" and e.details["name"] == "Crash" for e in entries)
    assert "Scenario “Crash”" in plain(texts(await harness.send(USER, "/risk"))[0])
    assert "Unknown command" in plain(texts(await harness.send(USER, "/scenarios"))[0])


async def test_rebalance_sends_all_orders_after_one_confirmation(harness: BotHarness) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    await buy(harness, USER, "/buy BTCUSDT 0.05")
    await buy(harness, USER, "/buy ETHUSDT 0.1")
    card = await harness.send(USER, "/rebalance equal")
    assert "Sell" in plain(texts(card)[0]) and "Buy" in plain(texts(card)[0])
    confirm = button_data(card, "rb:ok:")
    result = plain(texts(await harness.press(USER, confirm))[-1])
    assert "Sold" in result and "Bought" in result

    again = texts(await harness.press(USER, confirm))[-1]
    assert "DRAFT_CLOSED" in again
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    async with harness.services.uow(read_only=True) as uow:
        _orders, total = await uow.orders.list_for_user(user.id)
    assert total == 4


def test_cli_prints_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "analytics",
            "--prices",
            "engine/market/data/daily/BTC_USDT-1d.csv",
            "ETH/USDT=engine/market/data/daily/ETH_USDT-1d.csv",
            "--weights",
            "BTCUSDT=0.6",
            "ETH/USDT=0.4",
            "--confidence",
            "0.99",
            "--horizon-hours",
            "48",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["assets"] == ["BTC/USDT", "ETH/USDT"]
    assert result["observations"] == 789
    assert result["risk"]["historical_var"] > 0
    assert set(result["performance"]) >= {"sharpe", "sortino", "calmar", "max_drawdown", "volatility"}


def test_cli_rejects_bad_confidence(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analytics", "--prices", "engine/market/data/daily/BTC_USDT-1d.csv", "--confidence", "0.5"])
    assert code == 2
    assert "--confidence '0.5' is outside 0.9-0.99" in capsys.readouterr().err


class FuturesGateway(BrokenGateway):
    """An exchange account with one open perpetual long and one closed (zero-contract) position."""

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[DerivativePosition]:
        open_long = DerivativePosition(
            symbol="BTC/USDT:USDT",
            side=PositionSide.LONG,
            contracts=Decimal("0.02"),
            contract_size=Decimal("1"),
            entry_price=Decimal("38000"),
            mark_price=Decimal("40000"),
            unrealized_pnl=Decimal("40"),
            leverage=Decimal("5"),
            margin=Decimal("160"),
            liquidation_price=Decimal("30500.5"),
            margin_mode=MarginMode.ISOLATED,
        )
        closed = replace(open_long, symbol="ETH/USDT:USDT", contracts=Decimal("0"))
        return [open_long, closed]


async def test_positions_show_derivative_leverage_margin_and_liquidation(
    harness: BotHarness, clock: ManualClock
) -> None:
    await register(harness, USER, profile=TRADER_PROFILE)
    services = harness.services
    user = await services.users.get_by_telegram_id(USER)
    assert user is not None
    async with services.uow() as uow:
        await uow.accounts.add(
            Account(new_id(), user.id, Exchange.BYBIT, "Perp", False, True, False, clock.now(), clock.now())
        )
        await uow.commit()
    services.portfolio = PortfolioService(
        services.uow, FlakyProvider(services.gateways, FuturesGateway()), clock, services.prices
    )

    text = plain(texts(await harness.send(USER, "/positions"))[0])

    assert "BTC/USDT:USDT" in text
    assert "Leverage 5× · margin 160 USDT · liquidation 30,500.5" in text
    assert "Entry 38,000 · mark 40,000" in text
    assert "ETH/USDT:USDT" not in text
