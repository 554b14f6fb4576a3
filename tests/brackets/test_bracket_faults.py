"""Brackets when things go wrong: a stop already passed, a refused exit, and restarts at each crash point.

The restarts here run in one test process: the crash point raises instead of
ending the process, the services are dropped, and new services over the same
database file play the restarted bot. tests/e2e/test_bracket_crashes.py does
the same with the real process and ``kill``-like exits.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D

import pytest

from bot.bracket_notices import BracketNotices
from bot.scheduler import reconcile_at_start
from bot.services import Services
from engine.brackets.models import STEP_END, STEP_STOP_MOVED, BracketStatus, CloseReason, ExitMode, LegRole
from engine.common import crash_points
from engine.common.clock import ManualClock
from engine.errors import PermanentExchangeError, ValidationError
from engine.events import Event
from engine.orders.models import OrderStatus
from tests.brackets.conftest import ServicesFactory, at_candle, bid, btc_candles, candle_start, run_until
from tests.brackets.test_paper_brackets import (
    ENTRY_CANDLE,
    LAST_CANDLE,
    QUANTITY,
    SIZES,
    fills,
    long_request,
    start_bracket,
    stop_cover,
    view_of,
)


class Crash(BaseException):
    """Stands for the process ending at a crash point (not an Exception, so no handler swallows it)."""


@pytest.fixture
def crash_at(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def arm(point: str) -> None:
        monkeypatch.setenv(crash_points.ENABLE_VARIABLE, "1")
        monkeypatch.setenv(crash_points.POINT_VARIABLE, point)

        def end(code: int) -> None:
            monkeypatch.delenv(crash_points.POINT_VARIABLE)
            raise Crash(point)

        monkeypatch.setattr(crash_points.os, "_exit", end)

    return arm


async def test_stop_passed_when_due_closes_at_market(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    """The bot learns of the first target when the price is below breakeven already, so it sells at market."""
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    bracket, _events = await start_bracket(services, long_request())

    # One late pass: candles 155 and 156 filled both targets, and at 181 the price is under the entry.
    late = 181
    entry_price = (await view_of(services, bracket)).position.entry_average
    assert entry_price is not None and btc_candles()[late].open < entry_price
    await run_until(services, clock, [candle_start(late)])

    done = await view_of(services, bracket)
    assert done.bracket.status is BracketStatus.CLOSED
    assert done.bracket.close_reason is CloseReason.STOP_PASSED
    assert fills(done, LegRole.STOP) == [(bid(btc_candles()[late].open), SIZES[2])]
    assert done.position.open_quantity == D(0)
    assert done.position.live_exits() == []


async def test_refused_exits_are_watched_instead(
    make_services: ServicesFactory, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = await make_services()

    async def refuse(*args: object, **kwargs: object) -> None:
        raise PermanentExchangeError("simulated refusal", reason="INVALID_ORDER")

    monkeypatch.setattr(services.paper, "create_oco", refuse)
    at_candle(clock, ENTRY_CANDLE)
    bracket, events = await start_bracket(services, long_request())

    assert bracket.exit_mode is ExitMode.SYNTHETIC
    assert bracket.fallback_reason == "INVALID_ORDER"
    assert [event.payload["reason"] for event in events if event.name == "bracket_fallback"] == [
        "INVALID_ORDER"
    ]
    view = await view_of(services, bracket)
    refused = [item.order for item in view.position.exits()]
    assert refused and all(order.status is OrderStatus.REJECTED for order in refused)
    assert bracket.status is BracketStatus.OPEN

    # Watched from now on: the first open past target 1 sells its share at market.
    await run_until(services, clock, [candle_start(index) for index in range(154, 157)])
    watched = await view_of(services, bracket)
    assert fills(watched, LegRole.TARGET, 1) == [(bid(btc_candles()[156].open), SIZES[0])]


async def test_restart_after_entry_sent_records_it_once(
    make_services: ServicesFactory, clock: ManualClock, crash_at
) -> None:  # type: ignore[no-untyped-def]
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    crash_at("bracket_entry_sent")
    with pytest.raises(Crash):
        await start_bracket(services, long_request())

    async with services.uow(read_only=True) as uow:
        (bracket,) = await uow.brackets.list_active()
        (entry,) = await uow.orders.list_for_bracket(bracket.id)
    assert entry.status is OrderStatus.PENDING, "the crash came before the exchange's answer was recorded"

    restarted = await make_services()
    await run_until(restarted, clock, [clock.now()])

    view = await view_of(restarted, bracket)
    assert view.position.entry is not None
    assert view.position.entry.status is OrderStatus.FILLED
    assert view.position.entry.filled_quantity == QUANTITY
    assert len(await restarted.paper.fetch_open_orders(bracket.account_id, None)) == 6, "three OCO pairs"
    assert stop_cover(view) == QUANTITY
    assert view.bracket.status is BracketStatus.OPEN


async def test_restart_before_arming_arms_exits(
    make_services: ServicesFactory, clock: ManualClock, crash_at
) -> None:  # type: ignore[no-untyped-def]
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    crash_at("bracket_before_arming")
    with pytest.raises(Crash):
        await start_bracket(services, long_request())

    async with services.uow(read_only=True) as uow:
        (bracket,) = await uow.brackets.list_active()
        legs = await uow.orders.list_for_bracket(bracket.id)
    assert [leg.bracket_leg for leg in legs] == ["entry"]
    assert legs[0].status is OrderStatus.FILLED

    restarted = await make_services()
    await run_until(restarted, clock, [clock.now()])
    view = await view_of(restarted, bracket)
    assert stop_cover(view) == QUANTITY
    assert sorted(item.leg.target for item in view.position.live_exits(LegRole.TARGET)) == [1, 2, 3]


async def test_restart_after_exit_filled_moves_stop_without_duplicates(
    make_services: ServicesFactory, clock: ManualClock, crash_at
) -> None:  # type: ignore[no-untyped-def]
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    bracket, _events = await start_bracket(services, long_request())
    crash_at("bracket_exit_filled")
    with pytest.raises(Crash):
        await run_until(services, clock, [candle_start(index) for index in range(154, 157)])

    restarted = await make_services()
    await run_until(restarted, clock, [clock.now()])
    view = await view_of(restarted, bracket)
    entry_price = view.position.entry_average
    assert view.bracket.active_stop == entry_price
    assert stop_cover(view) == view.position.open_quantity
    live = view.position.live_exits()
    assert {item.order.stop_price for item in live if item.leg.role is LegRole.STOP} == {entry_price}
    per_target = sorted((item.leg.role.value, item.leg.target) for item in live)
    assert len(per_target) == len(set(per_target)), f"duplicate legs: {per_target}"
    paper_open = await restarted.paper.fetch_open_orders(bracket.account_id, None)
    assert len(paper_open) == len(live)


def queued(services: Services, telegram_id: int = 7) -> list[str]:
    """Texts in the outbox for the trader's chat, in queuing order."""
    database = services.settings.database.database_url.partition("///")[2]
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT text FROM outbox WHERE chat_id = ? ORDER BY id", (telegram_id,))
        return [text for (text,) in rows]


