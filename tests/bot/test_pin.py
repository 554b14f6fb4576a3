"""The trading PIN through the real Dispatcher: setting it, the guard on live orders and account and
limit changes, the lockout after wrong PINs, changing and removing it, and the admin's reset."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime

import pytest
from aiogram.methods import DeleteMessage
from aiogram.types import Chat, Message, Update

from bot.handlers.user.pin import delete_secret_message
from engine.common.clock import ManualClock
from engine.security.service import Verdict
from tests.bot.linking import link_account
from tests.conftest import ADMIN_ID
from tests.fakes.venues import FakeExchanges
from tests.harness import BotHarness, button_data, plain, register, texts
from tests.security.support import database_path

USER = 720
PIN = "480271"
WRONG = "111293"


async def set_pin(harness: BotHarness, telegram_id: int = USER, pin: str = PIN) -> None:
    await harness.press(telegram_id, "pn:set")
    await harness.send(telegram_id, pin)
    done = await harness.send(telegram_id, pin)
    assert "The PIN is set" in plain(texts(done)[-1])


async def live_card(harness: BotHarness, telegram_id: int = USER) -> str:
    """Show a live (BINANCE) sell for confirmation; return its Confirm button's data."""
    card = await harness.send(telegram_id, "/order BTCUSDT sell market 0.001 account=Main")
    return button_data(card, "od:ok:")


async def order_count(harness: BotHarness, telegram_id: int = USER) -> int:
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    async with harness.services.uow(read_only=True) as uow:
        return (await uow.orders.list_for_user(user.id))[1]


def deleted(requests: list) -> int:  # type: ignore[type-arg]
    return sum(isinstance(request, DeleteMessage) for request in requests)


@pytest.fixture
async def linked(harness: BotHarness, exchanges: FakeExchanges) -> BotHarness:
    await register(harness, USER)
    assert "✅ Linked" in plain(texts(await link_account(harness, USER, "BINANCE"))[-1])
    return harness


async def test_pin_is_stored_as_sealed_scrypt_hash(harness: BotHarness) -> None:
    await register(harness, USER)
    await harness.press(USER, "pn:set")
    first, second = await harness.send(USER, PIN), await harness.send(USER, PIN)
    assert deleted(first) == 1
    assert deleted(second) == 1

    with sqlite3.connect(database_path(harness.services)) as connection:
        row = connection.execute(
            "SELECT sealed_hash, salt, scrypt_n, scrypt_r, scrypt_p FROM user_pins"
        ).fetchone()
    sealed, salt, n, r, p = row
    assert (n, r, p) == (2**14, 8, 1)
    assert len(bytes.fromhex(salt)) == 16
    assert PIN not in sealed
    assert harness.services.vault.open(sealed).reveal() != PIN  # the vault contains the hash, not the PIN
    assert PIN.encode() not in database_path(harness.services).read_bytes()


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("１２３４５", "PIN_FORMAT"),
        ("12a4", "PIN_FORMAT"),
        ("123", "PIN_FORMAT"),
        ("1" * 13, "PIN_FORMAT"),
        ("0000", "PIN_TOO_SIMPLE"),
        ("123456", "PIN_TOO_SIMPLE"),
        ("9876", "PIN_TOO_SIMPLE"),
    ],
)
async def test_bad_new_pin_is_refused_and_deleted(harness: BotHarness, typed: str, code: str) -> None:
    await register(harness, USER)
    await harness.press(USER, "pn:set")
    reply = await harness.send(USER, typed)
    assert deleted(reply) == 1
    assert code in texts(reply)[-1]
    assert typed not in texts(reply)[-1]
    status = await harness.services.pins.status(await harness.services.users.get_by_telegram_id(USER))
    assert status.state == "NOT_SET"


async def test_paper_order_never_asks_for_the_pin(harness: BotHarness) -> None:
    await register(harness, USER)
    await set_pin(harness)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    result = await harness.press(USER, button_data(card, "od:ok:"))
    assert "Bought 0.001 BTC" in plain(texts(result)[-1])


