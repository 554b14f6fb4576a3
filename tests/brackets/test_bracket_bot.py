"""/bracket, its card, /brackets and Close through the real Dispatcher, on PAPER and real SQLite.

The clock starts at recorded candle 153 (BTC/USDT open 42757.96, so a market
buy fills at the first ask level, 42779.34).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bot.services import Services
from engine.brackets.models import BracketStatus, CloseReason, LegRole
from engine.common.clock import ManualClock
from engine.errors import PermanentExchangeError
from engine.orders.models import Order, OrderStatus
from tests.brackets.conftest import at_candle, bid, btc_candles, candle_start, run_until
from tests.harness import BotHarness, button_data, buttons, plain, register, texts

USER = 71
OTHER = 72
ENTRY = D("42779.34")
COMMAND = "/bracket BTCUSDT buy 0.01 entry=market sl=42300 tp=42950,43150,43400 split=50,30,20 breakeven"


@pytest.fixture(autouse=True)
def at_entry_candle(clock: ManualClock) -> None:
    at_candle(clock, 153)


async def orders_of(harness: BotHarness, telegram_id: int) -> list[Order]:
    user = await harness.services.users.get_by_telegram_id(telegram_id)
    assert user is not None
    async with harness.services.uow(read_only=True) as uow:
        orders, _ = await uow.orders.list_for_user(user.id, limit=100)
    return orders


async def start(harness: BotHarness, command: str = COMMAND) -> list[str]:
    card = await harness.send(USER, command)
    pressed = await harness.press(USER, button_data(card, "bd:ok:"))
    return [plain(text) for text in texts(pressed)]


async def test_card_shows_risk_and_reward_and_sends_nothing(harness: BotHarness) -> None:
    await register(harness, USER)
    card = plain(texts(await harness.send(USER, COMMAND))[0])

    loss = D("0.01") * (ENTRY - D("42300")) + D("0.01") * (ENTRY + D("42300")) * D("0.001")
    gain_1 = D("0.005") * (D("42950") - ENTRY) - D("0.005") * (ENTRY + D("42950")) * D("0.001")
    assert "Buy 0.01 BTC/USDT at market on Paper" in card
    assert f"Estimated entry: {ENTRY:,} USDT" in card
    assert f"Stop-loss: 42,300 USDT; loss at the stop −{loss:,.2f} USDT" in card
    assert f"1. 42,950 USDT for 0.005 BTC: +{gain_1:,.2f} USDT" in card
    assert "2. 43,150 USDT for 0.003 BTC" in card
    assert "3. 43,400 USDT for 0.002 BTC" in card
    assert "Reward to risk: 0.42" in card
    assert f"Equity at risk: {loss / D(10000) * 100:.2f} %" in card
    assert "moves to the average entry price" in card
    assert "protect the position even while the bot is offline" in card
    assert await orders_of(harness, USER) == []


async def test_confirm_arms_exits_once(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, COMMAND)
    confirm = button_data(card, "bd:ok:")

    result = plain(texts(await harness.press(USER, confirm))[-1])

    assert "Bracket" in result
    assert ": open" in result
    assert f"Entry: 0.01 BTC at an average {ENTRY:,} USDT" in result
    orders = await orders_of(harness, USER)
    legs = sorted(order.bracket_leg or "" for order in orders)
    assert legs == ["entry", "stop:1", "stop:2", "stop:3", "target:1", "target:2", "target:3"]

    again = await harness.press(USER, confirm)
    assert texts(again) == []
    assert len(await orders_of(harness, USER)) == len(orders), "a second press sends nothing"


@pytest.mark.parametrize(
    ("command", "code", "explained"),
    [
        (
            "/bracket BTCUSDT buy 0.01 entry=market sl=43000 tp=44000",
            "BRACKET_STOP_SIDE",
            "For a buy the stop-loss must be below the entry: stop 43,000, entry 42,779.34.",
        ),
        (
            "/bracket BTCUSDT sell 0.01 entry=44000 sl=45000 tp=44500",
            "BRACKET_TARGET_SIDE",
            "For a sell every target must be below the entry: target 1 is 44,500, entry 44,000.",
        ),
        (
            "/bracket BTCUSDT buy 0.01 entry=market sl=42000 tp=44000,43500",
            "BRACKET_TARGET_ORDER",
            "target 2 (43,500) must be above 44,000",
        ),
        (
            "/bracket BTCUSDT buy 0.01 entry=market sl=42000 tp=44000,45000 split=50,40",
            "BRACKET_SPLIT_SUM",
            "add up to 90",
        ),
        (
            "/bracket BTCUSDT buy 0.01 entry=market sl=42000 tp=44000,45000 split=100",
            "BRACKET_SPLIT_COUNT",
            "Shares in the split: 1; targets: 2.",
        ),
        (
            "/bracket BTCUSDT buy 0.0001 entry=market sl=42000 tp=44000",
            "BRACKET_TOO_SMALL",
            "a value of 5 USDT at the stop",
        ),
        (
            "/bracket BTCUSDT sell 0.01 entry=market sl=43000 tp=42000",
            "BRACKET_SHORT_NEEDS_HOLDING",
            "You hold 0 BTC free and the bracket sells 0.01.",
        ),
        (
            "/bracket BTCUSDT buy 0.01 entry=market sl=42000 tp=44000 trail=1",
            "BRACKET_OPTION_UNKNOWN",
            "“trail=1” is not a bracket option",
        ),
        (
            "/bracket BTCUSDT buy 0.01 entry=market sl=42000 tp=44000,45000,46000,47000",
            "BRACKET_TARGET_COUNT",
            "1 to 3 targets",
        ),
    ],
)
async def test_bad_bracket_is_explained_and_changes_nothing(
    harness: BotHarness, command: str, code: str, explained: str
) -> None:
    await register(harness, USER)
    reply = plain(texts(await harness.send(USER, command))[-1])
    assert code in reply
    assert explained in reply
    assert await orders_of(harness, USER) == []


async def test_usage_when_parts_are_missing(harness: BotHarness) -> None:
    await register(harness, USER)
    reply = plain(texts(await harness.send(USER, "/bracket BTCUSDT buy 0.01 sl=42000"))[-1])
    assert reply.startswith("Usage: /bracket SYMBOL SIDE QTY entry=PRICE|market")


async def test_small_slices_merge_into_nearer_targets(harness: BotHarness) -> None:
    await register(harness, USER)
    card = plain(
        texts(
            await harness.send(USER, "/bracket BTCUSDT buy 0.0003 entry=market sl=42000 tp=43000,43500,44000")
        )[0]
    )
    # Each 0.0001 BTC slice is worth about 4.2 USDT at the stop, under the 5 USDT minimum.
    assert "The share of target 3 (0.0001 BTC) is below the market's minimum, so it goes to target 2." in card
    assert "The share of target 1 (0.0001 BTC) is below the market's minimum, so it goes to target 2." in card
    assert "2. 43,500 USDT for 0.0003 BTC" in card
    assert "1. 43,000 USDT" not in card


async def test_guided_form_builds_the_same_card(harness: BotHarness) -> None:
    await register(harness, USER)
    steps = [
        ("send", "/bracket", "Which pair?"),
        ("press", "bf:symbol:BTCUSDT", "buy and sell higher"),
        ("press", "bf:side:BUY", "How much BTC?"),
        ("send", "0.01", "Entry: press Market"),
        ("press", "bf:entry:market", "Stop-loss price?"),
        ("send", "43000", "BRACKET_STOP_SIDE"),
        ("send", "42300", "Take-profit targets?"),
        ("send", "42950,43150,43400", "How to split"),
        ("press", "bf:split:50,30,20", "Move the stop to the average entry price"),
        ("press", "bf:breakeven:yes", "Where should the exits live?"),
    ]
    for kind, value, expected in steps:
        sent = await (harness.send(USER, value) if kind == "send" else harness.press(USER, value))
        assert expected in plain(texts(sent)[-1]), (value, texts(sent))
    card = await harness.press(USER, "bf:exits:synthetic")
    text = plain(texts(card)[-1])
    assert "Confirm the bracket" in text
    assert "3. 43,400 USDT for 0.002 BTC" in text
    assert "works only while the bot runs" in text
    assert button_data(card, "bd:ok:")


async def test_close_from_brackets_sells_at_market(harness: BotHarness) -> None:
    await register(harness, USER)
    await start(harness)
    listing = await harness.send(USER, "/brackets")
    assert "Buy BTC/USDT: open, open 0.01 BTC, stop 42,300 USDT" in plain(texts(listing)[-1])

    ask = await harness.press(USER, button_data(listing, "bk:c:"))
    assert "the open 0.01 BTC is sold at market" in plain(texts(ask)[-1])
    closed = await harness.press(USER, button_data(ask, "bk:cy:"))

    text = "\n".join(plain(item) for item in texts(closed))
    assert "Closed by you." in text
    assert "Bracket" in text
    assert "closed by you. Result: −" in text, "the close is also pushed with its result"
    orders = await orders_of(harness, USER)
    assert [order.status for order in orders if order.bracket_leg == "close"] == [OrderStatus.FILLED]
    assert all(not order.status.is_open for order in orders)
    empty = await harness.send(USER, "/brackets")
    assert "No bracket is running" in plain(texts(empty)[-1])
    again = await harness.press(USER, button_data(listing, "bk:c:"))
    assert "BRACKET_NOT_CLOSABLE" in plain(texts(again)[-1]), "an old Close button asks nothing"


async def test_buttons_of_another_user_find_nothing(harness: BotHarness) -> None:
    await register(harness, USER)
    await register(harness, OTHER, username="other")
    card = await harness.send(USER, COMMAND)
    draft = button_data(card, "bd:ok:").removeprefix("bd:ok:")

    stolen = await harness.press(OTHER, f"bd:ok:{draft}", username="other")
    assert "NOT_FOUND" in plain(texts(stolen)[-1])
    as_order = await harness.press(USER, f"od:ok:{draft}")
    assert "NOT_FOUND" in plain(texts(as_order)[-1]), "a bracket's draft is not an order's"
    assert await orders_of(harness, USER) == []

    await harness.press(USER, f"bd:ok:{draft}")
    listing = await harness.send(USER, "/brackets")
    close = button_data(listing, "bk:c:").replace("bk:c:", "bk:cy:")
    refused = await harness.press(OTHER, close, username="other")
    assert "NOT_FOUND" in plain(texts(refused)[-1])
    assert all(order.status is not OrderStatus.CANCELLED for order in await orders_of(harness, USER))


async def test_exit_legs_are_kept_out_of_order_commands(harness: BotHarness) -> None:
    await register(harness, USER)
    await start(harness)
    stop_leg = next(order for order in await orders_of(harness, USER) if order.bracket_leg == "stop:1")

    listing = await harness.send(USER, "/orders")
    marks = buttons(listing)
    assert "🎯" in marks
    assert f"oa:c:{stop_leg.id.hex}" not in marks.values()
    refused = plain(texts(await harness.send(USER, f"/cancel {stop_leg.short_id}"))[-1])
    assert "BRACKET_LEG" in refused
    modify = plain(texts(await harness.send(USER, f"/modify {stop_leg.short_id} stop=42000"))[-1])
    assert "BRACKET_LEG" in modify


async def test_cancel_all_leaves_bracket_exits(harness: BotHarness) -> None:
    await register(harness, USER)
    await start(harness)
    await harness.press(USER, button_data(await harness.send(USER, "/buy BTCUSDT 0.001 40000"), "od:ok:"))

    ask = await harness.send(USER, "/cancel all")
    done = await harness.press(USER, button_data(ask, "ca:"))

    question = plain(texts(ask)[-1])
    assert "Cancel all open orders (1)?" in question
    assert "Bracket exits (6) stay in place" in question
    assert "Done: 1 of 1 succeeded" in plain(texts(done)[-1])
    exits = [order for order in await orders_of(harness, USER) if order.is_bracket_exit]
    assert len(exits) == 6
    assert all(order.status.is_open for order in exits)


async def test_bracket_entry_cannot_be_modified(harness: BotHarness) -> None:
    await register(harness, USER)
    card = await harness.send(USER, COMMAND.replace("market", "42500"))
    await harness.press(USER, button_data(card, "bd:ok:"))
    entry = next(order for order in await orders_of(harness, USER) if order.bracket_leg == "entry")

    refused = plain(texts(await harness.send(USER, f"/modify {entry.short_id} price=41000"))[-1])

    assert "BRACKET_ENTRY" in refused
    assert "is the entry of bracket" in refused


async def test_steps_are_pushed_in_the_user_language(harness: BotHarness, clock: ManualClock) -> None:
    await register(harness, USER)
    await start(harness)
    start_mark = len(harness.session.requests)

    await run_until(harness.services, clock, [candle_start(index) for index in range(154, 157)])
    await harness.delivery.drain()

    pushed = [plain(text) for text in texts(harness.session.requests[start_mark:])]
    assert any("target 1 hit, 0.005 BTC sold at 42,950 USDT. Realized +" in text for text in pushed), pushed
    assert any(f"stop moved to breakeven {ENTRY:,} USDT for the open 0.005 BTC" in text for text in pushed)
    assert not any(text.startswith("✅ Sold") for text in pushed), "legs are not pushed one by one"


async def test_refused_exits_tell_the_user(
    harness: BotHarness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object, **kwargs: object) -> None:
        raise PermanentExchangeError("simulated refusal", reason="INSUFFICIENT_LIQUIDITY")

    monkeypatch.setattr(services.paper, "create_oco", refuse)
    await register(harness, USER)
    shown = await start(harness)
    await harness.delivery.drain()

    text = "\n".join(shown)
    assert "Native exits were rejected: INSUFFICIENT_LIQUIDITY" in text
    assert "works only while the bot runs" in text
    user = await services.users.get_by_telegram_id(USER)
    assert user is not None
    (view,) = await services.brackets.active(user)
    assert view.bracket.status is BracketStatus.OPEN
    assert view.position.live_exits(LegRole.STOP) == []


async def test_watched_stop_sells_everything_at_market(harness: BotHarness, clock: ManualClock) -> None:
    """A watched bracket sees only the prices at its passes: a target crossed between two passes is missed."""
    await register(harness, USER)
    await start(harness, COMMAND + " exits=synthetic")
    first_below = next(index for index in range(154, 2000) if btc_candles()[index].open <= D("42300"))
    assert max(candle.high for candle in btc_candles()[154:first_below]) >= D("42950"), "target 1 was crossed"
    await run_until(harness.services, clock, [candle_start(first_below)])

    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    (bracket,) = await harness.services.brackets.recent(user)
    view = await harness.services.brackets.view(user, bracket.id)
    assert view.bracket.status is BracketStatus.CLOSED
    assert view.bracket.close_reason is CloseReason.STOP
    assert view.position.exited_by_targets() == [D(0), D(0), D(0)]
    (stop_exit,) = [item.order for item in view.position.exits(LegRole.STOP)]
    assert stop_exit.filled_quantity == D("0.01")
    assert stop_exit.average_price == bid(btc_candles()[first_below].open)


async def test_marketable_limit_checked_at_fill(harness: BotHarness) -> None:
    await register(harness, USER)

    refused = texts(await harness.send(USER, "/bracket BTCUSDT buy 0.01 entry=50000 sl=45000 tp=51000"))
    accepted = await harness.send(USER, "/bracket BTCUSDT buy 0.01 entry=50000 sl=42300 tp=51000")
    card = plain(texts(accepted)[0])

    assert "BRACKET_STOP_SIDE" in refused[0]
    loss = D("0.01") * (ENTRY - D("42300")) + D("0.01") * (ENTRY + D("42300")) * D("0.001")
    assert f"Stop-loss: 42,300 USDT; loss at the stop −{loss:,.2f} USDT" in card
    assert f"Loss at the stop: {loss:,.2f} USDT" in card


async def test_watched_stop_sells_what_is_held(
    harness: BotHarness, clock: ManualClock
) -> None:
    await register(harness, USER, profile="ULTRA_HIGH")
    command = "/bracket BTCUSDT buy 0.01 entry=market sl=42300 tp=43400 exits=synthetic"
    card = await harness.send(USER, command)
    await harness.press(USER, button_data(card, "bd:ok:"))
    sale = await harness.send(USER, "/sell BTCUSDT 0.004")
    await harness.press(USER, button_data(sale, "od:ok:"))

    below = next(i for i in range(154, 2000) if btc_candles()[i].open <= D("42300"))
    await run_until(harness.services, clock, [candle_start(below), candle_start(below + 1)])

    orders = await orders_of(harness, USER)
    stop_exits = [o for o in orders if o.bracket_leg == "stop" and o.status is OrderStatus.FILLED]
    assert [order.filled_quantity for order in stop_exits] == [D("0.006")]
    replies = [plain(text) for text in texts(await harness.send(USER, "/positions"))]
    assert any("No open positions" in reply for reply in replies)


async def test_card_warns_of_losing_target(harness: BotHarness) -> None:
    await register(harness, USER)

    sent = await harness.send(USER, "/bracket BTCUSDT buy 0.01 entry=market sl=42779.33 tp=42779.35")
    card = plain(texts(sent)[0])

    assert "Target 1 gains nothing after fees" in card
    assert "Reward to risk: −1.00" in card


async def test_card_names_zero_share_target(harness: BotHarness) -> None:
    await register(harness, USER)

    command = "/bracket BTCUSDT buy 0.0002 entry=market sl=42300 tp=42950,43150,43400 split=1,1,98"
    card = plain(texts(await harness.send(USER, command))[0])

    assert "Target 2 gets no quantity: its share rounds to zero." in card