async def with_notices(services: Services) -> Services:
    """The services with the bot's bracket messages subscribed, as ``patriot run`` has them."""
    BracketNotices(services, services.notifier).subscribe()
    return services


def hits(services: Services, target: int) -> int:
    return sum(f"target {target} hit" in text for text in queued(services))


async def test_crashed_step_sent_once(
    make_services: ServicesFactory, clock: ManualClock, crash_at
) -> None:  # type: ignore[no-untyped-def]
    services = await with_notices(await make_services())
    at_candle(clock, ENTRY_CANDLE)
    bracket, _events = await start_bracket(services, long_request())
    # The entry and the exits were shown on the confirmation card: recorded as notified, nothing queued.
    shown = (await view_of(services, bracket)).bracket
    assert (shown.reported_entry, shown.reported_cover) == (QUANTITY, QUANTITY)
    assert queued(services) == []

    crash_at("event_before_notified")
    with pytest.raises(Crash):
        await run_until(services, clock, [candle_start(index) for index in range(154, 157)])
    assert hits(services, 1) == 0, "the crash came before the message was queued"
    assert (await view_of(services, bracket)).bracket.reported_exits[0] == D(0)

    restarted = await with_notices(await make_services())
    await run_until(restarted, clock, [clock.now()])
    assert hits(restarted, 1) == 1
    assert (await view_of(restarted, bracket)).bracket.reported_exits[0] == SIZES[0]

    # Another pass, and another process over the same database, tell nothing again.
    await run_until(restarted, clock, [clock.now()])
    third = await with_notices(await make_services())
    await run_until(third, clock, [clock.now()])
    assert hits(third, 1) == 1
    assert sum("entry filled" in text for text in queued(third)) == 0, "the card showed the entry"


