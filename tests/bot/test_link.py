"""/link through the real Dispatcher: the steps, deleted key messages, /cancel, checks before saving."""

from __future__ import annotations

import ccxt.async_support as ccxt
import pytest
from aiogram.methods import DeleteMessage

from engine.accounts.models import Exchange, KeyStatus
from tests.bot.linking import KEYS, link_account
from tests.fakes.venues import FakeExchanges
from tests.harness import BotHarness, button_data, plain, register, texts

USER = 700


async def linked_accounts(harness: BotHarness, telegram_id: int = USER) -> list:
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    return [a for a in await harness.services.accounts.list_accounts(user) if not a.is_paper]


async def stored_key_rows(harness: BotHarness) -> int:
    async with harness.services.uow(read_only=True) as uow:
        return len(await uow.credentials.list_all())


@pytest.mark.parametrize("exchange", ["BINANCE", "BYBIT", "OKX", "MEXC"])
async def test_link_saves_checked_account(
    harness: BotHarness, exchanges: FakeExchanges, exchange: str
) -> None:
    await register(harness, USER)
    made = await link_account(harness, USER, exchange, name=f"{exchange} main")

    assert "✅ Linked" in plain(texts(made)[-1])
    accounts = await linked_accounts(harness)
    assert [(a.name, a.exchange, a.key_status, a.is_testnet) for a in accounts] == [
        (f"{exchange} main", Exchange(exchange), KeyStatus.VALID, False)
    ]
    assert accounts[0].key_hint == "…" + KEYS[exchange].api_key[-4:]
    assert await stored_key_rows(harness) == 1
    assert exchanges.http[exchange.lower()].requests, "the keys were not checked with the exchange"


async def test_each_secret_message_is_deleted_right_after_reading(
    harness: BotHarness, exchanges: FakeExchanges
) -> None:
    await register(harness, USER)
    started = await harness.send(USER, "/link")
    await harness.press(USER, button_data(started, "lx:OKX"))
    await harness.send(USER, "OKX main")

    for part in (KEYS["OKX"].api_key, KEYS["OKX"].secret, KEYS["OKX"].passphrase):
        made = await harness.send(USER, part)
        deletions = [r for r in made if isinstance(r, DeleteMessage)]
        assert [(d.chat_id, d.message_id) for d in deletions] == [(USER, harness.last_message_id)]
        assert made.index(deletions[0]) == 0, "the message is deleted before anything else happens"

    environment = await harness.press(USER, "lk:testnet")
    assert "Linked" in plain(texts(environment)[-1])
    okx_requests = exchanges.http["okx"].requests
    assert all(r.headers.get("x-simulated-trading") == "1" for r in okx_requests)


async def test_malformed_key_is_refused_with_expected_shape(
    harness: BotHarness, exchanges: FakeExchanges
) -> None:
    await register(harness, USER)
    started = await harness.send(USER, "/link")
    await harness.press(USER, button_data(started, "lx:BINANCE"))
    await harness.send(USER, "Main")

    refused = await harness.send(USER, "notakey123")
    assert any(isinstance(r, DeleteMessage) for r in refused)
    reply = plain(texts(refused)[-1])
    assert "API_KEY_MALFORMED" in reply
    assert "64 characters" in reply
    assert "notakey123" not in reply

    accepted = await harness.send(USER, KEYS["BINANCE"].api_key)
    assert "API secret" in plain(texts(accepted)[-1])


async def test_whitespace_around_pasted_keys_is_trimmed(
    harness: BotHarness, exchanges: FakeExchanges
) -> None:
    await register(harness, USER)
    keys = KEYS["BINANCE"]
    padded = type(keys)(api_key=f"  {keys.api_key}\n", secret=f"\t{keys.secret}  ")
    made = await link_account(harness, USER, "BINANCE", keys=padded)

    assert "✅ Linked" in plain(texts(made)[-1])
    sent_keys = {r.headers.get("X-MBX-APIKEY") for r in exchanges.http["binance"].requests}
    assert sent_keys - {None} == {keys.api_key}


