"""Order forms, /orders, modify and cancel through the real Dispatcher, on PAPER and real SQLite.

The replay starts at the first recorded BTC/USDT candle (open 43451.14), so a
buy limit at 42000 rests until cancelled.
"""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from aiogram.methods import SendMessage

from bot.services import Services
from engine.common.clock import ManualClock
from engine.orders.models import Order, OrderStatus, OrderType
from engine.orders.ports import OrderFilter
from tests.bot.test_hygiene import assert_valid_telegram_html
from tests.harness import BotHarness, button_data, buttons, plain, register, texts

USER = 61
OTHER = 62
ASK = D("43472.87")  # 43451.14 * 1.0005 rounded up to the tick


async def orders_of(harness: BotHarness, telegram_id: int) -> list[Order]:
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    async with harness.services.uow(read_only=True) as uow:
        orders, _ = await uow.orders.list_for_user(user.id, limit=100)
    return orders


async def usdt(harness: BotHarness, telegram_id: int) -> tuple[D, D]:
    """Free and locked USDT of the user's PAPER account."""
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    account = await harness.services.orders.account(user, None)
    entry = (await harness.services.paper.fetch_balance(account.id))["USDT"]
    return entry.free, entry.used


async def place(harness: BotHarness, telegram_id: int, command: str) -> str:
    """Send an order command, press Confirm, and return the result text."""
    card = await harness.send(telegram_id, command)
    result = await harness.press(telegram_id, button_data(card, "od:ok:"))
    return plain(texts(result)[-1])


def short_id(text: str) -> str:
    match = re.search(r"Order ([0-9a-f]{8})", text)
    assert match, text
    return match.group(1)


# ----- quick forms -------------------------------------------------------------------------


async def test_buy_with_price_places_a_resting_limit(harness: BotHarness) -> None:
    await register(harness, USER)
    card = plain(texts(await harness.send(USER, "/buy BTCUSDT 0.01 42000"))[0])
    assert "Buy 0.01 BTC/USDT limit at 42,000 USDT on Paper" in card

    result = await place(harness, USER, "/buy BTCUSDT 0.01 42000")

    assert "is open" in result
    held = D("0.01") * D("42000") * D("1.001")
    assert await usdt(harness, USER) == (D(10000) - held, held)
    statuses = [order.status for order in await orders_of(harness, USER)]
    assert statuses == [OrderStatus.NEW]


async def test_order_command_places_a_stop_limit(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, "/order btc/usdt buy stop_limit 0.01 price=43600 stop=43550 id=myStop1")
    card_text = plain(texts(card)[0])
    assert "stop at 43,550 USDT, then limit at 43,600 USDT" in card_text
    assert "Client order id: myStop1" in card_text

    result = await harness.press(USER, button_data(card, "od:ok:"))

    assert "is open" in plain(texts(result)[-1])
    [order] = await orders_of(harness, USER)
    assert order.type is OrderType.STOP_LIMIT
    assert (order.client_order_id, order.stop_price, order.price) == ("myStop1", D("43550"), D("43600"))


async def test_off_step_quantity_rounded_down(harness: BotHarness) -> None:
    await register(harness, USER)
    card = plain(texts(await harness.send(USER, "/buy BTCUSDT 0.001239"))[0])
    assert "Quantity rounded down to the market's step: 0.001239 → 0.00123" in card
    assert "Buy 0.00123 BTC/USDT at market" in card


async def test_percentage_of_the_balance_rounds_down(harness: BotHarness) -> None:
    await register(harness, USER)
    card = plain(texts(await harness.send(USER, "/buy BTCUSDT 10%"))[0])

    # 1000 USDT at the ask plus the 0.1 % fee, rounded down to 0.00001 BTC.
    expected = (D(1000) / (ASK * D("1.001"))).quantize(D("0.00001"), rounding="ROUND_DOWN")
    assert expected == D("0.02297")
    assert f"10 % of the available balance is {expected}." in card
    assert f"Buy {expected} BTC/USDT at market" in card


# ----- guided form -------------------------------------------------------------------------


async def test_guided_order_ends_at_card(harness: BotHarness) -> None:
    await register(harness, USER)
    asked = await harness.send(USER, "/order")
    assert "Which pair?" in plain(texts(asked)[-1])

    sides = await harness.press(USER, button_data(asked, "of:symbol:BTCUSDT"))
    types = await harness.press(USER, button_data(sides, "of:side:BUY"))
    assert "stop-limit" in buttons(types)
    quantity = await harness.press(USER, button_data(types, "of:type:LIMIT"))
    assert "free: 10,000 USDT" in plain(texts(quantity)[-1])
    price_prompt = await harness.send(USER, "0.01")
    assert "Limit price?" in plain(texts(price_prompt)[-1])
    tif = await harness.send(USER, "42000")
    card = await harness.press(USER, button_data(tif, "of:tif:IOC"))

    card_text = plain(texts(card)[-1])
    assert "Buy 0.01 BTC/USDT limit at 42,000 USDT, IOC on Paper" in card_text
    result = await harness.press(USER, button_data(card, "od:ok:"))
    # An IOC buy far below the market finds nothing to take and expires.
    assert "cancelled: filled 0 BTC of 0.01" in plain(texts(result)[-1])


