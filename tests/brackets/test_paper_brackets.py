"""Brackets on PAPER over recorded BTC/USDT candles, with native (OCO) and watched exits.

The long bracket enters at market at the open of candle 153 (2022-01-06
12:45 UTC, open 42757.96) with a stop at 42300 and targets at 42950,
43150 and 43400 split 50/30/20, and the stop moving to breakeven after
the first target. The recorded prices reach the first target in candle
155, the second in candle 156, never the third, and fall back through the
average entry price in candle 179. Every expected price below is derived
from those recorded values and PAPER's rules: a market buy pays the first
ask level, ``open * 1.0005`` rounded up to the tick; a market sell or a
fired stop gets the first bid level, ``price * 0.9995`` rounded down; a
resting limit fills at its own price; every fill pays 0.1 %.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from bot.services import Services
from engine.brackets.models import Bracket, BracketStatus, CloseReason, ExitMode, LegRole
from engine.brackets.plan import BracketRequest
from engine.brackets.service import BracketView
from engine.common.clock import ManualClock
from engine.events import Event
from engine.orders.models import OrderRequest, OrderSide, OrderStatus, OrderType
from tests.brackets.conftest import (
    FEE,
    ServicesFactory,
    ask,
    at_candle,
    bid,
    bracket_trader,
    btc_candles,
    candle_start,
    run_until,
)
from tests.paper.conftest import balances

BTC = "BTC/USDT"
ENTRY_CANDLE = 153
STOP, T1, T2, T3 = D("42300"), D("42950"), D("43150"), D("43400")
QUANTITY = D("0.01")
SIZES = (D("0.005"), D("0.003"), D("0.002"))
LAST_CANDLE = 182


def long_request(exit_mode: ExitMode | None = None) -> BracketRequest:
    return BracketRequest(
        symbol=BTC,
        side=OrderSide.BUY,
        quantity=QUANTITY,
        entry_price=None,
        stop_price=STOP,
        targets=(T1, T2, T3),
        split=(D(50), D(30), D(20)),
        breakeven=True,
        exit_mode=exit_mode,
    )


def first_candle(start: int, reached) -> int:  # type: ignore[no-untyped-def]
    """The first candle from ``start`` on whose recorded range satisfies ``reached``."""
    return next(index for index in range(start, len(btc_candles())) if reached(btc_candles()[index]))


async def start_bracket(
    services: Services, request: BracketRequest, telegram_id: int = 7
) -> tuple[Bracket, list[Event]]:
    user, _account = await bracket_trader(services, telegram_id)
    events: list[Event] = []

    async def capture(event: Event) -> None:
        events.append(event)

    services.bus.subscribe("*", capture)
    preview = await services.brackets.preview(user, request)
    return await services.brackets.confirm(user, preview.draft.id), events


async def view_of(services: Services, bracket: Bracket) -> BracketView:
    async with services.uow(read_only=True) as uow:
        user = await uow.users.get(bracket.user_id)
    assert user is not None
    return await services.brackets.view(user, bracket.id)


def fills(view: BracketView, role: LegRole, target: int | None = None) -> list[tuple[D, D]]:
    """(price, quantity) of every filled exit of ``role`` (and target), oldest first."""
    return [
        (fill.price, fill.quantity)
        for item in view.position.exits(role)
        if target is None or item.leg.target == target
        for fill in item.order.fills
    ]


def stop_cover(view: BracketView) -> D:
    """Quantity the open OCO stop legs cover."""
    return sum((item.order.remaining_quantity for item in view.position.live_exits(LegRole.STOP)), D(0))


def test_recorded_window_is_as_described() -> None:
    candles = btc_candles()
    entry = candles[ENTRY_CANDLE].open
    assert entry == D("42757.96")
    assert first_candle(ENTRY_CANDLE, lambda c: c.high >= T1) == 155
    assert first_candle(ENTRY_CANDLE, lambda c: c.high >= T2) == 156
    assert first_candle(157, lambda c: c.low <= ask(entry)) == 179
    assert max(c.high for c in candles[ENTRY_CANDLE:LAST_CANDLE]) < T3
    assert min(c.low for c in candles[ENTRY_CANDLE:LAST_CANDLE]) > STOP


async def test_long_takes_two_targets_then_breakeven_stop_native(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    entry_price = ask(btc_candles()[ENTRY_CANDLE].open)

    bracket, events = await start_bracket(services, long_request())

    assert bracket.exit_mode is ExitMode.NATIVE
    assert bracket.status is BracketStatus.OPEN
    armed = await view_of(services, bracket)
    assert armed.position.entry is not None
    assert armed.position.entry.average_price == entry_price
    assert stop_cover(armed) == QUANTITY
    targets = sorted(
        (item.leg.target, item.order.price, item.order.quantity)
        for item in armed.position.live_exits(LegRole.TARGET)
    )
    assert targets == [(1, T1, SIZES[0]), (2, T2, SIZES[1]), (3, T3, SIZES[2])]

    # After the first target the stop legs follow the open quantity and sit at the entry price.
    await run_until(services, clock, [candle_start(index) for index in range(154, 157)])
    moved = await view_of(services, bracket)
    assert fills(moved, LegRole.TARGET, 1) == [(T1, SIZES[0])]
    assert moved.bracket.active_stop == entry_price
    assert stop_cover(moved) == SIZES[1] + SIZES[2]
    assert {item.order.stop_price for item in moved.position.live_exits(LegRole.STOP)} == {entry_price}

    await run_until(services, clock, [candle_start(index) for index in range(157, LAST_CANDLE)])
    done = await view_of(services, bracket)
    assert done.bracket.status is BracketStatus.CLOSED
    assert done.bracket.close_reason is CloseReason.STOP
    assert fills(done, LegRole.TARGET, 2) == [(T2, SIZES[1])]
    stop_fill = bid(entry_price)
    assert fills(done, LegRole.STOP) == [(stop_fill, SIZES[2])]
    assert done.position.live_exits() == []

    entry_cost = QUANTITY * entry_price * (1 + FEE)
    proceeds = (SIZES[0] * T1 + SIZES[1] * T2 + SIZES[2] * stop_fill) * (1 - FEE)
    assert done.position.realized() == proceeds - entry_cost
    assert await balances(services, done.bracket.account_id) == {
        "BTC": (D(0), D(0)),
        "USDT": (D(10000) - entry_cost + proceeds, D(0)),
    }
    names = [event.name for event in events if event.name.startswith("bracket_")]
    assert names == [
        "bracket_entry_filled",
        "bracket_armed",
        "bracket_target_hit",
        "bracket_stop_moved",
        "bracket_target_hit",
        "bracket_closed",
    ]


async def test_long_takes_two_targets_then_breakeven_stop_watched(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services(paper_exits="synthetic")
    at_candle(clock, ENTRY_CANDLE)
    candles = btc_candles()
    entry_price = ask(candles[ENTRY_CANDLE].open)

    bracket, events = await start_bracket(services, long_request())

    assert bracket.exit_mode is ExitMode.SYNTHETIC
    watched = await view_of(services, bracket)
    assert watched.position.live_exits() == [], "watched exits rest nothing on the exchange"

    # The watcher sees the price at each candle's open: it sells at the first open past each level.
    first_hit = first_candle(ENTRY_CANDLE + 1, lambda c: c.open >= T1)
    second_hit = first_candle(first_hit + 1, lambda c: c.open >= T2)
    stop_hit = first_candle(second_hit + 1, lambda c: c.open <= entry_price)
    assert (first_hit, second_hit, stop_hit) == (156, 167, 181)
    await run_until(services, clock, [candle_start(index) for index in range(154, stop_hit + 1)])

    done = await view_of(services, bracket)
    assert done.bracket.status is BracketStatus.CLOSED
    assert done.bracket.close_reason is CloseReason.STOP
    assert done.bracket.active_stop == entry_price
    assert fills(done, LegRole.TARGET, 1) == [(bid(candles[first_hit].open), SIZES[0])]
    assert fills(done, LegRole.TARGET, 2) == [(bid(candles[second_hit].open), SIZES[1])]
    assert fills(done, LegRole.STOP) == [(bid(candles[stop_hit].open), SIZES[2])]
    hits = [event.payload["price"] for event in events if event.name == "bracket_target_hit"]
    assert hits == [bid(candles[first_hit].open), bid(candles[second_hit].open)], "the fill, not the level"
    balance = await balances(services, done.bracket.account_id)
    assert balance["BTC"] == (D(0), D(0))
    assert balance["USDT"][0] == D(10000) + done.position.realized()


async def test_short_is_stopped_out(make_services: ServicesFactory, clock: ManualClock) -> None:
    """A SELL bracket sells BTC held and buys it back; here the price rises through the stop first."""
    services = await make_services()
    candles = btc_candles()
    entry_candle = 119
    entry = candles[entry_candle].open
    stop, target = D("42757"), D("42374")
    stop_candle = first_candle(entry_candle, lambda c: c.high >= stop)
    assert stop_candle == 122
    assert candles[stop_candle].open < stop, "the stop is crossed inside a candle, not by a gap"
    assert min(c.low for c in candles[entry_candle : stop_candle + 1]) > target

    user, account_id = await bracket_trader(services)
    at_candle(clock, 110)
    account = await services.orders.account(user, account_id)
    await services.orders.place(
        user, account, OrderRequest(symbol=BTC, side=OrderSide.BUY, type=OrderType.MARKET, quantity=D("0.01"))
    )
    held = await balances(services, account_id)

    at_candle(clock, entry_candle)
    request = BracketRequest(
        symbol=BTC,
        side=OrderSide.SELL,
        quantity=D("0.01"),
        entry_price=None,
        stop_price=stop,
        targets=(target,),
    )
    preview = await services.brackets.preview(user, request)
    bracket = await services.brackets.confirm(user, preview.draft.id)
    armed = await view_of(services, bracket)
    assert stop_cover(armed) == D("0.01")
    assert (await balances(services, account_id))["BTC"] == (D(0), D(0))

    await run_until(
        services, clock, [candle_start(index) for index in range(entry_candle + 1, stop_candle + 2)]
    )

    done = await view_of(services, bracket)
    assert done.bracket.status is BracketStatus.CLOSED
    assert done.bracket.close_reason is CloseReason.STOP
    sold_at = bid(entry)
    bought_at = ask(stop)
    assert done.position.entry is not None
    assert done.position.entry.average_price == sold_at
    assert fills(done, LegRole.STOP) == [(bought_at, D("0.01"))]
    loss = D("0.01") * (bought_at - sold_at) + D("0.01") * (sold_at + bought_at) * FEE
    assert done.position.realized() == -loss
    after = await balances(services, account_id)
    assert after["BTC"] == held["BTC"], "the bracket bought back exactly what it sold"
    assert after["USDT"][0] == held["USDT"][0] - loss


async def test_partial_entry_is_covered_as_it_fills(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    """With a thin book the limit entry fills in parts; the exits always cover exactly what filled."""
    share = D("0.0002")
    services = await make_services(matching={"fill_volume_share": share})
    candles = btc_candles()
    limit = D("42750")
    per_candle = (candles[ENTRY_CANDLE].volume * share).quantize(D("0.00001"), rounding="ROUND_DOWN")
    at_candle(clock, ENTRY_CANDLE)
    request = BracketRequest(
        symbol=BTC,
        side=OrderSide.BUY,
        quantity=D("0.05"),
        entry_price=limit,
        stop_price=STOP,
        targets=(T1, T2),
    )
    bracket, _events = await start_bracket(services, request)
    assert bracket.status is BracketStatus.PENDING

    # Candle 153 rises: open, down to its low 42735.34 (through the limit), then up.
    await run_until(services, clock, [candle_start(ENTRY_CANDLE) + timedelta(seconds=150)])
    entering = await view_of(services, bracket)
    assert entering.bracket.status is BracketStatus.ENTERING
    assert entering.position.entered == per_candle
    assert stop_cover(entering) == per_candle
    layout = sorted(
        (item.leg.target, item.order.quantity) for item in entering.position.live_exits(LegRole.TARGET)
    )
    half = (per_candle / 2).quantize(D("0.00001"), rounding="ROUND_DOWN")
    assert layout == [(1, per_candle - half), (2, half)]

    # Cancelling the entry while it fills keeps what filled, protected; nothing new is bought.
    async with services.uow(read_only=True) as uow:
        user = await uow.users.get(bracket.user_id)
    assert user is not None and entering.position.entry is not None
    await services.orders.changes.cancel(user, entering.position.entry.id)
    opened = await view_of(services, bracket)
    assert opened.bracket.status is BracketStatus.OPEN
    assert opened.position.entry is not None
    assert opened.position.entry.status is OrderStatus.CANCELLED
    assert stop_cover(opened) == per_candle


async def test_unfilled_entry_cancelled_arms_nothing(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    request = BracketRequest(
        symbol=BTC,
        side=OrderSide.BUY,
        quantity=QUANTITY,
        entry_price=D("42000"),
        stop_price=D("41000"),
        targets=(T1,),
    )
    bracket, events = await start_bracket(services, request)
    view = await view_of(services, bracket)
    assert view.position.entry is not None

    async with services.uow(read_only=True) as uow:
        user = await uow.users.get(bracket.user_id)
    assert user is not None
    await services.orders.changes.cancel(user, view.position.entry.id)

    done = await view_of(services, bracket)
    assert done.bracket.status is BracketStatus.CANCELLED
    assert done.bracket.close_reason is CloseReason.ENTRY_CANCELLED
    assert done.position.exits() == []
    assert "bracket_cancelled" in [event.name for event in events]
    assert await balances(services, bracket.account_id) == {"USDT": (D(10000), D(0))}
