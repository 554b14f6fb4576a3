"""/accounts through the real Dispatcher: the list, filters, the account card and its actions."""

from __future__ import annotations

import uuid

from aiogram.methods import SendMessage

from bot.callbacks import AccountAction, AccountsView
from engine.accounts.models import Account, Exchange, KeyStatus
from tests.bot.linking import link_account
from tests.fakes.venues import FakeExchanges
from tests.harness import BotHarness, button_data, buttons, plain, register, texts

USER = 720
OTHER = 721


async def accounts_of(harness: BotHarness, telegram_id: int = USER) -> dict[str, Account]:
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    return {account.name: account for account in await harness.services.accounts.list_accounts(user)}


def action(name: str, account: Account) -> str:
    return AccountAction(action=name, account=account.id.hex).pack()


async def test_list_shows_accounts_with_usdt_balances(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "BINANCE", name="Binance main")
    listed = plain(texts(await harness.send(USER, "/accounts"))[0])

    assert "★ Paper — PAPER (practice) — 10,000.00 USDT" in listed
    # 1000.12345678 USDT + 0.6 BTC at 43000.1 = 26,800.18 USDT
    assert "Binance main — Binance — 26,800.18 USDT" in listed


async def test_menu_button_opens_the_list(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    assert "Your accounts" in plain(texts(await harness.send(USER, "🏦 Accounts"))[0])


async def test_filters_by_exchange_and_activity(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "BYBIT", name="Bybit one")
    await link_account(harness, USER, "OKX", name="OKX one")
    accounts = await accounts_of(harness)
    await harness.press(USER, action("off", accounts["OKX one"]))

    only_bybit = plain(
        texts(await harness.press(USER, AccountsView(exchange="BYBIT", active="all").pack()))[-1]
    )
    assert "Bybit one" in only_bybit
    assert "OKX one" not in only_bybit
    assert "Paper" not in only_bybit

    inactive = plain(texts(await harness.press(USER, AccountsView(exchange="ALL", active="off").pack()))[-1])
    assert "OKX one" in inactive
    assert "Bybit one" not in inactive


async def test_rename_through_the_card(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "MEXC", name="Old name")
    account = (await accounts_of(harness))["Old name"]

    asked = await harness.press(USER, action("rename", account))
    assert "new name" in plain(texts(asked)[-1])
    renamed = await harness.send(USER, "  Scalping   MEXC ")
    assert "Scalping MEXC" in plain(texts(renamed)[-1])
    assert "Scalping MEXC" in await accounts_of(harness)


async def test_deactivate_activate_and_set_default(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "BINANCE", name="Main")
    accounts = await accounts_of(harness)

    await harness.press(USER, action("default", accounts["Main"]))
    accounts = await accounts_of(harness)
    assert (accounts["Main"].is_default, accounts["Paper"].is_default) == (True, False)

    await harness.press(USER, action("off", accounts["Main"]))
    accounts = await accounts_of(harness)
    assert (accounts["Main"].is_active, accounts["Main"].is_default) == (False, False)

    refused = await harness.press(USER, action("default", accounts["Main"]))
    assert "ACCOUNT_INACTIVE" in texts(refused)[-1]

    await harness.press(USER, action("on", accounts["Main"]))
    assert (await accounts_of(harness))["Main"].is_active is True


async def test_remove_asks_first_then_erases_keys(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "OKX", name="Gone soon")
    account = (await accounts_of(harness))["Gone soon"]

    asked = await harness.press(USER, action("remove", account))
    assert "erased" in plain(texts(asked)[-1])
    assert "Gone soon" in await accounts_of(harness), "nothing is removed before the confirmation"

    done = await harness.press(USER, button_data(asked, "ac:remove_yes:"))
    assert "was removed" in plain(texts(done)[-1])
    assert "Gone soon" not in await accounts_of(harness)
    async with harness.services.uow(read_only=True) as uow:
        assert await uow.credentials.get(account.id) is None
        kept = await uow.accounts.get(account.id)
    assert kept is not None, "the row stays for the order history"
    assert kept.removed_at is not None, "the row stays for the order history"


async def test_paper_account_cannot_be_removed(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    paper = (await accounts_of(harness))["Paper"]
    card = await harness.press(USER, action("open", paper))
    assert not [data for data in buttons(card).values() if data.startswith("ac:remove")]

    forged = await harness.press(USER, action("remove_yes", paper))
    assert "PAPER_NOT_REMOVABLE" in texts(forged)[-1]
    assert "Paper" in await accounts_of(harness)


async def test_other_users_account_is_not_found(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await register(harness, OTHER, username="other")
    await link_account(harness, OTHER, "BYBIT", name="Theirs")
    theirs = (await accounts_of(harness, OTHER))["Theirs"]

    for name in ("open", "rename", "off", "default", "check", "remove", "remove_yes"):
        reply = await harness.press(USER, action(name, theirs))
        sent = [r for r in reply if isinstance(r, SendMessage)]
        assert sent
        assert "NOT_FOUND" in sent[-1].text, name
        assert "Theirs" not in " ".join(texts(reply)), name
    assert (await accounts_of(harness, OTHER))["Theirs"].is_active is True

    made_up = await harness.press(USER, action("open", theirs).replace(theirs.id.hex, uuid.uuid4().hex))
    assert "NOT_FOUND" in texts(made_up)[-1]


async def test_recheck_flags_and_clears_key(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "BYBIT", name="Main")
    account = (await accounts_of(harness))["Main"]
    http = exchanges.http["bybit"]
    http.answer(
        "GET",
        "/v5/account/wallet-balance",
        (200, {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}}),
        times=1,
    )

    failed = await harness.press(USER, action("check", account))
    assert "did not accept the API key" in plain(texts(failed)[-2])
    flagged = (await accounts_of(harness))["Main"]
    assert (flagged.key_status, flagged.key_problem) == (KeyStatus.INVALID, "AUTHENTICATION_FAILED")
    assert "Key …" in plain(texts(failed)[-1])
    assert "rejected" in plain(texts(failed)[-1])

    passed = await harness.press(USER, action("check", account))
    assert "works" in plain(texts(passed)[-2])
    assert (await accounts_of(harness))["Main"].key_status is KeyStatus.VALID


async def test_accounts_list_reports_a_flagged_account(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "MEXC", name="Flagged")
    account = (await accounts_of(harness))["Flagged"]
    await harness.services.key_monitor.flag_invalid(account.id, "IP_NOT_ALLOWED")

    listed = plain(texts(await harness.send(USER, "/accounts"))[0])
    assert "Flagged — MEXC — key rejected" in listed
    assert account.exchange is Exchange.MEXC
