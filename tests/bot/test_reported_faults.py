"""Regression tests for faults found by hostile testing of the first release."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import Chat, Message, Update

from bot.formatting import TELEGRAM_TEXT_LIMIT, esc
from bot.runner import webhook_secret
from bot.settings import Settings
from bot.views.orders import order_result
from engine.common.clock import SystemClock
from engine.common.ids import new_id
from engine.orders.models import Order, OrderSide, OrderStatus, OrderType
from engine.users.models import UserStatus
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, plain, register, texts


async def test_webhook_without_secret_gets_a_random_one(settings: Settings) -> None:
    assert settings.telegram.webhook_secret is None
    first, second = webhook_secret(settings), webhook_secret(settings)
    assert len(first) >= 32 and first != second


async def test_group_chat_messages_are_ignored(harness: BotHarness) -> None:
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=-100123, type="supergroup"),
        from_user=harness.telegram_user(60),
        text="/start",
    )
    await harness.dispatcher.feed_update(harness.bot, Update(update_id=999, message=message))
    assert harness.session.requests == []
    assert await harness.services.users.get_by_telegram_id(60) is None


async def test_suspend_with_other_script_digits_finds_nobody(harness: BotHarness) -> None:
    await register(harness, 31, username="target31")
    reply = texts(await harness.send(ADMIN_ID, "/suspend ٣١", username="boss"))
    assert "NOT_FOUND" in reply[0]
    for reference in ("²", "9" * 30, "@no such", "a%b"):
        assert "NOT_FOUND" in texts(await harness.send(ADMIN_ID, f"/user {reference}", username="boss"))[0]
    user = await harness.services.users.get_by_telegram_id(31)
    assert user is not None and user.status is UserStatus.ACTIVE


async def test_forged_status_action_changes_nothing(harness: BotHarness) -> None:
    await register(harness, 32, username="target32")
    await harness.send(ADMIN_ID, "/suspend 32", username="boss")
    requests = await harness.press(ADMIN_ID, "us:delete:32", username="boss")
    answers = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert answers and "no longer active" in (answers[0].text or "")
    user = await harness.services.users.get_by_telegram_id(32)
    assert user is not None and user.status is UserStatus.SUSPENDED


async def test_audit_page_with_long_reasons_fits_one_message(harness: BotHarness) -> None:
    await register(harness, 33, username="target33")
    for _ in range(10):
        await harness.send(ADMIN_ID, "/suspend 33 " + "x" * 490, username="boss")
        await harness.send(ADMIN_ID, "/activate 33", username="boss")
    page = texts(await harness.send(ADMIN_ID, "/audit", username="boss"))[0]
    assert len(page) <= TELEGRAM_TEXT_LIMIT
    assert "suspended a user" in page


async def test_suspended_alert_shows_no_html_entities(harness: BotHarness) -> None:
    await register(harness, 34, username="target34")
    await harness.send(ADMIN_ID, "/suspend 34 <b>fraud</b> & abuse", username="boss")
    requests = await harness.press(34, "od:ok:" + "0" * 32, username="target34")
    alert = next(r for r in requests if isinstance(r, AnswerCallbackQuery)).text or ""
    assert "<b>fraud</b> & abuse" in alert
    assert "&lt;" not in alert and "&amp;" not in alert


def test_unclosed_bidi_override_cannot_reverse_the_reply() -> None:
    assert esc("evil\u202ename\u2066") == "evilname"
    assert esc("שלום <b>") == "שלום &lt;b&gt;"


async def test_rejected_order_reason_is_localized(harness: BotHarness) -> None:
    await register(harness, 35, username="target35")
    now = SystemClock().now()
    order = Order(
        id=new_id(),
        user_id=new_id(),
        account_id=new_id(),
        client_order_id="pt1",
        symbol="BTC/USDT",
        side=OrderSide.BUY,
        type=OrderType.MARKET,
        quantity=Decimal(1),
        status=OrderStatus.REJECTED,
        created_at=now,
        updated_at=now,
        reject_reason="INSUFFICIENT_FUNDS",
    )
    with harness.services.i18n.context(), harness.services.i18n.use_locale("ru"):
        text = plain(order_result(order, "ru"))
    assert "INSUFFICIENT_FUNDS" not in text
    assert "недостаточно" in text.lower() or "не хватает" in text.lower()


async def test_blocked_user_reply_is_not_an_incident(harness: BotHarness) -> None:
    await register(harness, 36, username="target36")
    blocked = TelegramForbiddenError(
        method=SendMessage(chat_id=36, text="x"), message="Forbidden: bot was blocked by the user"
    )
    harness.session.faults.append((SendMessage, blocked))
    after = await harness.send(36, "/portfolio", username="target36")
    assert [r for r in after if isinstance(r, SendMessage)] == [
        after[0]
    ]  # the refused send, no incident reply