async def test_guided_order_keeps_step_on_error(harness: BotHarness) -> None:
    await register(harness, USER)
    asked = await harness.send(USER, "/order")
    sides = await harness.press(USER, button_data(asked, "of:symbol:BTCUSDT"))
    types = await harness.press(USER, button_data(sides, "of:side:SELL"))
    await harness.press(USER, button_data(types, "of:type:MARKET"))

    wrong = texts(await harness.send(USER, "lots"))
    assert "“lots” is not a number" in plain(wrong[-1])
    card = await harness.send(USER, "25%")
    # Nothing to sell yet: 25 % of 0 BTC is below the minimum.
    assert "SHARE_TOO_SMALL" in texts(card)[-1]


async def test_cancel_leaves_the_guided_form(harness: BotHarness) -> None:
    await register(harness, USER)
    await harness.send(USER, "/order")
    left = texts(await harness.send(USER, "/cancel"))
    assert "Nothing was saved" in plain(left[-1])
    assert "Unknown command" in plain(texts(await harness.send(USER, "/nonsense"))[-1])


# ----- /orders, modify, cancel -------------------------------------------------------------


async def test_orders_are_paginated_with_buttons(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER)
    for index in range(7):
        await place(harness, USER, f"/buy BTCUSDT 0.001 {40000 + index}")
        clock.advance(1)

    first = await harness.send(USER, "/orders")
    assert "page 1 of 2" in plain(texts(first)[0])
    assert plain(texts(first)[0]).count("limit at") == 5
    second = await harness.press(USER, button_data(first, "ol:1:open:"))
    page_two = plain(texts(second)[-1])
    assert "page 2 of 2" in page_two
    assert page_two.count("limit at") == 2
    # Newest first: the first two orders placed are on page two.
    assert "40,000 USDT" in page_two
    assert "40,001 USDT" in page_two


async def test_order_page_totals(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER)
    for index in range(7):
        await place(harness, USER, f"/buy BTCUSDT 0.001 {40000 + index}")
        clock.advance(1)
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    changes = harness.services.orders.changes
    everything = OrderFilter()

    for offset, expected in ((0, 5), (5, 2), (10, 0)):
        orders, total = await changes.page(user, everything, offset=offset, limit=5)
        assert len(orders) == expected, offset
        assert total == 7, offset

    nothing = OrderFilter(symbol="ETH/USDT")
    assert await changes.page(user, nothing, offset=0, limit=5) == ([], 0)
    assert await changes.page(user, nothing, offset=5, limit=5) == ([], 0)


async def test_orders_filters_by_status_and_side(harness: BotHarness) -> None:
    await register(harness, USER)
    await place(harness, USER, "/buy BTCUSDT 0.001")
    await place(harness, USER, "/buy BTCUSDT 0.001 40000")

    filled = plain(texts(await harness.send(USER, "/orders filled"))[0])
    assert filled.count("at market") == 1
    assert "limit at" not in filled
    sells = plain(texts(await harness.send(USER, "/orders all sell"))[0])
    assert "No orders match" in sells


async def test_details_show_fills_fees_and_checks(harness: BotHarness) -> None:
    await register(harness, USER)
    order_id = short_id(await place(harness, USER, "/buy BTCUSDT 0.001"))
    listed = await harness.send(USER, "/orders filled")

    details = plain(texts(await harness.press(USER, button_data(listed, f"oa:d:{order_id}")))[-1])
    assert f"Order {order_id}" in details
    assert f"0.001 BTC at {ASK:,} USDT" in details
    assert "Pre-trade checks" in details
    assert "✅ balance" in details
    assert "Client order id: pt" in details


async def test_modify_is_refused_for_a_filled_order(harness: BotHarness) -> None:
    await register(harness, USER)
    order_id = short_id(await place(harness, USER, "/buy BTCUSDT 0.001"))
    full_id = next(order.id.hex for order in await orders_of(harness, USER))

    pressed = texts(await harness.press(USER, f"oa:mp:{full_id}"))
    assert "ORDER_NOT_MODIFIABLE" in pressed[-1]
    assert "is filled" in plain(pressed[-1])
    typed = texts(await harness.send(USER, f"/modify {order_id} price=43000"))
    assert "ORDER_NOT_MODIFIABLE" in typed[-1]


