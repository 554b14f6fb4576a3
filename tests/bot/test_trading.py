"""/buy and /sell on PAPER through the real Dispatcher and real SQLite."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from engine.common.clock import ManualClock
from engine.orders.models import OrderStatus
from tests.harness import BotHarness, button_data, plain, register, texts

USER = 42
# A little over the default minimum gap between two orders of one user (RATE_LIMIT_ORDER_GAP_MS=100).
ORDER_GAP = 0.12


async def paper_balances(harness: BotHarness, telegram_id: int) -> dict[str, Decimal]:
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    summary = await harness.services.portfolio.summary(user)
    return {h.asset: h.total for h in summary.accounts[0].holdings}


def alerts(requests: list) -> list[str]:  # type: ignore[type-arg]
    return [r.text for r in requests if isinstance(r, AnswerCallbackQuery) and r.show_alert]


async def order_count(harness: BotHarness, telegram_id: int) -> int:
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    async with harness.services.uow(read_only=True) as uow:
        _, total = await uow.orders.list_for_user(user.id)
    return total


async def test_buy_confirm_fills_at_replayed_price_with_exact_balances(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    card_text = plain(texts(card)[0])
    assert "Confirm the order" in card_text
    assert "Estimated price" in card_text and "Fee" in card_text
    assert "✅ balance" in card_text
    assert await order_count(harness, USER) == 0

    result = await harness.press(USER, button_data(card, "od:ok:"))
    assert "Bought 0.001 BTC" in plain(texts(result)[-1])

    # Replay at the default anchor starts at 2022-01-06 00:00, BTC/USDT open 43451.14.
    # Buy price: 43451.14 * 1.0005 = 43472.86557 -> rounded up to the 0.01 tick.
    price = Decimal("43472.87")
    cost = Decimal("0.001") * price
    fee = cost * Decimal("0.001")
    balances = await paper_balances(harness, USER)
    assert balances["BTC"] == Decimal("0.001")
    assert balances["USDT"] == Decimal("10000") - cost - fee
    assert balances["USDT"] == Decimal("9956.48365713")


async def test_order_is_stored_with_client_order_id_and_fill(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy ETH/USDT 0.01")
    await harness.press(USER, button_data(card, "od:ok:"))

    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    async with harness.services.uow(read_only=True) as uow:
        orders, total = await uow.orders.list_for_user(user.id)
    assert total == 1
    order = orders[0]
    assert order.status is OrderStatus.FILLED
    assert order.client_order_id.startswith("pt") and len(order.client_order_id) == 32
    assert order.symbol == "ETH/USDT"
    assert len(order.fills) == 1
    assert order.fills[0].quantity == Decimal("0.01")
    assert order.filled_quantity == Decimal("0.01")


async def test_sell_after_buy_returns_quote_minus_fees(harness: BotHarness) -> None:
    await register(harness, USER)
    await harness.press(USER, button_data(await harness.send(USER, "/buy BTCUSDT 0.002"), "od:ok:"))
    await asyncio.sleep(ORDER_GAP)
    sold = await harness.press(USER, button_data(await harness.send(USER, "/sell BTCUSDT 0.002"), "od:ok:"))
    assert "Sold 0.002 BTC" in plain(texts(sold)[-1])

    buy_price, sell_price = Decimal("43472.87"), Decimal("43429.41")  # 43451.14 * 0.9995 rounded down
    spent = Decimal("0.002") * buy_price * Decimal("1.001")
    received = Decimal("0.002") * sell_price * Decimal("0.999")
    balances = await paper_balances(harness, USER)
    assert "BTC" not in balances
    assert balances["USDT"] == Decimal("10000") - spent + received


async def test_cancel_sends_nothing(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    cancelled = await harness.press(USER, button_data(card, "od:no:"))
    assert "Nothing was sent" in plain(texts(cancelled)[-1])

    late_confirm = await harness.press(USER, button_data(card, "od:ok:"))
    assert alerts(late_confirm) == ["This order was cancelled. Nothing was sent."]
    assert texts(late_confirm) == []
    assert await order_count(harness, USER) == 0
    assert await paper_balances(harness, USER) == {"USDT": Decimal("10000")}


async def test_confirm_after_timeout_sends_nothing(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    clock.advance(harness.services.settings.trading.order_confirm_timeout_seconds + 1)

    late = await harness.press(USER, button_data(card, "od:ok:"))
    assert "DRAFT_EXPIRED" in texts(late)[-1]
    assert await order_count(harness, USER) == 0


async def test_expired_drafts_are_swept(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    clock.advance(timedelta(minutes=5).total_seconds())
    assert await harness.services.orders.expire_stale_drafts() == 1
    late = await harness.press(USER, button_data(card, "od:ok:"))
    assert alerts(late) == ["This confirmation has expired and nothing was sent. Place the order again."]


async def test_double_confirm_places_one_order(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    confirm = button_data(card, "od:ok:")
    await harness.press(USER, confirm)
    await asyncio.sleep(ORDER_GAP)  # past the rate limiter, so the draft itself must refuse
    second = await harness.press(USER, confirm)
    assert alerts(second) == ["This order was already sent."]
    assert texts(second) == []
    assert await order_count(harness, USER) == 1


async def test_other_users_draft_is_not_found(harness: BotHarness) -> None:
    await register(harness, USER)
    await register(harness, USER + 1, username="mallory")
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    stolen = await harness.press(USER + 1, button_data(card, "od:ok:"))
    assert "NOT_FOUND" in texts(stolen)[-1]
    assert await order_count(harness, USER) == 0


@pytest.mark.parametrize(
    ("command", "code", "fragment"),
    [
        ("/buy BTCUSDT -1", "INVALID_NUMBER", "greater than zero"),
        ("/buy BTCUSDT 0", "INVALID_NUMBER", "greater than zero"),
        ("/buy BTCUSDT abc", "INVALID_NUMBER", "“abc” is not a number"),
        ("/buy BTCUSDT 1e-3", "INVALID_NUMBER", "is not a number"),
        ("/buy BTCUSDT 0,5", "INVALID_NUMBER", "dot as the decimal separator"),
        ("/buy BTCUSDT NaN", "INVALID_NUMBER", "is not a number"),
        ("/buy BTCUSDT 0." + "1" * 30, "INVALID_NUMBER", "too many decimal places"),
        ("/buy BTCUSDT 1" + "0" * 30, "INVALID_NUMBER", "too large"),
        # Rounded down to the 0.00001 step, nothing is left.
        ("/buy BTCUSDT 0.000001", "QUANTITY_BELOW_MIN", "smallest BTC/USDT quantity is 0.00001"),
        ("/buy BTCUSDT 0.00001", "COST_BELOW_MIN", "smallest BTC/USDT order is worth 5"),
        ("/buy FOOUSDT 1", "SYMBOL_UNKNOWN", "Available: ADAUSDT, BTCUSDT"),
        ("/buy BTC-USDT-X 1", "SYMBOL_INVALID", "BTCUSDT or BTC/USDT"),
        ("/buy BTCUSDT 10", "INSUFFICIENT_BALANCE", "largest quantity that would pass: 0.22"),
        ("/sell BTCUSDT 0.001", "INSUFFICIENT_BALANCE", "you have 0 BTC free"),
    ],
)
async def test_bad_input_is_explained_and_changes_nothing(
    harness: BotHarness, command: str, code: str, fragment: str
) -> None:
    await register(harness, USER)
    replies = texts(await harness.send(USER, command))
    assert len(replies) == 1
    assert code in replies[0]
    assert fragment in plain(replies[0])
    assert await order_count(harness, USER) == 0
    assert await paper_balances(harness, USER) == {"USDT": Decimal("10000")}


@pytest.mark.parametrize("command", ["/buy", "/buy BTCUSDT", "/sell BTCUSDT 1 2 3"])
async def test_wrong_argument_count_shows_usage(harness: BotHarness, command: str) -> None:
    await register(harness, USER)
    replies = texts(await harness.send(USER, command))
    assert "Usage" in plain(replies[0])
    assert await order_count(harness, USER) == 0


async def test_refused_card_edit_still_reports_the_fill(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    edit_refused = TelegramBadRequest(
        method=EditMessageText(text="x"), message="Bad Request: message to edit not found"
    )
    harness.session.faults.append((EditMessageText, edit_refused))

    result = await harness.press(USER, button_data(card, "od:ok:"))
    pushed = [r for r in result if isinstance(r, SendMessage) and r.chat_id == USER]
    assert len(pushed) == 1
    assert "Bought 0.001 BTC" in plain(pushed[0].text)
    assert await order_count(harness, USER) == 1


async def test_stale_callback_answer_does_not_stop_the_order(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/buy BTCUSDT 0.001")
    stale = TelegramBadRequest(
        method=AnswerCallbackQuery(callback_query_id="1"),
        message="Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    harness.session.faults.append((AnswerCallbackQuery, stale))

    result = await harness.press(USER, button_data(card, "od:ok:"))
    assert "Bought 0.001 BTC" in plain(texts(result)[-1])
    assert await order_count(harness, USER) == 1


async def test_short_flood_wait_is_retried_for_replies(harness: BotHarness) -> None:
    await register(harness, USER)
    flood = TelegramRetryAfter(
        method=SendMessage(chat_id=USER, text="x"), message="Too Many Requests", retry_after=1
    )
    harness.session.faults.append((SendMessage, flood))

    replies = await harness.send(USER, "/portfolio")
    sent = [r for r in replies if isinstance(r, SendMessage)]
    assert len(sent) == 2  # the refused attempt and the retry
    assert "Portfolio" in plain(sent[-1].text)
