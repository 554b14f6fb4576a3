"""Native bracket exits on a live exchange: Binance order lists through the real keeper and ccxt gateway.

The services are the real ones over real SQLite. Every ccxt client they
create talks to the fake Binance venue in this process, which keeps the
order lists and cancels a leg's sibling as Binance does. Fills happen on the
venue; the order sync reads them back, and its events drive the keeper.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest

from bot.services import Services
from engine.accounts.linking import LinkRequest
from engine.accounts.models import Exchange
from engine.brackets.models import Bracket, BracketStatus, CloseReason, ExitMode, LegRole
from engine.brackets.plan import BracketRequest
from engine.common.clock import ManualClock
from engine.events import Event
from engine.orders.models import OrderSide, OrderStatus
from tests.brackets.conftest import ServicesFactory, bracket_trader
from tests.brackets.test_paper_brackets import view_of
from tests.exchanges.conftest import CREDENTIALS
from tests.fakes.ccxt_http import Request
from tests.fakes.venues import FakeExchanges, Venue, VenueOrder

BTC = "BTC/USDT"
# The entry's 0.01 BTC less the venue's fee in BTC (0.000001, rounded away by the 0.00001 step).
ENTERED = D("0.00999")
HALF = D("0.005")
OCO_PATH = "/api/v3/orderList/oco"


def long_bracket(*, breakeven: bool = False) -> BracketRequest:
    return BracketRequest(
        symbol=BTC,
        side=OrderSide.BUY,
        quantity=D("0.01"),
        entry_price=None,
        stop_price=D("41000"),
        targets=(D("44000"), D("45000")),
        split=(D(50), D(50)),
        breakeven=breakeven,
        exit_mode=None,
    )


class Live:
    """Services with a linked Binance account whose venue is in the process."""

    def __init__(
        self,
        services: Services,
        fakes: FakeExchanges,
        clock: ManualClock,
        exchange: Exchange = Exchange.BINANCE,
    ) -> None:
        self.services = services
        self.fakes = fakes
        self.clock = clock
        self.exchange = exchange
        self.events: list[Event] = []

        async def capture(event: Event) -> None:
            self.events.append(event)

        services.bus.subscribe("*", capture)

    def move_price(self, price: str) -> None:
        """Set the venue's last price, and let the gateway's cached ticker age out."""
        self.venue.prices[BTC] = price
        self.clock.advance(60)

    @property
    def venue(self) -> Venue:
        return self.fakes.venues[self.exchange.value.lower()]

    def posts(self, path: str) -> int:
        """How many requests to place ``path`` the venue received."""
        return len(self.fakes.http[self.exchange.value.lower()].sent("POST", path))

    async def link(self) -> uuid.UUID:
        user, _ = await bracket_trader(self.services)
        _, account = await self.services.account_links.link(
            user, LinkRequest(self.exchange, "Main", CREDENTIALS, testnet=False)
        )
        assert account is not None
        return account.id

    async def start(self, account_id: uuid.UUID, request: BracketRequest) -> Bracket:
        user = await self.services.users.get_by_telegram_id(7)
        assert user is not None
        preview = await self.services.brackets.preview(user, request, account_id)
        return await self.services.brackets.confirm(user, preview.draft.id)

    async def sync(self) -> None:
        """What the scheduled jobs do: read the exchange's orders, then a watcher pass."""
        await self.services.order_sync.run(force=True)
        await self.services.brackets.keeper.watch()

    def lists(self) -> dict[int, list[VenueOrder]]:
        grouped: dict[int, list[VenueOrder]] = {}
        for order in self.venue.orders:
            if order.list_id >= 0:
                grouped.setdefault(order.list_id, []).append(order)
        return grouped

    def leg(self, client_id: str) -> VenueOrder:
        order = self.venue.find(client_id=client_id)
        assert order is not None, client_id
        return order

    def named(self, name: str) -> list[Event]:
        return [event for event in self.events if event.name == name]


def with_fakes(services: Services) -> FakeExchanges:
    fakes = FakeExchanges()
    # The venues' balances stay as set: the bought coins are there for the exits from the start.
    for venue in fakes.venues.values():
        venue.balances = {"USDT": ("10000", "0"), "BTC": ("0.01", "0")}
    services.exchange_clients.prepare = fakes.install
    return fakes


