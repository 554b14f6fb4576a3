"""A key that stops working is found on its next use or by the scheduled check, flagged, and notified once."""

from __future__ import annotations

from aiogram.methods import SendMessage

from bot.scheduler import build_scheduler
from engine.accounts.models import Account, KeyStatus
from engine.errors import PermanentExchangeError
from tests.bot.linking import link_account
from tests.fakes.venues import FakeExchanges
from tests.harness import BotHarness, plain, register, texts

USER = 730
REVOKED = (200, {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}})


async def live_account(harness: BotHarness) -> Account:
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    return next(a for a in await harness.services.accounts.list_accounts(user) if not a.is_paper)


async def pushed(harness: BotHarness, start: int) -> list[str]:
    """Deliver what the outbox holds, then return the texts sent since ``start``."""
    await harness.delivery.drain()
    return [plain(r.text) for r in harness.session.requests[start:] if isinstance(r, SendMessage)]


async def test_scheduled_check_flags_revoked_key(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "BYBIT", name="Main")
    exchanges.http["bybit"].answer("GET", "/v5/account/wallet-balance", REVOKED)
    start = len(harness.session.requests)

    assert await harness.services.key_monitor.check_all() == 1
    assert await harness.services.key_monitor.check_all() == 0, "a flagged account is not checked again"

    messages = await pushed(harness, start)
    assert len(messages) == 1
    assert "Bybit rejected the API key of your account “Main”" in messages[0]
    assert "Re-check keys" in messages[0]
    account = await live_account(harness)
    assert (account.key_status, account.key_problem) == (KeyStatus.INVALID, "AUTHENTICATION_FAILED")


async def test_scheduled_check_leaves_a_working_key_alone(
    harness: BotHarness, exchanges: FakeExchanges
) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "OKX", name="Main")
    before = await live_account(harness)
    harness.services.clock.advance(3600)  # type: ignore[attr-defined]
    start = len(harness.session.requests)

    assert await harness.services.key_monitor.check_all() == 0
    after = await live_account(harness)
    assert after.key_status is KeyStatus.VALID
    assert after.key_checked_at is not None
    assert before.key_checked_at is not None
    assert after.key_checked_at > before.key_checked_at
    assert await pushed(harness, start) == []


async def test_network_failure_does_not_flag(harness: BotHarness, exchanges: FakeExchanges) -> None:
    import ccxt.async_support as ccxt

    await register(harness, USER)
    await link_account(harness, USER, "MEXC", name="Main")
    exchanges.http["mexc"].answer("GET", "/api/v3/account", ccxt.RequestTimeout("timed out"))
    assert await harness.services.key_monitor.check_all() == 0
    assert (await live_account(harness)).key_status is KeyStatus.VALID


async def test_rejection_on_next_use_flags_key(harness: BotHarness, exchanges: FakeExchanges) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "BYBIT", name="Main")
    exchanges.http["bybit"].answer("GET", "/v5/account/wallet-balance", REVOKED)
    start = len(harness.session.requests)

    replies = [plain(text) for text in texts(await harness.send(USER, "/portfolio"))]
    portfolio = next(text for text in replies if "Portfolio" in text)
    assert "Main" in portfolio, "the portfolio still shows every account"
    assert "Paper" in portfolio, "the portfolio still shows every account"
    await harness.send(USER, "/portfolio")

    alerts = [m for m in await pushed(harness, start) if "rejected the API key" in m]
    assert len(alerts) == 1
    account = await live_account(harness)
    assert account.key_status is KeyStatus.INVALID


async def test_flagged_account_is_skipped_and_refuses_orders(
    harness: BotHarness, exchanges: FakeExchanges
) -> None:
    await register(harness, USER)
    await link_account(harness, USER, "BINANCE", name="Main")
    account = await live_account(harness)
    await harness.services.key_monitor.flag_invalid(account.id, "KEY_REJECTED")
    exchanges.http["binance"].requests.clear()

    await harness.services.key_monitor.check_all()
    assert exchanges.http["binance"].requests == [], "jobs skip the account until it is re-checked"
    try:
        await harness.services.gateways.gateway_for(account)
    except PermanentExchangeError as error:
        assert error.reason == "KEY_INVALID"
    else:
        raise AssertionError("a flagged account still got a gateway")

    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    await harness.services.accounts.set_default(user, account.id)
    replies = [plain(text) for text in texts(await harness.send(USER, "/buy BTCUSDT 0.001"))]
    refused = next(text for text in replies if "KEY_INVALID" in text)
    assert "Re-check keys" in refused


def test_key_check_job_interval(harness: BotHarness) -> None:
    harness.services.settings.exchanges.key_check_interval_minutes = 15
    scheduler = build_scheduler(harness.services)
    job = scheduler.get_job("check_exchange_keys")
    assert job is not None
    assert job.trigger.interval.total_seconds() == 15 * 60
