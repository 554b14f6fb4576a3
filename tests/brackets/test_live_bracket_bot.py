"""The messages about a live bracket's kind of exits, through the real Dispatcher.

The accounts are linked with /link, and every ccxt client talks to the
fake venues in this process.
"""

from __future__ import annotations

import pytest

from bot.services import Services
from tests.bot.linking import link_account
from tests.fakes.venues import FakeExchanges
from tests.harness import BotHarness, button_data, plain, register, texts

USER = 81
COMMAND = "/bracket BTCUSDT buy 0.01 entry=market sl=41000 tp=44000,45000 account=Main"
PAPER_COMMAND = "/bracket BTCUSDT buy 0.01 entry=market sl=30000 tp=60000,70000"
NATIVE = "Exits rest on the exchange as OCO orders"
WATCHED = "This protection works only while the bot runs."
PARTIAL = "When a target fills only in part, the exchange cancels its stop."


@pytest.fixture
def exchanges(services: Services) -> FakeExchanges:
    fakes = FakeExchanges()
    for venue in fakes.venues.values():
        venue.balances = {"USDT": ("10000", "0"), "BTC": ("0.01", "0")}
    services.exchange_clients.prepare = fakes.install
    return fakes


async def card_for(harness: BotHarness, exchange: str) -> str:
    await register(harness, USER, profile="ULTRA_HIGH")
    await link_account(harness, USER, exchange)
    return plain(texts(await harness.send(USER, COMMAND))[0])


async def test_binance_card_names_stop_limit(harness: BotHarness, exchanges: FakeExchanges) -> None:
    card = await card_for(harness, "BINANCE")

    assert NATIVE in card
    assert WATCHED not in card
    assert "each stop rests as a stop-limit order" in card
    assert "places a limit order 0.50 % beyond the stop" in card
    assert PARTIAL in card


async def test_okx_card_promises_exchange_exits(harness: BotHarness, exchanges: FakeExchanges) -> None:
    card = await card_for(harness, "OKX")

    assert NATIVE in card
    assert WATCHED not in card
    assert "stop-limit" not in card
    assert PARTIAL in card


async def test_paper_card_has_no_live_caveats(harness: BotHarness) -> None:
    await register(harness, USER, profile="ULTRA_HIGH")

    card = plain(texts(await harness.send(USER, PAPER_COMMAND))[0])

    assert NATIVE in card
    assert PARTIAL not in card
    assert "stop-limit" not in card


@pytest.mark.parametrize("exchange", ["BYBIT", "MEXC"])
async def test_other_exchanges_say_the_bot_watches(
    harness: BotHarness, exchanges: FakeExchanges, exchange: str
) -> None:
    card = await card_for(harness, exchange)

    assert WATCHED in card
    assert NATIVE not in card
    assert "stop-limit" not in card
    assert PARTIAL not in card


async def test_rejected_order_list_tells_the_user(harness: BotHarness, exchanges: FakeExchanges) -> None:
    assert NATIVE in await card_for(harness, "BINANCE")
    exchanges.venues["binance"].oco_reject = (-2010, "Order would immediately match and take.")

    pressed = await harness.press(USER, button_data(await harness.send(USER, COMMAND), "bd:ok:"))
    await harness.delivery.drain()

    told = "\n".join(plain(text) for text in texts(pressed))
    assert "Native exits were rejected: The exchange rejected the order as invalid." in told
    assert WATCHED in told
    assert exchanges.http["binance"].sent("POST", "/api/v3/orderList/oco"), "the order list was tried"