@pytest.fixture
async def live(make_services: ServicesFactory, clock: ManualClock) -> Live:
    services = await make_services()
    return Live(services, with_fakes(services), clock)


def exit_legs(view: Any, role: LegRole, target: int) -> list[Any]:
    return [item.order for item in view.position.exits(role) if item.leg.target == target]


async def test_order_lists_per_target_then_stop(live: Live) -> None:
    account_id = await live.link()
    assert (await live.services.gateways.gateway_for(await account_of(live, account_id))).capabilities.oco

    bracket = await live.start(account_id, long_bracket())

    # Armed: one order list per target, each for that target's half, on the exchange's own books.
    assert bracket.exit_mode is ExitMode.NATIVE
    lists = live.lists()
    assert sorted(legs[0].quantity for legs in lists.values()) == ["0.00499", "0.005"]
    for legs in lists.values():
        assert len(legs) == 2
        assert legs[0].quantity == legs[1].quantity
        assert {order.status for order in legs} == {"open"}
    view = await view_of(live.services, bracket)
    assert view.position.open_quantity == ENTERED
    stop_1, target_1 = exit_legs(view, LegRole.STOP, 1)[0], exit_legs(view, LegRole.TARGET, 1)[0]
    assert (target_1.status, stop_1.status) == (OrderStatus.NEW, OrderStatus.NEW)
    assert live.leg(target_1.client_order_id).price == "44000"
    assert live.leg(stop_1.client_order_id).stop == "41000"
    assert [event.payload["mode"] for event in live.named("bracket_armed")] == [ExitMode.NATIVE]

    # Target 1 fills on the exchange, which cancels its own stop; target 2's pair still protects its half.
    live.venue.fill(live.leg(target_1.client_order_id), format(target_1.quantity, "f"))
    await live.sync()
    view = await view_of(live.services, bracket)
    assert exit_legs(view, LegRole.TARGET, 1)[0].status is OrderStatus.FILLED
    assert exit_legs(view, LegRole.STOP, 1)[0].status is OrderStatus.CANCELLED
    (rest,) = [item.order.remaining_quantity for item in view.position.live_exits(LegRole.STOP)]
    assert rest == view.position.open_quantity == ENTERED - target_1.quantity
    assert [event.payload["target"] for event in live.named("bracket_target_hit")] == [1]
    assert len(live.fakes.http["binance"].sent("POST", OCO_PATH)) == 2, "nothing placed again"

    # The stop fires: the exchange cancels target 2, and the bracket closes by the stop.
    stop_2 = exit_legs(view, LegRole.STOP, 2)[0]
    live.venue.fill(live.leg(stop_2.client_order_id), format(stop_2.quantity, "f"), "40990")
    await live.sync()
    done = await view_of(live.services, bracket)
    assert (done.bracket.status, done.bracket.close_reason) == (BracketStatus.CLOSED, CloseReason.STOP)
    assert exit_legs(done, LegRole.TARGET, 2)[0].status is OrderStatus.CANCELLED
    assert done.position.open_quantity == 0
    assert [order for order in live.venue.orders if order.status == "open"] == []
    assert len(live.fakes.http["binance"].sent("POST", OCO_PATH)) == 2


async def test_partial_target_fill_is_protected_again(live: Live) -> None:
    account_id = await live.link()
    bracket = await live.start(account_id, long_bracket())
    view = await view_of(live.services, bracket)
    target_1 = exit_legs(view, LegRole.TARGET, 1)[0]

    # Binance cancels the stop once its target fills even in part: the rest would rest unprotected.
    target_2 = exit_legs(view, LegRole.TARGET, 2)[0]
    live.venue.fill(live.leg(target_1.client_order_id), "0.002")
    await live.sync()

    view = await view_of(live.services, bracket)
    rest = target_1.quantity - D("0.002")
    stops = {item.leg.target: item.order for item in view.position.live_exits(LegRole.STOP)}
    targets = {item.leg.target: item.order for item in view.position.live_exits(LegRole.TARGET)}
    assert stops[1].remaining_quantity == targets[1].remaining_quantity == rest
    assert stops[2].remaining_quantity == target_2.quantity
    assert sum((stop.remaining_quantity for stop in stops.values()), D(0)) == view.position.open_quantity
    assert live.leg(target_1.client_order_id).status == "canceled", "the partly filled rest was replaced"
    open_lists = [legs for legs in live.lists().values() if all(order.status == "open" for order in legs)]
    assert sorted(D(legs[0].quantity) for legs in open_lists) == sorted([rest, target_2.quantity])


