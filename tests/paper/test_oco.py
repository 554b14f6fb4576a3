"""PAPER's OCO pairs on recorded BTC/USDT candles: one lock, a stop that follows the limit, one fill.

The clock starts at the first recorded candle (open 43451.14, high 43476.2,
low 43261.62, close 43404.56, volume 422.57905). It falls, so the replayed
price walks open -> high in the first 100 s, high -> low in the next 100 s
and low -> close in the last 100 s.
"""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest

from bot.services import Services
from engine.common.clock import ManualClock
from engine.common.money import floor_to_step
from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrder, ExchangeOrderState
from engine.exchanges.paper.oco import LIMIT_FILLED, STOP_TRIGGERED
from engine.orders.models import OrderRequest, OrderSide, OrderType
from tests.paper.conftest import ServicesFactory, balances, trader
from tests.paper.test_paper_orders import ASK_1, LEVEL_0, SHARE, paper_order, request

BTC = "BTC/USDT"
FEE = D("0.001")


def pair(side: OrderSide, quantity: str, limit: str, stop: str) -> tuple[OrderRequest, OrderRequest]:
    return (
        request(side, OrderType.LIMIT, quantity, price=limit),
        request(side, OrderType.STOP_MARKET, quantity, stop=stop),
    )


async def holding_btc(services: Services, quantity: str) -> uuid.UUID:
    _user, account = await trader(services)
    await services.paper.create_order(account, request(OrderSide.BUY, OrderType.MARKET, quantity))
    return account


async def test_sell_pair_locks_the_base_once(make_services: ServicesFactory) -> None:
    services = await make_services()
    account = await holding_btc(services, "0.01")

    limit, stop = await services.paper.create_oco(account, *pair(OrderSide.SELL, "0.01", "43600", "43000"))

    assert (limit.state, stop.state) == (ExchangeOrderState.OPEN, ExchangeOrderState.OPEN)
    assert (await balances(services, account))["BTC"] == (D(0), D("0.01"))


async def test_buy_pair_locks_the_costlier_leg(make_services: ServicesFactory) -> None:
    services = await make_services()
    _user, account = await trader(services)

    await services.paper.create_oco(account, *pair(OrderSide.BUY, "0.01", "43000", "43600"))

    # The stop-market buy is costed one slippage level above its stop: 43600 * 1.0005 = 43621.8.
    held = D("0.01") * D("43621.80") * (1 + FEE)
    assert await balances(services, account) == {"USDT": (D(10000) - held, held)}


async def test_stop_that_would_fire_at_once_is_refused(make_services: ServicesFactory) -> None:
    services = await make_services()
    account = await holding_btc(services, "0.01")

    with pytest.raises(PermanentExchangeError) as caught:
        await services.paper.create_oco(account, *pair(OrderSide.SELL, "0.01", "43600", "43500"))

    assert caught.value.reason == "STOP_WOULD_TRIGGER"
    assert await services.paper.fetch_open_orders(account, None) == []
    assert (await balances(services, account))["BTC"] == (D("0.01"), D(0))


async def test_stop_fires_and_cancels_the_limit(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services()
    account = await holding_btc(services, "0.01")
    limit, stop = await services.paper.create_oco(account, *pair(OrderSide.SELL, "0.01", "43600", "43300"))

    clock.advance(300)  # the price falls from the high to 43261.62, through the stop
    await services.paper.match()

    fired = await paper_order(services, account, stop)
    cancelled = await paper_order(services, account, limit)
    assert fired.state is ExchangeOrderState.CLOSED
    fill_price = floor_to_step(D("43300") * D("0.9995"), D("0.01"))
    assert [(trade.price, trade.quantity) for trade in fired.trades] == [(fill_price, D("0.01"))]
    assert (cancelled.state, cancelled.reason) == (ExchangeOrderState.CANCELED, STOP_TRIGGERED)
    usdt = D(10000) - D("0.01") * ASK_1 * (1 + FEE) + D("0.01") * fill_price * (1 - FEE)
    assert await balances(services, account) == {"BTC": (D(0), D(0)), "USDT": (usdt, D(0))}


async def test_stop_follows_a_partly_filled_limit(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services(fill_volume_share=SHARE)
    account = await holding_btc(services, "0.1")
    bought = (await balances(services, account))["BTC"][0]
    limit, stop = await services.paper.create_oco(
        account, *pair(OrderSide.SELL, str(bought), "43470", "43000")
    )

    clock.advance(100)  # up to the high, 43476.2: the limit takes one candle's volume share
    await services.paper.match()

    partly: ExchangeOrder = await paper_order(services, account, limit)
    following = await paper_order(services, account, stop)
    assert partly.filled_quantity == LEVEL_0
    assert following.quantity == bought - LEVEL_0
    assert following.state is ExchangeOrderState.OPEN
    assert (await balances(services, account))["BTC"] == (D(0), bought - LEVEL_0)


async def test_filled_limit_cancels_the_stop(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services()
    account = await holding_btc(services, "0.01")
    limit, stop = await services.paper.create_oco(account, *pair(OrderSide.SELL, "0.01", "43470", "43000"))

    clock.advance(100)
    await services.paper.match()

    assert (await paper_order(services, account, limit)).state is ExchangeOrderState.CLOSED
    cancelled = await paper_order(services, account, stop)
    assert (cancelled.state, cancelled.reason) == (ExchangeOrderState.CANCELED, LIMIT_FILLED)


async def test_cancelling_one_leg_cancels_both(make_services: ServicesFactory) -> None:
    services = await make_services()
    account = await holding_btc(services, "0.01")
    limit, stop = await services.paper.create_oco(account, *pair(OrderSide.SELL, "0.01", "43600", "43000"))

    await services.paper.cancel_order(account, stop.exchange_order_id)

    assert (await paper_order(services, account, limit)).state is ExchangeOrderState.CANCELED
    assert (await balances(services, account))["BTC"] == (D("0.01"), D(0))


async def test_stop_leg_moves_in_place(make_services: ServicesFactory) -> None:
    services = await make_services()
    account = await holding_btc(services, "0.01")
    limit, stop = await services.paper.create_oco(account, *pair(OrderSide.SELL, "0.01", "43600", "43000"))

    moved = await services.paper.edit_order(account, stop.exchange_order_id, stop_price=D("43200"))
    assert moved.stop_price == D("43200")
    with pytest.raises(PermanentExchangeError) as caught:
        await services.paper.edit_order(account, stop.exchange_order_id, stop_price=D("43500"))
    assert caught.value.reason == "STOP_WOULD_TRIGGER"
    assert (await paper_order(services, account, stop)).stop_price == D("43200")
    with pytest.raises(PermanentExchangeError):
        await services.paper.edit_order(account, limit.exchange_order_id, quantity=D("0.005"))
    assert (await balances(services, account))["BTC"] == (D(0), D("0.01"))
