"""Native bracket exits on OKX: one OCO algo order per target, through the real keeper and ccxt gateway.

The fake OKX venue keeps each pair as one algo order, as OKX does. A leg
that fires cancels the other leg and places a regular order (a limit at the
target, or a market order at the stop) that carries the fill.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.accounts.models import Exchange
from engine.brackets.models import BracketStatus, CloseReason, ExitMode, LegRole
from engine.common.clock import ManualClock
from engine.orders.models import OrderStatus
from tests.brackets.conftest import ServicesFactory
from tests.brackets.test_live_native_exits import (
    Crash,
    Live,
    crash_after,
    exit_legs,
    long_bracket,
    with_fakes,
)
from tests.brackets.test_paper_brackets import view_of
from tests.fakes.venues import VenueOrder

ALGO_PATH = "/api/v5/trade/order-algo"


@pytest.fixture
async def okx(make_services: ServicesFactory, clock: ManualClock) -> Live:
    services = await make_services()
    return Live(services, with_fakes(services), clock, Exchange.OKX)


def algos(live: Live, status: str = "open") -> list[VenueOrder]:
    return [order for order in live.venue.orders if order.oco and order.status == status]


def algo_of(live: Live, client_order_id: str) -> VenueOrder:
    found = live.venue.find(client_id=client_order_id)
    assert found is not None and found.oco, client_order_id
    return found


async def test_okx_algo_per_target_then_stop(okx: Live) -> None:
    account_id = await okx.link()

    bracket = await okx.start(account_id, long_bracket())

    assert bracket.exit_mode is ExitMode.NATIVE
    view = await view_of(okx.services, bracket)
    target_1, target_2 = exit_legs(view, LegRole.TARGET, 1)[0], exit_legs(view, LegRole.TARGET, 2)[0]
    assert sorted(D(order.quantity) for order in algos(okx)) == sorted([target_1.quantity, target_2.quantity])
    assert algo_of(okx, target_1.client_order_id).stop == "41000"
    assert algo_of(okx, target_1.client_order_id).price == "44000"
    assert [event.payload["mode"] for event in okx.named("bracket_armed")] == [ExitMode.NATIVE]

    # Target 1's take-profit fires and fills: OKX cancelled its stop, target 2's algo order protects the rest.
    okx.venue.fire(algo_of(okx, target_1.client_order_id), "tp")
    await okx.sync()
    view = await view_of(okx.services, bracket)
    assert exit_legs(view, LegRole.TARGET, 1)[0].status is OrderStatus.FILLED
    assert exit_legs(view, LegRole.STOP, 1)[0].status is OrderStatus.CANCELLED
    (rest,) = [item.order.remaining_quantity for item in view.position.live_exits(LegRole.STOP)]
    assert rest == view.position.open_quantity == target_2.quantity
    assert [event.payload["target"] for event in okx.named("bracket_target_hit")] == [1]
    assert okx.posts(ALGO_PATH) == 2, "nothing placed again"

    # Target 2's stop fires: OKX cancels its take-profit, and the bracket closes by the stop.
    okx.venue.fire(algo_of(okx, target_2.client_order_id), "sl")
    await okx.sync()
    done = await view_of(okx.services, bracket)
    assert (done.bracket.status, done.bracket.close_reason) == (BracketStatus.CLOSED, CloseReason.STOP)
    assert exit_legs(done, LegRole.TARGET, 2)[0].status is OrderStatus.CANCELLED
    assert done.position.open_quantity == 0
    assert [order for order in okx.venue.orders if order.status == "open"] == []
    assert okx.posts(ALGO_PATH) == 2


async def test_okx_partial_take_profit_reprotected(okx: Live) -> None:
    account_id = await okx.link()
    bracket = await okx.start(account_id, long_bracket())
    view = await view_of(okx.services, bracket)
    target_1 = exit_legs(view, LegRole.TARGET, 1)[0]

    # The take-profit fires but its limit fills only in part: OKX has already cancelled the stop.
    child = okx.venue.fire(algo_of(okx, target_1.client_order_id), "tp", filled="0.002")
    await okx.sync()

    view = await view_of(okx.services, bracket)
    assert child.status == "canceled", "the rest of the fired limit was cancelled"
    stops = {item.leg.target: item.order for item in view.position.live_exits(LegRole.STOP)}
    assert stops[1].remaining_quantity == target_1.quantity - D("0.002")
    assert sum((stop.remaining_quantity for stop in stops.values()), D(0)) == view.position.open_quantity
    assert sorted(D(order.quantity) for order in algos(okx)) == sorted(
        stop.remaining_quantity for stop in stops.values()
    )


async def test_okx_breakeven_replaces_the_algo(okx: Live) -> None:
    account_id = await okx.link()
    bracket = await okx.start(account_id, long_bracket(breakeven=True))
    view = await view_of(okx.services, bracket)
    target_1, target_2 = exit_legs(view, LegRole.TARGET, 1)[0], exit_legs(view, LegRole.TARGET, 2)[0]
    okx.move_price("44100")

    okx.venue.fire(algo_of(okx, target_1.client_order_id), "tp")
    await okx.sync()

    view = await view_of(okx.services, bracket)
    assert view.bracket.exit_mode is ExitMode.NATIVE, "OKX cannot amend the pair, so it is replaced"
    (stop,) = [item.order for item in view.position.live_exits(LegRole.STOP)]
    assert stop.remaining_quantity == target_2.quantity
    assert stop.stop_price is not None and stop.stop_price > D("41000")
    (resting,) = algos(okx)
    assert resting.stop == format(stop.stop_price, "f")
    assert algo_of(okx, target_2.client_order_id).status == "canceled"


async def test_okx_rejected_algo_falls_back(okx: Live) -> None:
    account_id = await okx.link()
    okx.venue.oco_reject = (51279, "TP trigger price cannot be lower than the last price")

    bracket = await okx.start(account_id, long_bracket())

    assert (bracket.exit_mode, bracket.fallback_reason) == (ExitMode.SYNTHETIC, "INVALID_ORDER")
    assert [event.payload["reason"] for event in okx.named("bracket_fallback")] == ["INVALID_ORDER"]
    assert algos(okx) == []
    view = await view_of(okx.services, bracket)
    assert all(item.order.status is OrderStatus.REJECTED for item in view.position.exits())


async def test_okx_restart_finds_pending_pair(make_services: ServicesFactory, clock: ManualClock) -> None:
    first = await make_services()
    okx = Live(first, with_fakes(first), clock, Exchange.OKX)
    account_id = await okx.link()
    crash_after(okx, ALGO_PATH)

    with pytest.raises(Crash):
        await okx.start(account_id, long_bracket())
    async with first.uow(read_only=True) as uow:
        (stored,) = await uow.brackets.list_active()

    second = await make_services()
    second.exchange_clients.prepare = okx.fakes.install
    restarted = Live(second, okx.fakes, clock, Exchange.OKX)
    await restarted.sync()

    # The algo order carries the take-profit leg's id; the stop leg is found through it.
    view = await view_of(second, stored)
    (target_1,) = exit_legs(view, LegRole.TARGET, 1)
    (stop_1,) = exit_legs(view, LegRole.STOP, 1)
    assert (target_1.status, stop_1.status) == (OrderStatus.NEW, OrderStatus.NEW)
    assert stop_1.exchange_order_id == target_1.exchange_order_id.replace(":tp", ":sl")
    assert okx.posts(ALGO_PATH) == 2, "target 1 once, then target 2"
    first_algo = algo_of(okx, target_1.client_order_id)

    # Later passes keep the pair: nothing is cancelled or sent again.
    for _ in range(6):
        clock.advance(120)
        await restarted.sync()
    view = await view_of(second, stored)
    assert first_algo.status == "open"
    assert len(algos(okx)) == 2
    assert okx.posts(ALGO_PATH) == 2
    covered = sum((item.order.remaining_quantity for item in view.position.live_exits(LegRole.STOP)), D(0))
    assert covered == view.position.open_quantity == view.position.entered


async def test_okx_stop_fired_while_pair_pending(make_services: ServicesFactory, clock: ManualClock) -> None:
    first = await make_services()
    okx = Live(first, with_fakes(first), clock, Exchange.OKX)
    account_id = await okx.link()
    crash_after(okx, ALGO_PATH)

    with pytest.raises(Crash):
        await okx.start(account_id, long_bracket())
    async with first.uow(read_only=True) as uow:
        (stored,) = await uow.brackets.list_active()
    # While the bot is down the price falls through the stop, and OKX sells target 1's share at market.
    (algo,) = algos(okx)
    okx.venue.prices["BTC/USDT"] = "40900"
    okx.venue.fire(algo, "sl")

    second = await make_services()
    second.exchange_clients.prepare = okx.fakes.install
    restarted = Live(second, okx.fakes, clock, Exchange.OKX)
    for _ in range(6):
        clock.advance(120)
        await restarted.sync()

    view = await view_of(second, stored)
    (stop_1,) = exit_legs(view, LegRole.STOP, 1)
    assert stop_1.status is OrderStatus.FILLED
    assert stop_1.filled_quantity == D(algo.quantity)
    sold = sum(
        (D(order.quantity) for order in okx.venue.orders if order.side == "sell" and not order.oco), D(0)
    )
    assert sold == view.position.entered, "nothing is sold twice"