async def test_live_order_waits_for_the_pin_then_runs(linked: BotHarness) -> None:
    harness = linked
    await set_pin(harness)
    confirm = await live_card(harness)

    asked = await harness.press(USER, confirm)
    assert "live exchange account" in plain(texts(asked)[-1])
    assert await order_count(harness) == 0

    wrong = await harness.send(USER, WRONG)
    assert deleted(wrong) == 1
    assert "Wrong PIN. 4 attempts left" in plain(texts(wrong)[-1])
    assert await order_count(harness) == 0

    right = await harness.send(USER, PIN)
    assert deleted(right) == 1
    assert "PIN accepted" in plain(texts(right)[0])
    assert "Sold 0.001 BTC" in plain(texts(right)[-1])
    assert await order_count(harness) == 1

    # Within the session the next live order runs at once; a repeated press sends nothing.
    assert "already sent" in str(await harness.press(USER, confirm))
    again = await harness.press(USER, await live_card(harness))
    assert "Sold 0.001 BTC" in plain(texts(again)[-1])
    assert await order_count(harness) == 2


async def test_session_and_prompt_expire(linked: BotHarness, clock: ManualClock) -> None:
    harness = linked
    await set_pin(harness)
    await harness.press(USER, await live_card(harness))
    await harness.send(USER, PIN)

    clock.advance(harness.services.settings.pin.session_seconds + 1)
    asked = await harness.press(USER, await live_card(harness))
    assert "live exchange account" in plain(texts(asked)[-1])
    clock.advance(harness.services.settings.pin.prompt_seconds + 1)
    late = await harness.send(USER, PIN)
    assert deleted(late) == 1
    assert "expired and nothing was done" in plain(texts(late)[-1])
    assert await order_count(harness) == 1


