"""OCO pairs through real ccxt: Binance's order list, and the exchanges that have none PATRIOT can place.

ccxt's recorded request fixtures hold no order-list case, so the request is
compared with the parameters Binance documents for ``POST /api/v3/orderList/oco``,
written out below. The fake venue behaves as Binance does: one leg that
fills cancels the other, and a cancel of either leg ends the list.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any
from urllib.parse import parse_qsl

import pytest

from engine.accounts.models import Exchange
from engine.errors import PermanentExchangeError
from engine.exchanges.models import ExchangeOrderState
from engine.orders.models import OrderRequest, OrderSide, OrderType
from tests.exchanges.conftest import LIVE, RigFactory

LIMIT_ID = "bk0123456789abcdeft10001"
STOP_ID = "bk0123456789abcdefs10001"
IGNORED = {"timestamp", "recvWindow", "signature"}


def pair(
    side: OrderSide, *, price: str, stop: str, quantity: str = "0.01"
) -> tuple[OrderRequest, OrderRequest]:
    limit = OrderRequest(
        symbol="BTC/USDT",
        side=side,
        type=OrderType.LIMIT,
        quantity=D(quantity),
        price=D(price),
        client_order_id=LIMIT_ID,
    )
    stopper = OrderRequest(
        symbol="BTC/USDT",
        side=side,
        type=OrderType.STOP_MARKET,
        quantity=D(quantity),
        stop_price=D(stop),
        client_order_id=STOP_ID,
    )
    return limit, stopper


def sent_list(rig: Any) -> dict[str, str]:
    requests = [request for request in rig.http.requests if request.path == "/api/v3/orderList/oco"]
    assert len(requests) == 1
    request = requests[0]
    params = dict(parse_qsl(request.body or "")) | dict(parse_qsl(request.url.partition("?")[2]))
    return {key: value for key, value in params.items() if key not in IGNORED}


async def test_sell_pair_request(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)

    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000.004", stop="41000.001"))

    assert sent_list(rig) == {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "quantity": "0.01",
        "listClientOrderId": f"L{LIMIT_ID}",
        "newOrderRespType": "FULL",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": "45000",
        "aboveClientOrderId": LIMIT_ID,
        "belowType": "STOP_LOSS_LIMIT",
        "belowStopPrice": "41000",
        # 0.5 % below the stop, down to the tick.
        "belowPrice": "40795",
        "belowTimeInForce": "GTC",
        "belowClientOrderId": STOP_ID,
    }
    assert (limit.client_order_id, stop.client_order_id) == (LIMIT_ID, STOP_ID)
    assert limit.exchange_order_id != stop.exchange_order_id
    assert (limit.type, limit.price, limit.state) == (OrderType.LIMIT, D("45000"), ExchangeOrderState.OPEN)
    assert (stop.type, stop.stop_price, stop.price) == (OrderType.STOP_LIMIT, D("41000"), D("40795"))
    assert stop.state is ExchangeOrderState.OPEN


async def test_buy_pair_request(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)

    await rig.gateway.create_oco(*pair(OrderSide.BUY, price="41000", stop="45000.01"))

    sent = sent_list(rig)
    assert (sent["side"], sent["aboveType"], sent["belowType"]) == ("BUY", "STOP_LOSS_LIMIT", "LIMIT_MAKER")
    assert (sent["aboveStopPrice"], sent["abovePrice"]) == ("45000.01", "45225.02")  # 0.5 % up, to the tick
    assert (sent["belowPrice"], sent["belowClientOrderId"]) == ("41000", LIMIT_ID)
    assert sent["aboveClientOrderId"] == STOP_ID


async def test_legs_found_by_client_ids(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    found_limit = await rig.gateway.fetch_order("BTC/USDT", client_order_id=LIMIT_ID)
    found_stop = await rig.gateway.fetch_order("BTC/USDT", client_order_id=STOP_ID)

    assert found_limit is not None and found_limit.exchange_order_id == limit.exchange_order_id
    assert found_stop is not None and found_stop.exchange_order_id == stop.exchange_order_id


async def test_partial_limit_fill_cancels_stop(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    rig.venue.fill(rig.venue.find(order_id=limit.exchange_order_id), "0.004")  # type: ignore[arg-type]

    now_limit = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=limit.exchange_order_id)
    now_stop = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=stop.exchange_order_id)
    assert now_limit is not None and now_stop is not None
    assert (now_limit.state, now_limit.filled_quantity) == (ExchangeOrderState.OPEN, D("0.004"))
    assert now_limit.average_price == D("45000")
    assert now_stop.state is ExchangeOrderState.CANCELED


async def test_cancelling_one_leg_ends_the_pair(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    cancelled = await rig.gateway.cancel_order("BTC/USDT", stop.exchange_order_id)

    assert cancelled.state is ExchangeOrderState.CANCELED
    sibling = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=limit.exchange_order_id)
    assert sibling is not None and sibling.state is ExchangeOrderState.CANCELED
    with pytest.raises(PermanentExchangeError) as raised:
        await rig.gateway.cancel_order("BTC/USDT", limit.exchange_order_id)
    assert raised.value.reason == "ORDER_NOT_FOUND"


async def test_rejected_pair_raises(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)

    with pytest.raises(PermanentExchangeError) as raised:
        # A sell's take-profit below the last price (43000.1) breaks Binance's price rule.
        await rig.gateway.create_oco(*pair(OrderSide.SELL, price="42000", stop="41000"))

    # Binance answers -1013, which ccxt leaves a plain exchange error.
    assert raised.value.reason == "EXCHANGE_ERROR"
    assert rig.venue.orders == []


async def test_taking_maker_leg_is_invalid(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    rig.venue.oco_reject = (-2010, "Order would immediately match and take.")

    with pytest.raises(PermanentExchangeError) as raised:
        await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    assert raised.value.reason == "INVALID_ORDER"
    assert rig.venue.orders == []


@pytest.mark.parametrize("exchange", LIVE)
async def test_oco_only_where_built(make_rig: RigFactory, exchange: Exchange) -> None:
    rig = make_rig(exchange)

    assert rig.gateway.capabilities.oco is (exchange is Exchange.BINANCE)
    if exchange is not Exchange.BINANCE:
        with pytest.raises(PermanentExchangeError) as raised:
            await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))
        assert raised.value.reason == "OCO_UNSUPPORTED"
        assert rig.http.requests == []


async def test_testnet_reports_oco_too(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE, testnet=True)

    await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    assert rig.gateway.capabilities.oco
    assert "testnet" in sent_url(rig)


def sent_url(rig: Any) -> str:
    return next(request.url for request in rig.http.requests if request.path == "/api/v3/orderList/oco")