async def test_modify_price_through_buttons_moves_the_lock(harness: BotHarness) -> None:
    await register(harness, USER)
    await place(harness, USER, "/buy BTCUSDT 0.01 42000")
    order = (await orders_of(harness, USER))[0]

    menu = await harness.press(USER, f"oa:m:{order.id.hex}")
    prompt = await harness.press(USER, button_data(menu, f"oa:mp:{order.id.hex}"))
    assert "now 42,000" in plain(texts(prompt)[-1])
    card = await harness.send(USER, "42100")
    assert "Price: 42,000 USDT → 42,100 USDT" in plain(texts(card)[-1])
    result = await harness.press(USER, button_data(card, "od:ok:"))

    assert "limit at 42,100 USDT" in plain(texts(result)[-1])
    held = D("0.01") * D("42100") * D("1.001")
    assert await usdt(harness, USER) == (D(10000) - held, held)
    assert [o.price for o in await orders_of(harness, USER)] == [D("42100")]


async def test_cancel_by_short_id_releases_the_balance(harness: BotHarness) -> None:
    await register(harness, USER)
    order_id = short_id(await place(harness, USER, "/buy BTCUSDT 0.01 42000"))

    result = plain(texts(await harness.send(USER, f"/cancel {order_id}"))[-1])

    assert f"Order {order_id} cancelled" in result
    assert await usdt(harness, USER) == (D(10000), D(0))


async def test_cancel_all_asks_first_then_reports_each(harness: BotHarness) -> None:
    await register(harness, USER)
    for price in ("41000", "41500", "42000"):
        await place(harness, USER, f"/buy BTCUSDT 0.001 {price}")

    asked = await harness.send(USER, "/cancel all BTCUSDT")
    assert "Cancel all open BTC/USDT orders (3)?" in plain(texts(asked)[-1])
    assert all(order.status is OrderStatus.NEW for order in await orders_of(harness, USER))

    report = plain(texts(await harness.press(USER, button_data(asked, "ca:BTCUSDT:1")))[-1])
    assert "Done: 3 of 3 succeeded." in report
    assert all(order.status is OrderStatus.CANCELLED for order in await orders_of(harness, USER))
    assert await usdt(harness, USER) == (D(10000), D(0))


async def test_cancel_batch_reports_successes_and_failures(harness: BotHarness) -> None:
    await register(harness, USER)
    first = short_id(await place(harness, USER, "/buy BTCUSDT 0.001 41000"))
    filled = short_id(await place(harness, USER, "/buy BTCUSDT 0.001"))

    report = plain(texts(await harness.send(USER, f"/cancel {first} {filled} 0badc0de"))[-1])

    assert "Done: 1 of 3 succeeded." in report
    assert f"✅ {first}: cancelled" in report
    assert f"❌ {filled}: ORDER_NOT_CANCELLABLE" in report
    assert "❌ 0badc0de: ORDER_NOT_FOUND" in report


async def test_other_users_order_id_is_not_found(harness: BotHarness) -> None:
    await register(harness, USER)
    await register(harness, OTHER, username="mallory")
    order_id = short_id(await place(harness, USER, "/buy BTCUSDT 0.01 42000"))
    full_id = (await orders_of(harness, USER))[0].id.hex

    for reply in (
        texts(await harness.send(OTHER, f"/cancel {order_id}", username="mallory")),
        texts(await harness.send(OTHER, f"/cancel {full_id}", username="mallory")),
        texts(await harness.send(OTHER, f"/modify {order_id} price=41000", username="mallory")),
        texts(await harness.press(OTHER, f"oa:c:{full_id}", username="mallory")),
        texts(await harness.press(OTHER, f"oa:d:{full_id}", username="mallory")),
    ):
        assert "ORDER_NOT_FOUND" in reply[-1]
        assert "42,000" not in plain(reply[-1])
    assert (await orders_of(harness, USER))[0].status is OrderStatus.NEW