async def test_five_wrong_pins_lock_guarded_actions(
    linked: BotHarness, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    harness = linked
    caplog.set_level(logging.DEBUG)
    await set_pin(harness)
    await harness.press(USER, await live_card(harness))
    for _ in range(4):
        await harness.send(USER, WRONG)
    locked = await harness.send(USER, WRONG)
    assert "Too many wrong PINs" in plain(texts(locked)[-1])
    assert any("5 wrong PINs in a row" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        assert WRONG not in record.getMessage()
        assert PIN not in record.getMessage()

    # Locked: live orders, /link and limit changes are refused with the end of the lockout.
    refused = await harness.press(USER, await live_card(harness))
    assert "locked until" in str(refused)
    assert "locked until" in plain(texts(await harness.send(USER, "/link"))[-1])
    assert "locked until" in str(await harness.press(USER, "rl:edit:max_position"))
    assert await order_count(harness) == 0

    clock.advance(harness.services.settings.pin.lockout_minutes * 60 + 1)
    await harness.press(USER, await live_card(harness))
    assert "Sold 0.001 BTC" in plain(texts(await harness.send(USER, PIN))[-1])


async def test_concurrent_wrong_pins_all_count(harness: BotHarness) -> None:
    await register(harness, USER)
    await set_pin(harness)
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    attempts = await asyncio.gather(*(harness.services.pins.verify(user, _secret(WRONG)) for _ in range(8)))
    verdicts = [attempt.verdict for attempt in attempts]
    assert verdicts.count(Verdict.WRONG) == 4
    assert verdicts.count(Verdict.LOCKED) == 4
    assert sum(attempt.just_locked for attempt in attempts) == 1

    assert (await harness.services.pins.verify(user, _secret(PIN))).verdict is Verdict.LOCKED

    # The lockout guards live actions only: PAPER trading goes on.
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    assert "Bought 0.001 BTC" in plain(texts(await harness.press(USER, button_data(card, "od:ok:")))[-1])


async def test_link_removal_and_limits_ask_for_the_pin(linked: BotHarness) -> None:
    harness = linked
    await set_pin(harness)
    account = next(
        a for a in await harness.services.accounts.list_accounts(await _user(harness)) if not a.is_paper
    )

    asked = await harness.press(USER, f"ac:remove_yes:{account.id.hex}")
    assert "removing an exchange account" in plain(texts(asked)[-1])
    removed = await harness.send(USER, PIN)
    assert "was removed" in plain(texts(removed)[-1])

    # The session from that PIN covers the next guarded actions; after it ends they ask again.
    linked_again = await harness.send(USER, "/link")
    assert "Which exchange" in plain(texts(linked_again)[-1])
    harness.services.clock.advance(harness.services.settings.pin.session_seconds + 1)  # type: ignore[attr-defined]
    for ask in (
        harness.press(USER, "rp:HIGH:set"),
        harness.press(USER, "rl:edit:max_position"),
        harness.press(USER, "rl:reset:"),
        harness.send(USER, "/link"),
    ):
        assert "🔐" in texts(await ask)[-1]
        await harness.send(USER, "/cancel")
    assert (await _user(harness)).risk_profile == "MEDIUM"


async def test_change_and_remove_need_the_current_pin(harness: BotHarness) -> None:
    await register(harness, USER)
    await set_pin(harness)

    await harness.press(USER, "pn:change")
    assert "Wrong PIN" in plain(texts(await harness.send(USER, WRONG))[-1])
    await harness.send(USER, PIN)
    await harness.send(USER, "730461")
    assert "PIN is changed" in plain(texts(await harness.send(USER, "730461"))[-1])

    await harness.press(USER, "pn:remove")
    assert "Wrong PIN" in plain(texts(await harness.send(USER, PIN))[-1])
    assert "PIN is removed" in plain(texts(await harness.send(USER, "730461"))[-1])
    assert (await harness.services.pins.status(await _user(harness))).state == "NOT_SET"


async def test_admin_resets_a_forgotten_pin(harness: BotHarness) -> None:
    await register(harness, USER)
    await register(harness, USER + 1, username="other")
    await set_pin(harness)

    refused = await harness.send(USER + 1, f"/resetpin {USER}", username="other")
    assert plain(texts(refused)[-1]) == "Unknown command. /help lists what I can do."
    assert (await harness.services.pins.status(await _user(harness))).state == "REQUIRED"

    done = await harness.send(ADMIN_ID, f"/resetpin {USER}", username="boss")
    assert "is removed" in plain(texts(done)[0])
    assert any("removed your trading PIN" in plain(text) for text in texts(done))
    assert (await harness.services.pins.status(await _user(harness))).state == "NOT_SET"
    audit = plain(texts(await harness.send(ADMIN_ID, "/audit", username="boss"))[0])
    assert "reset a user's trading PIN" in audit


async def test_admin_limit_change_asks_for_the_admins_own_pin(harness: BotHarness) -> None:
    await register(harness, ADMIN_ID, username="boss")
    await set_pin(harness, ADMIN_ID)
    asked = await harness.send(ADMIN_ID, "/limits MEDIUM max_position=0.25", username="boss")
    assert "admin action" in plain(texts(asked)[-1])
    done = await harness.send(ADMIN_ID, PIN, username="boss")
    assert "limits changed" in plain(texts(done)[-1])


async def test_undeletable_pin_message_is_reported(harness: BotHarness) -> None:
    from aiogram.exceptions import TelegramBadRequest

    await register(harness, USER)
    await harness.press(USER, "pn:set")
    harness.session.faults.append(
        (DeleteMessage, TelegramBadRequest(method=DeleteMessage(chat_id=USER, message_id=1), message="no"))
    )
    reply = await harness.send(USER, PIN)
    assert "delete it yourself" in plain(texts(reply)[0])
    assert delete_secret_message is not None


async def _user(harness: BotHarness):  # type: ignore[no-untyped-def]
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    return user


def _secret(text: str):  # type: ignore[no-untyped-def]
    from engine.common.secrets import Secret

    return Secret(text)


async def test_live_bracket_waits_for_the_pin(linked: BotHarness) -> None:
    harness = linked
    await set_pin(harness)
    card = await harness.send(USER, "/bracket BTCUSDT sell 0.001 entry=45000 sl=46000 tp=44000 account=Main")

    asked = await harness.press(USER, button_data(card, "bd:ok:"))
    assert "live exchange account" in plain(texts(asked)[-1])
    assert await order_count(harness) == 0

    right = await harness.send(USER, PIN)
    assert "PIN accepted" in plain(texts(right)[0])
    assert "Bracket" in plain(texts(right)[-1])
    assert await order_count(harness) == 1  # the entry; exits follow its fill


async def test_guarded_command_in_a_caption_asks_for_the_pin(harness: BotHarness) -> None:
    await register(harness, USER)
    await set_pin(harness)
    harness.services.clock.advance(harness.services.settings.pin.session_seconds + 1)  # type: ignore[attr-defined]
    photo = Message(
        message_id=900,
        date=datetime.now(UTC),
        chat=Chat(id=USER, type="private"),
        from_user=harness.telegram_user(USER),
        caption="/link",
        photo=[],
    )
    start = len(harness.session.requests)
    await harness.dispatcher.feed_update(harness.bot, Update(update_id=900, message=photo))

    assert "linking an exchange account" in plain(texts(harness.session.requests[start:])[-1])
    assert "Which exchange" in plain(texts(await harness.send(USER, PIN))[-1])
