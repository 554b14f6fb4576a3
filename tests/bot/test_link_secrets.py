"""A canary key linked through /link never shows up in plain text anywhere PATRIOT writes.

The keys travel through the real conversation, are checked and then used by
the real ccxt client over real HTTP to a server on 127.0.0.1 (so ccxt's own
request code and its debug logging run), while every log record is captured
at DEBUG. Afterwards the database file, its write-ahead log, every log line,
the conversation storage and every message the bot sent are searched for them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.services import Services
from tests.bot.linking import ExchangeKeys, link_account
from tests.fakes.ccxt_http import FakeExchangeHttp
from tests.fakes.local_server import LocalExchangeServer
from tests.fakes.venues import venue
from tests.harness import BotHarness, button_data, plain, register, texts

USER = 710
CANARY_KEY = "CANARYkey" + "Q7w8E9r0" * 6 + "zzzzzzz"
CANARY_SECRET = "CANARYsecret" + "T1y2U3i4" * 6 + "abcd"


@pytest.fixture
async def local_binance(services: Services) -> AsyncIterator[FakeExchangeHttp]:
    http = FakeExchangeHttp()
    venue(http, "binance")
    server = LocalExchangeServer(http)
    await server.start()
    services.exchange_clients.prepare = server.install
    try:
        yield http
    finally:
        await server.stop()


def database_bytes(services: Services) -> bytes:
    path = Path(make_url(services.settings.database.database_url).database or "")
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return b"".join(file.read_bytes() for file in files if file.exists())


async def test_canary_keys_never_appear_in_plain_text(
    harness: BotHarness, local_binance: FakeExchangeHttp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await register(harness, USER)
    linked = await link_account(harness, USER, "BINANCE", keys=ExchangeKeys(CANARY_KEY, CANARY_SECRET))
    assert "✅ Linked" in plain(texts(linked)[-1])

    # Use the keys the way trading does: value the account, make it the default, buy on it.
    listed = await harness.send(USER, "/accounts")
    opened = await harness.press(USER, button_data(listed, "ac:open:" + (await _live_account_id(harness))))
    await harness.press(USER, button_data(opened, "ac:default:"))
    await harness.press(USER, button_data(opened, "ac:check:"))
    # A sale: the fake account already holds more BTC than the risk profile would let it add.
    card = await harness.send(USER, "/sell BTCUSDT 0.001")
    sold = await harness.press(USER, button_data(card, "od:ok:"))
    assert "Sold 0.001 BTC" in plain(texts(sold)[-1])
    await harness.services.gateways.close()

    used = {request.headers.get("X-MBX-APIKEY") for request in local_binance.requests}
    assert CANARY_KEY in used, "the canary key never reached the exchange: the test proved nothing"

    for canary in (CANARY_KEY, CANARY_SECRET):
        assert canary.encode() not in database_bytes(harness.services)
        for record in caplog.records:
            assert canary not in record.getMessage(), record.name
            assert canary not in (record.exc_text or ""), record.name
        assert canary not in caplog.text
        for request in harness.session.requests:
            assert canary not in repr(request.model_dump()), type(request).__name__
        assert canary not in repr(harness.dispatcher.storage.storage)  # type: ignore[attr-defined]


async def _live_account_id(harness: BotHarness) -> str:
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    accounts = await harness.services.accounts.list_accounts(user)
    return next(account.id.hex for account in accounts if not account.is_paper)