async def test_gapped_stop_limit_closes_at_market(live: Live) -> None:
    account_id = await live.link()
    bracket = await live.start(account_id, long_bracket())
    view = await view_of(live.services, bracket)
    stop_1 = exit_legs(view, LegRole.STOP, 1)[0]

    # The price gaps below the stop leg's limit: the leg fires but cannot fill, its target is cancelled.
    live.move_price("40500")
    live.venue.trigger(live.leg(stop_1.client_order_id))
    await live.sync()

    done = await view_of(live.services, bracket)
    assert (done.bracket.status, done.bracket.close_reason) == (BracketStatus.CLOSED, CloseReason.STOP_PASSED)
    assert done.position.open_quantity == 0
    assert live.leg(stop_1.client_order_id).status == "canceled"
    assert [order for order in live.venue.orders if order.status == "open"] == []
    market_exits = [order for order in live.venue.orders if order.kind == "market" and order.side == "sell"]
    assert [D(order.quantity) for order in market_exits] == [ENTERED]


async def test_moved_stop_replaces_the_pairs(live: Live) -> None:
    account_id = await live.link()
    bracket = await live.start(account_id, long_bracket(breakeven=True))
    view = await view_of(live.services, bracket)
    target_1 = exit_legs(view, LegRole.TARGET, 1)[0]
    live.move_price("44100")

    target_2 = exit_legs(view, LegRole.TARGET, 2)[0]
    live.venue.fill(live.leg(target_1.client_order_id), format(target_1.quantity, "f"))
    await live.sync()

    view = await view_of(live.services, bracket)
    entry = view.position.entry_average
    assert entry is not None
    (stop,) = [item.order for item in view.position.live_exits(LegRole.STOP)]
    assert (stop.stop_price, stop.remaining_quantity) == (entry.quantize(D("0.01")), target_2.quantity)
    assert live.leg(stop.client_order_id).stop == str(stop.stop_price)
    assert [event.name for event in live.events if event.name == "bracket_stop_moved"] == [
        "bracket_stop_moved"
    ]
    open_orders = [order for order in live.venue.orders if order.status == "open"]
    assert len(open_orders) == 2, "the old pair of target 2 is gone, its new pair rests"


async def test_rejected_order_list_falls_back(live: Live) -> None:
    account_id = await live.link()
    live.venue.oco_reject = (-2010, "Order would immediately match and take.")

    bracket = await live.start(account_id, long_bracket())

    assert (bracket.exit_mode, bracket.fallback_reason) == (ExitMode.SYNTHETIC, "INVALID_ORDER")
    assert [event.payload["reason"] for event in live.named("bracket_fallback")] == ["INVALID_ORDER"]
    view = await view_of(live.services, bracket)
    assert all(item.order.status is OrderStatus.REJECTED for item in view.position.exits())
    assert [order for order in live.venue.orders if order.status == "open"] == []

    # Watched from now on: the price reaches the stop and the bot sells at market.
    live.move_price("40900")
    await live.sync()
    done = await view_of(live.services, bracket)
    assert (done.bracket.status, done.bracket.close_reason) == (BracketStatus.CLOSED, CloseReason.STOP)


