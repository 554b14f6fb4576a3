"""Canary secrets (API key, secret, passphrase, PIN, bot token) never appear in plain text.

The canaries travel the real paths: /link on OKX (the one exchange with a
passphrase), a live order that asks for the PIN, a wrong PIN, a PIN change,
and an exchange that echoes the key and passphrase back in its error body,
which ccxt copies into its exception text. Every log record is captured at
DEBUG. Afterwards the database file and its journals, every log line and
traceback, every Bot API request the bot made, the conversation storage and
the text of every exception raised are searched for each canary.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.services import Services
from engine.accounts.models import Account
from engine.errors import PatriotError
from engine.orders.models import OrderRequest, OrderSide, OrderType
from tests.bot.linking import ExchangeKeys, link_account
from tests.conftest import TEST_TOKEN
from tests.fakes.venues import FakeExchanges
from tests.harness import BotHarness, button_data, plain, register, texts
from tests.security.support import database_path

USER = 731
# OKX's shapes: a UUID key, a 32-character hex secret, a free-form passphrase.
CANARY_KEY = "c4a12e57-0b1d-4e6f-9a3c-5d7e8f901b2c"
CANARY_SECRET = "CA4A12E5DEADBEEF0B1D4E6F9A3C5D7E"
CANARY_PASSPHRASE = "Canary-Pass#7319"
CANARY_PIN = "730419"
CANARY_NEW_PIN = "582046"
WRONG_PIN = "913377"
BOT_TOKEN_SECRET = TEST_TOKEN.partition(":")[2]

CANARIES = {
    "API key": CANARY_KEY,
    "API secret": CANARY_SECRET,
    "passphrase": CANARY_PASSPHRASE,
    "PIN": CANARY_PIN,
    "new PIN": CANARY_NEW_PIN,
    "wrong PIN": WRONG_PIN,
    "bot token": BOT_TOKEN_SECRET,
}


@pytest.fixture
def exchanges(services: Services) -> FakeExchanges:
    fakes = FakeExchanges()
    services.exchange_clients.prepare = fakes.install
    return fakes


def database_bytes(services: Services) -> bytes:
    path = database_path(services)
    files = [path, Path(f"{path}-wal"), Path(f"{path}-journal")]
    return b"".join(file.read_bytes() for file in files if file.exists())


def exception_texts(error: BaseException) -> list[str]:
    """str, repr and fields of the error and of every exception it was raised from."""
    found: list[str] = []
    current: BaseException | None = error
    while current is not None:
        found += [str(current), repr(current), repr(current.args)]
        if isinstance(current, PatriotError):
            found.append(repr(current.fields))
        current = current.__cause__ or current.__context__
    return found


async def set_pin(harness: BotHarness, pin: str) -> None:
    await harness.press(USER, "pn:set")
    await harness.send(USER, pin)
    done = await harness.send(USER, pin)
    assert "The PIN is set" in plain(texts(done)[-1])


async def live_sale(harness: BotHarness) -> list[Any]:
    """Confirm a sale on the OKX account; the PIN prompt follows."""
    card = await harness.send(USER, "/order BTCUSDT sell market 0.001 account=OKX")
    return list(await harness.press(USER, button_data(card, "od:ok:")))


async def test_canaries_never_appear_in_plain_text(
    harness: BotHarness, exchanges: FakeExchanges, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await register(harness, USER)
    keys = ExchangeKeys(CANARY_KEY, CANARY_SECRET, CANARY_PASSPHRASE)
    linked = await link_account(harness, USER, "OKX", name="OKX", keys=keys)
    assert "✅ Linked" in plain(texts(linked)[-1])
    await set_pin(harness, CANARY_PIN)

    # A live sale: one wrong PIN, then the right one; the order reaches OKX.
    prompt = await live_sale(harness)
    assert "Send your trading PIN" in plain(texts(prompt)[-1])
    assert "Wrong PIN" in plain(texts(await harness.send(USER, WRONG_PIN))[-1])
    sold = await harness.send(USER, CANARY_PIN)
    assert "Sold 0.001 BTC" in plain(texts(sold)[-1])
    sent = exchanges.http["okx"].sent("POST", "/api/v5/trade/batch-orders")
    assert sent, "the sale never reached OKX: the test proved nothing"
    assert sent[-1].headers.get("OK-ACCESS-PASSPHRASE") == CANARY_PASSPHRASE

    # OKX refuses the next order with a body that quotes the key and passphrase.
    echo = f"Invalid Sign for key {CANARY_KEY} passphrase {CANARY_PASSPHRASE}"
    exchanges.http["okx"].answer(
        "POST", "/api/v5/trade/batch-orders", (401, {"code": "50113", "msg": echo, "data": []}), times=1
    )
    # The gateway's own exception, then the reply to a sale on the account it paused.
    account = await _okx_account(harness)
    gateway = await harness.services.gateways.gateway_for(account)
    request = OrderRequest(
        "BTC/USDT", OrderSide.SELL, OrderType.MARKET, Decimal("0.001"), client_order_id="canary1"
    )
    with pytest.raises(PatriotError) as raised:
        await gateway.create_order(request)
    refused = texts(await harness.send(USER, "/order BTCUSDT sell market 0.001 account=OKX"))
    assert any("is paused because its exchange rejected the API key" in plain(text) for text in refused)
    assert len(exchanges.http["okx"].sent("POST", "/api/v5/trade/batch-orders")) == 2

    # A PIN change sends both PINs through the conversation.
    await harness.press(USER, "pn:change")
    await harness.send(USER, CANARY_PIN)
    await harness.send(USER, CANARY_NEW_PIN)
    changed = await harness.send(USER, CANARY_NEW_PIN)
    assert "The PIN is changed" in plain(texts(changed)[-1])
    await harness.services.gateways.close()

    stored = database_bytes(harness.services)
    requests = [repr(request.model_dump()) for request in harness.session.requests]
    storage = repr(harness.dispatcher.storage.storage)  # type: ignore[attr-defined]
    errors = exception_texts(raised.value)
    for name, canary in CANARIES.items():
        assert canary.encode() not in stored, f"{name} in the database file"
        for record in caplog.records:
            assert canary not in record.getMessage(), f"{name} logged by {record.name}"
            assert canary not in (record.exc_text or ""), f"{name} in a traceback from {record.name}"
        assert canary not in caplog.text, f"{name} in the log"
        for request in requests:
            assert canary not in request, f"{name} sent to Telegram"
        assert canary not in storage, f"{name} in the conversation storage"
        for text in errors:
            assert canary not in text, f"{name} in an exception: {text[:200]}"


async def _okx_account(harness: BotHarness) -> Account:
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    accounts = await harness.services.accounts.list_accounts(user)
    return next(account for account in accounts if not account.is_paper)