async def test_mexc_link_says_there_is_no_testnet(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    made = await link_account(harness, USER, "MEXC")
    assert any("MEXC has no testnet" in plain(text) for text in texts(made))
    assert not any("lk:testnet" in (str(getattr(r, "reply_markup", "")) or "") for r in made)


CANCEL_STEPS = ["exchange", "name", "api_key", "secret", "passphrase", "environment", "failed_check"]


@pytest.mark.parametrize("step", CANCEL_STEPS)
async def test_cancel_at_each_step_stores_nothing(
    harness: BotHarness, exchanges: FakeExchanges, step: str
) -> None:
    await register(harness, USER)
    keys = KEYS["OKX"]
    inputs = [keys.api_key, keys.secret, keys.passphrase]
    if step == "failed_check":
        exchanges.http["okx"].answer(
            "GET",
            "/api/v5/account/balance",
            (200, {"code": "50111", "msg": "Invalid OK-ACCESS-KEY", "data": []}),
        )

    made = await harness.send(USER, "/link")
    if step != "exchange":
        await harness.press(USER, button_data(made, "lx:OKX"))
    if step not in ("exchange", "name"):
        await harness.send(USER, "OKX main")
    for index, name in enumerate(("api_key", "secret", "passphrase")):
        if step == name:
            break
        if step in ("environment", "failed_check") or CANCEL_STEPS.index(step) > CANCEL_STEPS.index(name):
            await harness.send(USER, inputs[index])
    if step == "failed_check":
        failed = await harness.press(USER, "lk:real")
        assert "Nothing was saved" in plain(texts(failed)[-1])

    cancelled = await harness.send(USER, "/cancel")
    assert "Cancelled. Nothing was saved." in plain(texts(cancelled)[-1])
    assert await linked_accounts(harness) == []
    assert await stored_key_rows(harness) == 0
    follow_up = await harness.send(USER, keys.api_key)
    assert "did not understand" in plain(texts(follow_up)[-1])


async def test_cancel_button_leaves_the_conversation(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    started = await harness.send(USER, "/link")
    cancelled = await harness.press(USER, button_data(started, "lk:cancel"))
    assert "Nothing was saved" in plain(texts(cancelled)[-1])
    assert await linked_accounts(harness) == []


FAILURES = [
    pytest.param(
        "BINANCE",
        "GET",
        "/api/v3/account",
        (401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}),
        "either the key is wrong",
        id="binance-key-ip-or-permission",
    ),
    pytest.param(
        "BYBIT",
        "GET",
        "/v5/account/wallet-balance",
        (200, {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}}),
        "did not accept the API key",
        id="bybit-authentication",
    ),
    pytest.param(
        "BYBIT",
        "GET",
        "/v5/account/wallet-balance",
        (
            200,
            {
                "retCode": 10010,
                "retMsg": "Unmatched IP, please check your API key's bound IP addresses.",
                "result": {},
            },
        ),
        "refused this server's IP address",
        id="bybit-ip",
    ),
    pytest.param(
        "OKX",
        "GET",
        "/api/v5/account/balance",
        (
            200,
            {
                "code": "50110",
                "msg": "Your IP 1.2.3.4 is not included in your API key's IP whitelist.",
                "data": [],
            },
        ),
        "refused this server's IP address",
        id="okx-ip",
    ),
    pytest.param(
        "OKX",
        "GET",
        "/api/v5/account/balance",
        (200, {"code": "50105", "msg": "OK-ACCESS-PASSPHRASE incorrect.", "data": []}),
        "did not accept the API key",
        id="okx-passphrase",
    ),
    pytest.param(
        "MEXC",
        "GET",
        "/api/v3/account",
        (400, {"code": 700006, "msg": "IP [1.2.3.4] not in the ip white list"}),
        "refused this server's IP address",
        id="mexc-ip",
    ),
    pytest.param(
        "MEXC",
        "GET",
        "/api/v3/account",
        ccxt.RequestTimeout("mexc GET timed out"),
        "did not answer",
        id="mexc-network",
    ),
    pytest.param(
        "BINANCE",
        "GET",
        "/api/v3/account",
        ccxt.NetworkError("connection reset"),
        "did not answer",
        id="binance-network",
    ),
]


