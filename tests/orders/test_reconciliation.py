"""Lost responses, restarts and exchange-side changes: nothing is sent twice and nothing is lost."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal as D

import pytest

from bot.services import Services
from engine.common.clock import ManualClock
from engine.errors import ValidationError
from engine.orders.models import Order, OrderRequest, OrderSide, OrderStatus, OrderType
from tests.fakes.fake_gateway import FakeGateway
from tests.orders.conftest import SYNC_INTERVAL, UNKNOWN_AFTER, LiveExchange, live_exchange

BTC = "BTC/USDT"


def limit_buy(quantity: str = "0.01", price: str = "42000") -> OrderRequest:
    return OrderRequest(BTC, OrderSide.BUY, OrderType.LIMIT, D(quantity), price=D(price))


async def stored(live: LiveExchange, order: Order) -> Order:
    async with live.services.uow(read_only=True) as uow:
        found = await uow.orders.get(order.id)
    assert found is not None
    return found


async def test_lost_create_response_found_once(services: Services, gateway: FakeGateway) -> None:
    live = await live_exchange(services, gateway)
    gateway.faults.accept_then_time_out = 1

    order = await live.orders.place(live.user, live.account, limit_buy())

    assert order.status is OrderStatus.NEW
    assert order.exchange_order_id == "X1"
    assert gateway.count("create") == 1
    assert len(gateway.orders) == 1
    assert (await stored(live, order)).status is OrderStatus.NEW


async def test_early_not_found_is_retried(services: Services, gateway: FakeGateway) -> None:
    live = await live_exchange(services, gateway)
    gateway.faults.accept_then_time_out = 1
    gateway.faults.unknown_lookups = 2

    order = await live.orders.place(live.user, live.account, limit_buy())

    assert order.status is OrderStatus.NEW
    assert gateway.count("fetch") == 3
    assert gateway.count("create") == 1


async def test_not_found_error_is_a_miss(services: Services, gateway: FakeGateway) -> None:
    live = await live_exchange(services, gateway)
    gateway.faults.accept_then_time_out = 1
    gateway.faults.unknown_lookups = 2
    gateway.faults.not_found_raises = True

    order = await live.orders.place(live.user, live.account, limit_buy())

    assert order.status is OrderStatus.NEW
    assert gateway.count("create") == 1


async def test_unconfirmed_order_stays_pending_then_sync_finds_it(
    services: Services, gateway: FakeGateway
) -> None:
    live = await live_exchange(services, gateway)
    gateway.faults.accept_then_time_out = 1
    gateway.faults.unknown_lookups = 4  # every lookup of the order path misses

    order = await live.orders.place(live.user, live.account, limit_buy())
    assert order.status is OrderStatus.PENDING

    assert await live.sync.run() == 1
    assert (await stored(live, order)).status is OrderStatus.NEW
    assert "order_created" in live.event_names()
    assert gateway.count("create") == 1


async def test_restart_reconciles_pending_orders_without_resending(
    services: Services, gateway: FakeGateway, second_process: Services
) -> None:
    live = await live_exchange(services, gateway)
    gateway.faults.accept_then_time_out = 1
    gateway.faults.unknown_lookups = 4
    order = await live.orders.place(live.user, live.account, limit_buy())
    assert order.status is OrderStatus.PENDING
    gateway.fill("X1", D("0.004"), D("42000"))

    live.restart(second_process)
    await live.sync.run(force=True)

    after = await stored(live, order)
    assert after.status is OrderStatus.PARTIALLY_FILLED
    assert after.filled_quantity == D("0.004")
    assert [(fill.price, fill.quantity) for fill in after.fills] == [(D("42000"), D("0.004"))]
    assert gateway.count("create") == 1


async def test_unknown_order_rejected_late(
    services: Services, gateway: FakeGateway, clock: ManualClock
) -> None:
    live = await live_exchange(services, gateway)
    gateway.faults.time_out_before_accept = 1
    order = await live.orders.place(live.user, live.account, limit_buy())
    assert order.status is OrderStatus.PENDING

    for _ in range(4):
        clock.advance(SYNC_INTERVAL.total_seconds())
        await live.sync.run()
    still = await stored(live, order)
    assert still.status is OrderStatus.PENDING, "rejected before enough time passed"
    assert still.lookup_misses == 4

    clock.advance(UNKNOWN_AFTER.total_seconds())
    await live.sync.run()

    after = await stored(live, order)
    assert after.status is OrderStatus.REJECTED
    assert after.reject_reason == "NOT_FOUND_ON_EXCHANGE"
    assert live.event_names()[-1] == "order_rejected"
    assert gateway.count("create") == 1


async def test_exchange_side_fills_are_recorded_with_their_trades(
    services: Services, gateway: FakeGateway, clock: ManualClock
) -> None:
    live = await live_exchange(services, gateway)
    order = await live.orders.place(live.user, live.account, limit_buy("0.01"))

    gateway.fill("X1", D("0.004"), D("42000"))
    await live.sync.run()
    gateway.fill("X1", D("0.006"), D("42000"))
    clock.advance(SYNC_INTERVAL.total_seconds())
    await live.sync.run()

    after = await stored(live, order)
    assert after.status is OrderStatus.FILLED
    assert [fill.quantity for fill in after.fills] == [D("0.004"), D("0.006")]
    assert live.event_names()[-2:] == ["order_partially_filled", "order_filled"]


async def test_sync_backs_off_after_a_temporary_error(
    services: Services, gateway: FakeGateway, clock: ManualClock
) -> None:
    live = await live_exchange(services, gateway)
    await live.orders.place(live.user, live.account, limit_buy())
    gateway.faults.open_orders_unavailable = 1

    await live.sync.run()
    clock.advance(SYNC_INTERVAL.total_seconds())
    await live.sync.run()  # still inside the doubled wait: no call
    assert gateway.count("open_orders") == 1

    clock.advance(SYNC_INTERVAL.total_seconds())
    await live.sync.run()
    assert gateway.count("open_orders") == 2


async def test_sync_makes_one_pass_per_account_per_interval(
    services: Services, gateway: FakeGateway, clock: ManualClock
) -> None:
    live = await live_exchange(services, gateway)
    await live.orders.place(live.user, live.account, limit_buy())

    await live.sync.run()
    await live.sync.run()
    clock.advance(SYNC_INTERVAL.total_seconds() - 1)
    await live.sync.run()
    assert gateway.count("open_orders") == 1


async def test_trigger_order_flags_used(services: Services, gateway: FakeGateway) -> None:
    live = await live_exchange(services, gateway)
    gateway.faults.accept_then_time_out = 1
    stop = OrderRequest(BTC, OrderSide.SELL, OrderType.STOP_MARKET, D("0.01"), stop_price=D("41000"))

    order = await live.orders.place(live.user, live.account, stop)
    assert order.is_trigger
    assert ("fetch", order.client_order_id, True) in gateway.calls

    cancelled = await live.orders.changes.cancel(live.user, order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert ("cancel", "X1", True) in gateway.calls


async def test_cancel_after_fill_records_fill(services: Services, gateway: FakeGateway) -> None:
    live = await live_exchange(services, gateway)
    order = await live.orders.place(live.user, live.account, limit_buy())
    gateway.fill("X1", D("0.01"), D("42000"))

    with pytest.raises(ValidationError) as refused:
        await live.orders.changes.cancel(live.user, order.id)

    assert refused.value.code == "ORDER_NOT_CANCELLABLE"
    assert refused.value.fields["status"] is OrderStatus.FILLED
    assert (await stored(live, order)).status is OrderStatus.FILLED


async def test_modify_without_amend_cancels_and_replaces(services: Services, gateway: FakeGateway) -> None:
    live = await live_exchange(services, gateway)
    order = await live.orders.place(live.user, live.account, limit_buy("0.01", "42000"))
    gateway.fill("X1", D("0.004"), D("42000"))
    await live.sync.run()

    preview = await live.orders.changes.preview_modify(live.user, order.id, price=D("42100"))
    replacement = await live.orders.confirm(live.user, preview.draft.id)

    assert (await stored(live, order)).status is OrderStatus.CANCELLED
    assert replacement.id != order.id
    assert replacement.replaces_order_id == order.id
    assert replacement.price == D("42100")
    assert replacement.quantity == D("0.006")  # the new total 0.01 minus the 0.004 already filled
    assert replacement.client_order_id == preview.draft.client_order_id
    assert gateway.count("edit") == 0


async def test_modify_with_amend_changes_the_order_in_place(services: Services) -> None:
    gateway = FakeGateway(amend=True)
    live = await live_exchange(services, gateway)
    order = await live.orders.place(live.user, live.account, limit_buy("0.01", "42000"))

    preview = await live.orders.changes.preview_modify(live.user, order.id, quantity=D("0.02"))
    amended = await live.orders.confirm(live.user, preview.draft.id)

    assert amended.id == order.id
    assert amended.quantity == D("0.02")
    assert ("edit", "X1", D("0.02"), None, None) in gateway.calls
    assert "order_modified" in live.event_names()


async def test_thin_book_impact_reported(services: Services) -> None:
    gateway = FakeGateway(asks=[(D("43001"), D("0.1")), (D("43301"), D("0.1")), (D("43601"), D("1"))])
    live = await live_exchange(services, gateway)

    preview = await live.orders.preview(
        live.user, OrderRequest(BTC, OrderSide.BUY, OrderType.MARKET, D("0.3")), live.account.id
    )

    impact = preview.impact
    assert impact is not None and impact.covered
    # (0.1 * 43001 + 0.1 * 43301 + 0.1 * 43601) / 0.3 = 43301; (43301 - 43001) / 43001
    assert impact.average_price == D("43301")
    assert impact.fraction == D(300) / D(43001)
    assert impact.exceeds(live.user.max_slippage)
    assert preview.draft.estimate.price == D("43301")


async def test_short_id_shared_by_two_orders_is_ambiguous(services: Services, gateway: FakeGateway) -> None:
    live = await live_exchange(services, gateway)
    first = await live.orders.place(live.user, live.account, limit_buy(price="42000"))
    second = await live.orders.place(live.user, live.account, limit_buy(price="42100"))
    # Copies of both orders under ids that share their first 8 hex digits.
    async with services.uow() as uow:
        for order, tail in ((first, "1" * 24), (second, "2" * 24)):
            stored = await uow.orders.get(order.id)
            assert stored is not None
            copy = replace(
                stored, id=uuid.UUID(hex="abcdef12" + tail), client_order_id=f"copy{tail[0]}", fills=[]
            )
            await uow.orders.add(copy)
        await uow.commit()

    with pytest.raises(ValidationError) as ambiguous:
        await live.orders.changes.resolve(live.user, "abcdef12")
    assert ambiguous.value.code == "ORDER_ID_AMBIGUOUS"
    assert sorted(ambiguous.value.fields["matches"]) == ["abcdef121111", "abcdef122222"]

    found = await live.orders.changes.resolve(live.user, "abcdef122")
    assert found.id.hex.startswith("abcdef122")
