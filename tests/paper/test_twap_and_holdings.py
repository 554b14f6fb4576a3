"""TWAP executions and net holdings on PAPER, across restarts, over one SQLite file."""

from __future__ import annotations

from decimal import Decimal as D

from engine.common.clock import ManualClock
from engine.orders.models import OrderRequest, OrderSide, OrderStatus, OrderType
from engine.orders.twap_models import TwapStatus
from tests.paper.conftest import ServicesFactory, trader

BTC = "BTC/USDT"


async def test_twap_sends_one_slice_per_interval_and_completes(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services()
    user, _ = await trader(services)
    preview = await services.orders.preview(
        user, OrderRequest(BTC, OrderSide.BUY, OrderType.MARKET, D("0.01"))
    )

    twap = await services.twaps.start(user, preview.draft.id, slices=3, interval_seconds=60)
    assert (await services.twaps.progress(user, twap.id)).filled_quantity == D("0.00333")

    clock.advance(30)
    assert await services.twaps.run_due() == 0
    clock.advance(30)
    assert await services.twaps.run_due() == 1
    clock.advance(60)
    assert await services.twaps.run_due() == 1

    progress = await services.twaps.progress(user, twap.id)
    assert progress.twap.status is TwapStatus.COMPLETED
    # 0.01 / 3 rounded down to 0.00001 BTC is 0.00333; the last slice takes the rest.
    assert [order.quantity for order in progress.orders] == [D("0.00333"), D("0.00333"), D("0.00334")]
    assert progress.filled_quantity == D("0.01")
    assert [order.client_order_id for order in progress.orders] == [
        twap.client_order_id(index) for index in range(3)
    ]


async def test_twap_continues_after_a_restart_without_resending(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    before = await make_services()
    user, _ = await trader(before)
    preview = await before.orders.preview(user, OrderRequest(BTC, OrderSide.BUY, OrderType.MARKET, D("0.01")))
    twap = await before.twaps.start(user, preview.draft.id, slices=2, interval_seconds=60)

    after = await make_services()
    assert await after.twaps.run_due() == 0  # not due yet: the first slice went out at the start
    clock.advance(60)
    assert await after.twaps.run_due() == 1
    assert await before.twaps.run_due() == 0

    progress = await after.twaps.progress(user, twap.id)
    assert progress.twap.status is TwapStatus.COMPLETED
    assert len(progress.orders) == 2


async def test_cancelled_twap_sends_nothing_more(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services()
    user, _ = await trader(services)
    preview = await services.orders.preview(
        user, OrderRequest(BTC, OrderSide.BUY, OrderType.MARKET, D("0.01"))
    )
    twap = await services.twaps.start(user, preview.draft.id, slices=4, interval_seconds=30)

    await services.twaps.cancel(user, twap.id)
    clock.advance(300)

    assert await services.twaps.run_due() == 0
    progress = await services.twaps.progress(user, twap.id)
    assert progress.twap.status is TwapStatus.CANCELLED
    assert len(progress.orders) == 1


async def test_base_fee_shrinks_exit_holding(make_services: ServicesFactory) -> None:
    services = await make_services(buy_fee_in_base=True)
    user, account_id = await trader(services)
    account = await services.orders.account(user, account_id)

    bought = await services.orders.place(
        user, account, OrderRequest(BTC, OrderSide.BUY, OrderType.MARKET, D("0.01"))
    )

    assert bought.status is OrderStatus.FILLED
    assert bought.net_base_quantity == D("0.00999")  # 0.01 minus the 0.1 % fee taken in BTC
    assert await services.orders.accounts.net_holding(user, account_id, "BTC") == D("0.00999")

    accounts = services.orders.accounts
    exit_quantity = await accounts.quantity_for_share(user, account_id, BTC, OrderSide.SELL, D(1))
    assert exit_quantity == D("0.00999")
    sold = await services.orders.place(
        user, account, OrderRequest(BTC, OrderSide.SELL, OrderType.MARKET, exit_quantity)
    )
    assert sold.status is OrderStatus.FILLED
    assert await services.orders.accounts.net_holding(user, account_id, "BTC") == D(0)


async def test_sync_records_fills_matched_before_a_crash(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services()
    user, account_id = await trader(services)
    account = await services.orders.account(user, account_id)
    order = await services.orders.place(
        user, account, OrderRequest(BTC, OrderSide.BUY, OrderType.LIMIT, D("0.01"), price=D("43400"))
    )
    clock.advance(300)
    # PAPER fills the order, but the process stops before PATRIOT records it.
    await services.paper.match()

    restarted = await make_services()
    assert await restarted.order_sync.run(force=True) == 1

    async with restarted.uow(read_only=True) as uow:
        stored = await uow.orders.get(order.id)
    assert stored is not None
    assert stored.status is OrderStatus.FILLED
    assert [(fill.price, fill.quantity) for fill in stored.fills] == [(D("43400"), D("0.01"))]