@pytest.mark.parametrize(("exchange", "method", "path", "reply", "expected"), FAILURES)
async def test_failed_check_explains_and_saves_nothing(
    harness: BotHarness,
    exchanges: FakeExchanges,
    exchange: str,
    method: str,
    path: str,
    reply: object,
    expected: str,
) -> None:
    await register(harness, USER)
    exchanges.http[exchange.lower()].answer(method, path, reply)  # type: ignore[arg-type]
    made = await link_account(harness, USER, exchange)

    assert expected in plain(texts(made)[-1])
    assert "Nothing was saved" in plain(texts(made)[-1])
    assert "lk:retry" in button_data(made, "lk:retry")
    assert await linked_accounts(harness) == []
    assert await stored_key_rows(harness) == 0


@pytest.mark.parametrize("exchange", ["BINANCE", "BYBIT", "OKX"])
async def test_key_without_trade_permission_is_not_saved(
    harness: BotHarness, exchanges: FakeExchanges, exchange: str
) -> None:
    await register(harness, USER)
    exchanges.venues[exchange.lower()].can_trade = False
    made = await link_account(harness, USER, exchange)
    assert "may not trade" in plain(texts(made)[-1])
    assert await linked_accounts(harness) == []


async def test_check_again_saves_once_the_ip_is_allowed(
    harness: BotHarness, exchanges: FakeExchanges
) -> None:
    await register(harness, USER)
    exchanges.http["bybit"].answer(
        "GET",
        "/v5/account/wallet-balance",
        (200, {"retCode": 10010, "retMsg": "Unmatched IP", "result": {}}),
        times=1,
    )
    made = await link_account(harness, USER, "BYBIT")
    assert "IP address" in plain(texts(made)[-1])

    retried = await harness.press(USER, "lk:retry")
    assert "✅ Linked" in plain(texts(retried)[-1])
    assert len(await linked_accounts(harness)) == 1


@pytest.mark.parametrize("exchange", ["BINANCE", "BYBIT", "OKX"])
async def test_withdrawal_permission_is_warned_loudly(
    harness: BotHarness, exchanges: FakeExchanges, exchange: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness.services.settings.exchanges, "ip_whitelist", ["203.0.113.7"])
    loud = BotHarness(harness.services)  # picks up the whitelist at build time
    await register(loud, USER)
    exchanges.venues[exchange.lower()].can_withdraw = True
    made = plain(texts(await link_account(loud, USER, exchange))[-1])

    assert "can WITHDRAW funds" in made
    assert "203.0.113.7" in made
    accounts = await linked_accounts(loud)
    assert accounts[0].can_withdraw is True
    await loud.close()


async def test_duplicate_account_name_is_refused_before_keys(
    harness: BotHarness, exchanges: FakeExchanges
) -> None:
    await register(harness, USER)
    started = await harness.send(USER, "/link")
    await harness.press(USER, button_data(started, "lx:BYBIT"))
    taken = await harness.send(USER, "paper")
    assert "ACCOUNT_NAME_TAKEN" in texts(taken)[-1]


async def test_key_pasted_as_the_name_is_deleted(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    started = await harness.send(USER, "/link")
    await harness.press(USER, button_data(started, "lx:BYBIT"))
    pasted = await harness.send(USER, KEYS["BYBIT"].secret)
    assert any(isinstance(r, DeleteMessage) for r in pasted)
    assert KEYS["BYBIT"].secret not in " ".join(texts(pasted))