async def test_engine_alone_emits_each_step_once(make_services: ServicesFactory, clock: ManualClock) -> None:
    """Emit each step once per process when no subscriber records it."""
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    bracket, events = await start_bracket(services, long_request())
    await run_until(services, clock, [candle_start(index) for index in range(154, 157)])
    await run_until(services, clock, [clock.now(), clock.now()])

    names = [event.name for event in events if event.name in ("bracket_entry_filled", "bracket_target_hit")]
    assert names == ["bracket_entry_filled", "bracket_target_hit"]
    assert (await view_of(services, bracket)).bracket.reported_entry == D(0), "nobody recorded it"


async def test_crashed_end_sent_once(
    make_services: ServicesFactory, clock: ManualClock, crash_at
) -> None:  # type: ignore[no-untyped-def]
    services = await make_services()
    notices = BracketNotices(services, services.notifier)
    notified = notices.on_event

    async def crash_at_the_end(event: Event) -> None:
        if event.name == "bracket_closed":
            crash_at("event_before_notified")
        await notified(event)

    notices.on_event = crash_at_the_end  # type: ignore[method-assign]
    notices.subscribe()
    at_candle(clock, ENTRY_CANDLE)
    bracket, _events = await start_bracket(services, long_request())
    with pytest.raises(Crash):
        await run_until(services, clock, [candle_start(index) for index in range(154, LAST_CANDLE)])
    ended = (await view_of(services, bracket)).bracket
    assert ended.status is BracketStatus.CLOSED
    assert STEP_STOP_MOVED in ended.reported_steps
    assert STEP_END not in ended.reported_steps
    assert not any("🏁" in text for text in queued(services)), "the crash came before the message was queued"

    restarted = await with_notices(await make_services())
    await reconcile_at_start(restarted)
    assert sum("🏁" in text for text in queued(restarted)) == 1
    assert STEP_END in (await view_of(restarted, bracket)).bracket.reported_steps

    # Another start, and another process over the same database, tell nothing again.
    await reconcile_at_start(restarted)
    third = await with_notices(await make_services())
    await reconcile_at_start(third)
    assert sum("🏁" in text for text in queued(third)) == 1
    assert sum("target 2 hit" in text for text in queued(third)) == 1


async def test_rejected_entry_not_pushed_again(
    make_services: ServicesFactory, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card shows why the entry was refused; the bracket's end is not pushed again at the next start."""
    services = await with_notices(await make_services())
    at_candle(clock, ENTRY_CANDLE)

    async def refuse(*args: object, **kwargs: object) -> None:
        raise ValidationError("CLIENT_ORDER_ID_TAKEN", value="refused")

    monkeypatch.setattr(services.orders, "place", refuse)
    with pytest.raises(ValidationError):
        await start_bracket(services, long_request())
    database = services.settings.database.database_url.partition("///")[2]
    with sqlite3.connect(database) as connection:
        (status,) = connection.execute("SELECT status FROM brackets").fetchone()
    assert status == BracketStatus.CANCELLED.value

    restarted = await with_notices(await make_services())
    await reconcile_at_start(restarted)

    assert queued(restarted) == [], "the refusal was shown on the card the user pressed"
