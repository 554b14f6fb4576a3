"""Brackets when things go wrong: a stop already passed, a refused exit, and restarts at each crash point.

The restarts here run in one test process: the crash point raises instead of
ending the process, the services are dropped, and new services over the same
database file play the restarted bot. tests/e2e/test_bracket_crashes.py does
the same with the real process and ``kill``-like exits.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.brackets.models import BracketStatus, CloseReason, ExitMode, LegRole
from engine.common import crash_points
from engine.common.clock import ManualClock
from engine.errors import PermanentExchangeError
from engine.orders.models import OrderStatus
from tests.brackets.conftest import ServicesFactory, at_candle, bid, btc_candles, candle_start, run_until
from tests.brackets.test_paper_brackets import (
    ENTRY_CANDLE,
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