async def test_minimum_slice_stop_limit_meets_notional(live: Live) -> None:
    account_id = await live.link()
    # One target, sized so the entered 0.00013 BTC is worth 5.005 USDT at the stop (Binance's
    # minimum is 5), which the bracket's own check accepts. The stop leg's limit 0.5 % below the
    # stop is worth less than 5, and Binance checks NOTIONAL at a stop-limit's limit price.
    request = BracketRequest(
        symbol=BTC,
        side=OrderSide.BUY,
        quantity=D("0.00014"),
        entry_price=None,
        stop_price=D("38500"),
        targets=(D("44000"),),
        split=(D(100),),
        breakeven=False,
        exit_mode=None,
    )

    bracket = await live.start(account_id, request)

    view = await view_of(live.services, bracket)
    assert view.position.entered == D("0.00013")
    assert live.named("bracket_fallback") == []
    assert bracket.exit_mode is ExitMode.NATIVE
    (stop,) = [item.order for item in view.position.live_exits(LegRole.STOP)]
    assert stop.remaining_quantity == view.position.open_quantity
    # The lowest limit worth 5 USDT: 5 / 0.00013 = 38461.538..., up to the 0.01 tick.
    assert live.leg(stop.client_order_id).price == "38461.54"


async def test_short_without_quote_for_pair_falls_back(live: Live) -> None:
    # A short sells held coins. Its buy-back pair reserves the quantity at the stop-limit's limit,
    # above the stop, which is more than the sale brought in (the fake venue credits no sale).
    live.venue.balances = {"USDT": ("430", "0"), "BTC": ("0.01", "0")}
    account_id = await live.link()
    request = BracketRequest(
        symbol=BTC,
        side=OrderSide.SELL,
        quantity=D("0.01"),
        entry_price=None,
        stop_price=D("45000"),
        targets=(D("42000"),),
        split=(D(100),),
        breakeven=False,
        exit_mode=None,
    )

    bracket = await live.start(account_id, request)
    await live.sync()

    view = await view_of(live.services, bracket)
    assert view.bracket.status is BracketStatus.OPEN, "the short is still open"
    assert view.bracket.exit_mode is ExitMode.SYNTHETIC
    assert [event.payload["reason"] for event in live.named("bracket_fallback")] == ["INSUFFICIENT_BALANCE"]
    assert [order.side for order in live.venue.orders] == ["sell"], "nothing was bought back"
    assert view.position.open_quantity == D("0.01")


class Crash(BaseException):
    """Stands for the process ending right after the exchange accepted the order list."""


def crash_after(live: Live, path: str) -> None:
    """Let the venue accept the next request to ``path``, then end the process before its response arrives."""
    http = live.fakes.http[live.exchange.value.lower()]
    route = next(route for route in http.routes if route.method == "POST" and route.path.search(path))
    original: Callable[[Request], tuple[int, Any]] = route.handler  # type: ignore[assignment]

    def accept_then_crash(request: Request) -> tuple[int, Any]:
        original(request)
        raise Crash(path)

    http.answer("POST", path, accept_then_crash, times=1)


async def test_restart_looks_up_pending_pair(make_services: ServicesFactory, clock: ManualClock) -> None:
    first = await make_services()
    live = Live(first, with_fakes(first), clock)
    account_id = await live.link()
    crash_after(live, OCO_PATH)

    with pytest.raises(Crash):
        await live.start(account_id, long_bracket())
    async with first.uow(read_only=True) as uow:
        (stored,) = await uow.brackets.list_active()
        legs = await uow.orders.list_for_bracket(stored.id)
    assert sorted(order.status for order in legs if order.bracket_leg != "entry") == [OrderStatus.PENDING] * 2

    # The restarted bot, over the same database and the same exchange.
    second = await make_services()
    second.exchange_clients.prepare = live.fakes.install
    restarted = Live(second, live.fakes, clock)
    await restarted.services.order_sync.run(force=True)
    await restarted.services.brackets.keeper.watch()

    view = await view_of(second, stored)
    assert len(live.fakes.http["binance"].sent("POST", OCO_PATH)) == 2, "target 1 once, then target 2"
    assert len(live.lists()) == 2
    for target in (1, 2):
        (stop,) = exit_legs(view, LegRole.STOP, target)
        (limit,) = exit_legs(view, LegRole.TARGET, target)
        assert (stop.status, limit.status) == (OrderStatus.NEW, OrderStatus.NEW)
        assert live.leg(stop.client_order_id).id == stop.exchange_order_id
    covered = sum((item.order.remaining_quantity for item in view.position.live_exits(LegRole.STOP)), D(0))
    assert covered == ENTERED


async def account_of(live: Live, account_id: uuid.UUID) -> Any:
    async with live.services.uow(read_only=True) as uow:
        return await uow.accounts.get(account_id)
