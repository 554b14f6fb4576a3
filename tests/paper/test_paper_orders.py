"""PAPER placement and matching of every order type and time in force, on recorded BTC/USDT candles.

The replay starts at 2026-01-01 00:00 (the ``clock`` fixture) with the first
recorded candle, 2022-01-06 00:00 UTC: open 43451.14, high 43476.2, low
43261.62, close 43404.56, volume 422.57905. It falls, so the path walks
open -> high -> low -> close in three 100-second parts. The next candles:

    1: open 43404.56 high 43502.81 low 43383.18 close 43486.44 volume 195.27274
    2: open 43486.44 high 43568.13 low 43350.0  close 43507.22 volume 162.82203
    3: open 43507.23 high 43615.71 low 43450.0  close 43470.78 volume 242.5162
    4: open 43470.78 high 43472.78 low 43368.57 close 43399.49 volume 181.1356
    5: open 43399.5  high 43541.72 low 43399.49 close 43526.13 volume 123.10238

Fees are 0.1 % (maker and taker), slippage 0.05 % a book level, tick 0.01.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest

from bot.services import Services
from engine.common.clock import ManualClock
from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrder, ExchangeOrderState
from engine.orders.models import OrderRequest, OrderSide, OrderType, TimeInForce
from tests.conftest import START
from tests.paper.conftest import ServicesFactory, balances, trader

BTC = "BTC/USDT"
FEE = D("0.001")
# The best ask at the first open: 43451.14 * 1.0005 = 43472.86557, rounded up to the tick.
ASK_1 = D("43472.87")
ASK_2 = D("43494.60")  # 43451.14 * 1.0010 = 43494.59114
ASK_3 = D("43516.32")  # 43451.14 * 1.0015 = 43516.31671
# With PAPER_FILL_VOLUME_SHARE=0.0001 a book level, and a resting order in one
# candle, fill at most the candle's volume * 0.0001, rounded down to 0.00001 BTC.
SHARE = D("0.0001")
LEVEL_0 = D("0.04225")  # 422.57905 * 0.0001


def request(
    side: OrderSide,
    order_type: OrderType,
    quantity: str,
    *,
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    post_only: bool = False,
    reduce_only: bool = False,
) -> OrderRequest:
    return OrderRequest(
        symbol=BTC,
        side=side,
        type=order_type,
        quantity=D(quantity),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        time_in_force=tif,
        post_only=post_only,
        reduce_only=reduce_only,
        client_order_id=uuid.uuid4().hex,
    )


def fills(order: ExchangeOrder) -> list[tuple[D, D, bool]]:
    return [(trade.price, trade.quantity, trade.is_maker) for trade in order.trades]


async def paper_order(services: Services, account_id: uuid.UUID, order: ExchangeOrder) -> ExchangeOrder:
    found = await services.paper.fetch_order(account_id, exchange_order_id=order.exchange_order_id)
    assert found is not None
    return found


async def buy_at_market(services: Services, account_id: uuid.UUID, quantity: str) -> ExchangeOrder:
    return await services.paper.create_order(account_id, request(OrderSide.BUY, OrderType.MARKET, quantity))


# ----- placement -------------------------------------------------------------------------


async def test_large_market_buy_walks_book(make_services: ServicesFactory) -> None:
    services = await make_services(fill_volume_share=SHARE)
    _, account = await trader(services)

    order = await buy_at_market(services, account, "0.1")

    assert order.state is ExchangeOrderState.CLOSED
    assert fills(order) == [(ASK_1, LEVEL_0, False), (ASK_2, LEVEL_0, False), (ASK_3, D("0.0155"), False)]
    cost = LEVEL_0 * ASK_1 + LEVEL_0 * ASK_2 + D("0.0155") * ASK_3
    assert order.average_price == cost / D("0.1")
    assert await balances(services, account) == {
        "BTC": (D("0.1"), D(0)),
        "USDT": (D(10000) - cost * (1 + FEE), D(0)),
    }


async def test_resting_limit_buy_locks_its_cost_and_fee(make_services: ServicesFactory) -> None:
    services = await make_services()
    _, account = await trader(services)

    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43400")
    )

    assert order.state is ExchangeOrderState.OPEN
    assert order.filled_quantity == 0
    held = D("0.1") * D("43400") * (1 + FEE)
    assert held == D("4344.34")
    assert await balances(services, account) == {"USDT": (D(10000) - held, held)}


async def test_ioc_expires_unfilled_rest(make_services: ServicesFactory) -> None:
    services = await make_services(fill_volume_share=SHARE)
    _, account = await trader(services)

    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43500", tif=TimeInForce.IOC)
    )

    # The third ask, 43516.32, is above the limit.
    assert order.state is ExchangeOrderState.EXPIRED
    assert fills(order) == [(ASK_1, LEVEL_0, False), (ASK_2, LEVEL_0, False)]
    assert order.filled_quantity == D("0.0845")
    spent = (LEVEL_0 * ASK_1 + LEVEL_0 * ASK_2) * (1 + FEE)
    assert await balances(services, account) == {
        "BTC": (D("0.0845"), D(0)),
        "USDT": (D(10000) - spent, D(0)),
    }


async def test_fok_short_book_fills_nothing(make_services: ServicesFactory) -> None:
    services = await make_services(fill_volume_share=SHARE)
    _, account = await trader(services)

    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43500", tif=TimeInForce.FOK)
    )

    assert order.state is ExchangeOrderState.EXPIRED
    assert order.reason == "FOK_NOT_FILLED"
    assert order.trades == ()
    assert await balances(services, account) == {"USDT": (D(10000), D(0))}


async def test_fok_fills_everything_when_the_book_can(make_services: ServicesFactory) -> None:
    services = await make_services(fill_volume_share=SHARE)
    _, account = await trader(services)

    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.08", price="43500", tif=TimeInForce.FOK)
    )

    assert order.state is ExchangeOrderState.CLOSED
    assert fills(order) == [(ASK_1, LEVEL_0, False), (ASK_2, D("0.03775"), False)]


async def test_post_only_that_would_take_is_refused(make_services: ServicesFactory) -> None:
    services = await make_services()
    _, account = await trader(services)

    with pytest.raises(PermanentExchangeError) as refused:
        await services.paper.create_order(
            account, request(OrderSide.BUY, OrderType.LIMIT, "0.01", price="43500", post_only=True)
        )

    assert refused.value.reason == "POST_ONLY_WOULD_TAKE"
    assert await services.paper.fetch_open_orders(account, None) == []
    assert await balances(services, account) == {"USDT": (D(10000), D(0))}


async def test_post_only_rests_then_makes(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services()
    _, account = await trader(services)
    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.01", price="43400", post_only=True)
    )
    assert order.state is ExchangeOrderState.OPEN

    clock.advance(300)
    await services.paper.match_account(account)

    done = await paper_order(services, account, order)
    assert done.state is ExchangeOrderState.CLOSED
    assert fills(done) == [(D("43400"), D("0.01"), True)]


async def test_stop_that_would_fire_at_once_is_refused(make_services: ServicesFactory) -> None:
    services = await make_services()
    _, account = await trader(services)
    await buy_at_market(services, account, "0.01")

    with pytest.raises(PermanentExchangeError) as refused:
        # A sell stop above the last price (43451.14) would fire at once.
        await services.paper.create_order(
            account, request(OrderSide.SELL, OrderType.STOP_MARKET, "0.01", stop="43500")
        )
    assert refused.value.reason == "STOP_WOULD_TRIGGER"


async def test_reduce_only_buy_is_refused_on_spot(make_services: ServicesFactory) -> None:
    services = await make_services()
    _, account = await trader(services)

    with pytest.raises(PermanentExchangeError) as refused:
        await services.paper.create_order(
            account, request(OrderSide.BUY, OrderType.MARKET, "0.01", reduce_only=True)
        )
    assert refused.value.reason == "REDUCE_ONLY_WOULD_INCREASE"


async def test_cancel_releases_the_locked_balance(make_services: ServicesFactory) -> None:
    services = await make_services()
    _, account = await trader(services)
    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43000")
    )
    assert await balances(services, account) == {"USDT": (D("5695.7"), D("4304.3"))}

    cancelled = await services.paper.cancel_order(account, order.exchange_order_id)

    assert cancelled.state is ExchangeOrderState.CANCELED
    assert await balances(services, account) == {"USDT": (D(10000), D(0))}
    with pytest.raises(PermanentExchangeError):
        await services.paper.cancel_order(account, order.exchange_order_id)


async def test_amend_moves_the_lock_with_the_new_terms(make_services: ServicesFactory) -> None:
    services = await make_services()
    _, account = await trader(services)
    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43000")
    )

    await services.paper.edit_order(account, order.exchange_order_id, price=D("43100"))
    assert await balances(services, account) == {"USDT": (D("5685.69"), D("4314.31"))}

    amended = await services.paper.edit_order(account, order.exchange_order_id, quantity=D("0.05"))
    assert amended.quantity == D("0.05")
    assert amended.price == D("43100")
    assert await balances(services, account) == {"USDT": (D("7842.845"), D("2157.155"))}


async def test_buy_fee_in_base_reduces_the_bought_quantity(make_services: ServicesFactory) -> None:
    services = await make_services(buy_fee_in_base=True)
    _, account = await trader(services)

    order = await buy_at_market(services, account, "0.01")

    assert order.fee == D("0.00001")
    assert order.fee_asset == "BTC"
    assert await balances(services, account) == {
        "BTC": (D("0.00999"), D(0)),
        "USDT": (D(10000) - D("0.01") * ASK_1, D(0)),
    }


# ----- matching along the replayed path --------------------------------------------------


async def test_limit_fills_in_parts_by_candle_volume(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services(fill_volume_share=SHARE)
    _, account = await trader(services)
    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43400")
    )

    seen = []
    for _ in range(5):
        clock.advance(300)
        await services.paper.match_account(account)
        seen.append((await paper_order(services, account, order)).filled_quantity)

    # Candles 0, 1, 2 and 4 trade at or below 43400 and give 0.0001 of their
    # volume each. Candle 3 stays above (low 43450). The last 0.00384 fills at
    # the open of candle 5 (43399.5), which the fifth run reaches as it ends.
    assert seen == [D("0.04225"), D("0.06177"), D("0.07805"), D("0.07805"), D("0.1")]
    done = await paper_order(services, account, order)
    assert done.state is ExchangeOrderState.CLOSED
    assert [quantity for _, quantity, _ in fills(done)] == [
        D("0.04225"),
        D("0.01952"),
        D("0.01628"),
        D("0.01811"),
        D("0.00384"),
    ]
    assert {price for price, _, _ in fills(done)} == {D("43400")}
    assert all(is_maker for _, _, is_maker in fills(done))
    cost = D("0.1") * D("43400") * (1 + FEE)
    assert await balances(services, account) == {"BTC": (D("0.1"), D(0)), "USDT": (D(10000) - cost, D(0))}


async def test_late_run_finds_the_same_fills_once(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services(fill_volume_share=SHARE)
    _, account = await trader(services)
    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43400")
    )

    clock.advance(30 * 60)
    changed = await services.paper.match_account(account)
    again = await services.paper.match_account(account)

    assert [item.exchange_order_id for item in changed] == [order.exchange_order_id]
    assert again == []
    done = await paper_order(services, account, order)
    assert [quantity for _, quantity, _ in fills(done)] == [
        D("0.04225"),
        D("0.01952"),
        D("0.01628"),
        D("0.01811"),
        D("0.00384"),
    ]
    first_candle = done.trades[0].executed_at
    assert START + timedelta(seconds=100) < first_candle < START + timedelta(seconds=200)


async def test_matching_continues_after_a_restart(make_services: ServicesFactory, clock: ManualClock) -> None:
    before = await make_services(fill_volume_share=SHARE)
    _, account = await trader(before)
    order = await before.paper.create_order(
        account, request(OrderSide.BUY, OrderType.LIMIT, "0.1", price="43400")
    )
    clock.advance(300)
    await before.paper.match_account(account)

    clock.advance(300)
    after = await make_services(fill_volume_share=SHARE)
    await after.paper.match_account(account)
    await before.paper.match_account(account)

    done = await paper_order(after, account, order)
    assert [quantity for _, quantity, _ in fills(done)] == [D("0.04225"), D("0.01952")]


async def test_stop_market_sell_fires_at_its_stop(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services()
    _, account = await trader(services)
    await buy_at_market(services, account, "0.01")
    stop = await services.paper.create_order(
        account, request(OrderSide.SELL, OrderType.STOP_MARKET, "0.01", stop="43300")
    )
    assert await balances(services, account) == {
        "BTC": (D(0), D("0.01")),
        "USDT": (D("9564.8365713"), D(0)),
    }

    clock.advance(300)
    await services.paper.match_account(account)

    # The fall from 43476.2 to 43261.62 passes 43300; the market sell meets
    # the best bid 43300 * 0.9995 = 43278.35.
    done = await paper_order(services, account, stop)
    assert done.state is ExchangeOrderState.CLOSED
    assert fills(done) == [(D("43278.35"), D("0.01"), False)]
    assert START + timedelta(seconds=100) < done.trades[0].executed_at < START + timedelta(seconds=200)
    proceeds = D("0.01") * D("43278.35") * (1 - FEE)
    assert await balances(services, account) == {
        "BTC": (D(0), D(0)),
        "USDT": (D("9564.8365713") + proceeds, D(0)),
    }


async def test_take_profit_sell_fires_on_the_rise(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services()
    _, account = await trader(services)
    await buy_at_market(services, account, "0.01")
    order = await services.paper.create_order(
        account, request(OrderSide.SELL, OrderType.TAKE_PROFIT, "0.01", stop="43470")
    )

    clock.advance(100)
    await services.paper.match_account(account)

    # The first third of the candle rises from 43451.14 to 43476.2; the sell
    # meets 43470 * 0.9995 = 43448.265, rounded down to the tick.
    done = await paper_order(services, account, order)
    assert fills(done) == [(D("43448.26"), D("0.01"), False)]


async def test_stop_limit_buy_takes_within_its_limit(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services()
    _, account = await trader(services)
    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.STOP_LIMIT, "0.01", price="43500", stop="43470")
    )
    assert order.state is ExchangeOrderState.OPEN

    clock.advance(100)
    await services.paper.match_account(account)

    # Fired at 43470, the best ask is 43470 * 1.0005 = 43491.735 -> 43491.74, within 43500.
    done = await paper_order(services, account, order)
    assert fills(done) == [(D("43491.74"), D("0.01"), False)]
    assert await balances(services, account) == {
        "BTC": (D("0.01"), D(0)),
        "USDT": (D(10000) - D("0.01") * D("43491.74") * (1 + FEE), D(0)),
    }


async def test_take_profit_limit_rests_then_fills_as_maker(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    services = await make_services()
    _, account = await trader(services)
    await buy_at_market(services, account, "0.01")
    order = await services.paper.create_order(
        account, request(OrderSide.SELL, OrderType.TAKE_PROFIT_LIMIT, "0.01", price="43460", stop="43470")
    )

    clock.advance(100)
    await services.paper.match_account(account)

    # Fired at 43470, the best bid (43448.26) is below the limit, so the order
    # rests. The price is still above 43460, so it fills there as maker.
    done = await paper_order(services, account, order)
    assert fills(done) == [(D("43460"), D("0.01"), True)]


async def test_stop_crossed_by_gap(make_services: ServicesFactory, clock: ManualClock) -> None:
    # Candle 544 (2022-01-07 21:20) rises to 41977.16 and closes at 41961.13;
    # candle 545 opens lower, at 41952.14, without trading in between.
    services = await make_services()
    _, account = await trader(services)
    clock.set(START + timedelta(seconds=544 * 300 + 250))
    await buy_at_market(services, account, "0.01")
    order = await services.paper.create_order(
        account, request(OrderSide.SELL, OrderType.STOP_MARKET, "0.01", stop="41955")
    )

    clock.set(START + timedelta(seconds=545 * 300 + 10))
    await services.paper.match_account(account)

    # 41952.14 * 0.9995 = 41931.16393, rounded down to the tick.
    done = await paper_order(services, account, order)
    assert fills(done) == [(D("41931.16"), D("0.01"), False)]
    assert done.trades[0].executed_at == START + timedelta(seconds=545 * 300)


async def test_market_fok_beyond_the_book_fills_nothing(make_services: ServicesFactory) -> None:
    # At 0.00001 of the candle's volume a level holds 0.00422 BTC, so the 50
    # levels of the book hold 0.211 BTC in all.
    services = await make_services(fill_volume_share=D("0.00001"))
    _, account = await trader(services)

    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.MARKET, "0.3", tif=TimeInForce.FOK)
    )

    assert order.state is ExchangeOrderState.EXPIRED
    assert order.trades == ()
    assert await balances(services, account) == {"USDT": (D(10000), D(0))}


async def test_market_ioc_beyond_the_book_fills_the_book(make_services: ServicesFactory) -> None:
    services = await make_services(fill_volume_share=D("0.00001"))
    _, account = await trader(services)

    order = await services.paper.create_order(
        account, request(OrderSide.BUY, OrderType.MARKET, "0.3", tif=TimeInForce.IOC)
    )

    assert order.state is ExchangeOrderState.EXPIRED
    assert order.reason == "BOOK_EXHAUSTED"
    assert len(order.trades) == 50
    assert order.filled_quantity == D("0.211")
    assert order.trades[-1].price == D("44537.42")  # 43451.14 * 1.025 = 44537.4185, rounded up