# ----- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "code", "fragment"),
    [
        ("/order BTCUSDT buy limit -1 price=42000", "INVALID_NUMBER", "greater than zero"),
        ("/order BTCUSDT buy limit 0 price=42000", "INVALID_NUMBER", "greater than zero"),
        ("/order BTCUSDT buy limit abc price=42000", "INVALID_NUMBER", "“abc” is not a number"),
        ("/order BTCUSDT buy limit 0.01 price=4.2e4", "INVALID_NUMBER", "is not a number"),
        ("/buy BTCUSDT 0.01 42000." + "1" * 19, "INVALID_NUMBER", "too many decimal places"),
        ("/order BTCUSDT buy limit 0.000001 price=42000", "QUANTITY_BELOW_MIN", "smallest BTC/USDT quantity"),
        ("/order BTCUSDT buy limit 0.0001 price=42000", "COST_BELOW_MIN", "worth 5 USDT"),
        ("/order DOGEUSDT buy market 1", "SYMBOL_UNKNOWN", "not traded on this exchange"),
        ("/cancel 1234abcd", "ORDER_NOT_FOUND", "No order 1234abcd among your orders"),
        ("/cancel nonsense!", "ORDER_ID_INVALID", "is not an order id"),
        ("/order BTCUSDT buy market 0.01 price=42000", "PRICE_NOT_ALLOWED", "market order takes no price"),
        ("/order BTCUSDT buy limit 0.01", "PRICE_REQUIRED", "needs a price"),
        ("/order BTCUSDT hold limit 0.01 price=42000", "SIDE_INVALID", "buy or sell"),
        ("/order BTCUSDT buy iceberg 0.01", "ORDER_TYPE_INVALID", "not an order type"),
        ("/order BTCUSDT buy limit 0.01 price=42000 tif=DAY", "TIF_INVALID", "GTC, IOC or FOK"),
        (
            "/order BTCUSDT buy limit 0.01 price=42000 colour=red",
            "ORDER_OPTION_UNKNOWN",
            "not an order option",
        ),
        ("/order BTCUSDT buy limit 0.01 price=42000 id=bad-id", "CLIENT_ORDER_ID_INVALID", "Latin letters"),
        ("/order BTCUSDT buy market 0.01 post", "POST_ONLY_NEEDS_LIMIT", "limit price"),
        ("/order BTCUSDT sell stop 0.001 stop=44000", "STOP_WOULD_TRIGGER", "trigger at once"),
        ("/buy BTCUSDT 150%", "PERCENT_TOO_LARGE", "more than the whole balance"),
        ("/orders from=2026-13-01", "DATE_INVALID", "not a date"),
    ],
)
async def test_bad_order_input_is_explained_and_changes_nothing(
    harness: BotHarness, command: str, code: str, fragment: str
) -> None:
    await register(harness, USER)
    replies = texts(await harness.send(USER, command))
    assert len(replies) == 1
    assert code in replies[0]
    assert fragment in plain(replies[0])
    assert await orders_of(harness, USER) == []
    assert await usdt(harness, USER) == (D(10000), D(0))


async def test_client_order_id_is_unique_per_user(harness: BotHarness) -> None:
    await register(harness, USER)
    await place(harness, USER, "/order BTCUSDT buy limit 0.001 price=41000 id=grid1")

    again = texts(await harness.send(USER, "/order BTCUSDT buy limit 0.001 price=41500 id=grid1"))

    assert "CLIENT_ORDER_ID_TAKEN" in again[-1]
    assert len(await orders_of(harness, USER)) == 1


# ----- messages pushed later ---------------------------------------------------------------


async def test_resting_fill_pushed_to_owner(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER)
    order_id = short_id(await place(harness, USER, "/buy BTCUSDT 0.001 43400"))
    start = len(harness.session.requests)

    clock.advance(300)
    await harness.services.order_sync.match_paper()

    await harness.delivery.drain()
    pushed = [r for r in harness.session.requests[start:] if isinstance(r, SendMessage) and r.chat_id == USER]
    assert len(pushed) == 1
    assert "✅ Bought 0.001 BTC at 43,400 USDT" in plain(pushed[0].text)
    assert order_id in pushed[0].text


async def test_max_slippage_setting_is_saved_and_checked(harness: BotHarness, services: Services) -> None:
    await register(harness, USER)
    menu = await harness.send(USER, "/settings")
    assert "Maximum slippage of market orders: 0.50 %" in plain(texts(menu)[0])
    await harness.press(USER, button_data(menu, "st:slippage"))

    refused = texts(await harness.send(USER, "50"))
    assert "MAX_SLIPPAGE_INVALID" in refused[-1]
    saved = texts(await harness.send(USER, "0.8%"))
    assert "Maximum slippage saved: 0.80 %" in plain(saved[-1])
    user = await services.users.get_by_telegram_id(USER)
    assert user is not None and user.max_slippage == D("0.008")


async def test_hostile_order_input_is_escaped(harness: BotHarness) -> None:
    await register(harness, USER)
    await place(harness, USER, "/buy BTCUSDT 0.001 41000")
    for attack in (
        "/order <b>BTC</b> buy limit 1",
        "/order BTCUSDT buy limit 0.01 price=42000 account=<i>x</i>",
        "/order BTCUSDT buy limit 0.01 price=42000 id=<script>",
        "/cancel <b>1234abcd</b> &amp;",
        "/modify 1234abcd price=<1>",
        "/orders <u>",
        "/orders all account=<b>",
    ):
        for text in texts(await harness.send(USER, attack)):
            assert_valid_telegram_html(text)
    listed = await harness.send(USER, "/orders")
    for text in texts(listed) + texts(await harness.press(USER, button_data(listed, "oa:d:"))):
        assert_valid_telegram_html(text)
