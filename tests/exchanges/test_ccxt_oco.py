"""OCO pairs through real ccxt: Binance's order list, OKX's OCO algo order, and the exchanges without one.

ccxt's recorded request fixtures hold no order-list or OCO algo case, so
each request is compared with the parameters the exchange documents
(``POST /api/v3/orderList/oco``, ``POST /api/v5/trade/order-algo``), written
out below. The fake venues behave as the exchanges do: on Binance one leg
that fills cancels the other, and a cancel of either leg ends the list. On
OKX the pair is one algo order whose fired leg places a regular order.
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
    built = exchange in (Exchange.BINANCE, Exchange.OKX)

    assert rig.gateway.capabilities.oco is built
    if not built:
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


# ----- OKX: one algo order of ordType "oco" -------------------------------------------


def okx_sent(rig: Any) -> dict[str, Any]:
    requests = [request for request in rig.http.requests if request.path == "/api/v5/trade/order-algo"]
    assert [request.method for request in requests] == ["POST"]
    return dict(requests[0].form())


async def test_okx_pair_request(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)

    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000.04", stop="41000"))

    assert okx_sent(rig) == {
        "instId": "BTC-USDT",
        "side": "sell",
        "ordType": "oco",
        "sz": "0.01",
        "tdMode": "cross",  # ccxt 4.5 replaces cash for spot algo orders
        "tpTriggerPx": "45000",
        "tpOrdPx": "45000",
        "tpTriggerPxType": "last",
        "slTriggerPx": "41000",
        "slOrdPx": "-1",
        "slTriggerPxType": "last",
        "algoClOrdId": LIMIT_ID,
        "clOrdId": LIMIT_ID,
    }
    assert (limit.client_order_id, stop.client_order_id) == (LIMIT_ID, STOP_ID)
    algo_id = rig.venue.orders[0].id
    assert (limit.exchange_order_id, stop.exchange_order_id) == (f"{algo_id}:tp", f"{algo_id}:sl")
    assert (limit.type, limit.price, limit.state) == (OrderType.LIMIT, D("45000"), ExchangeOrderState.OPEN)
    assert (stop.type, stop.stop_price, stop.state) == (
        OrderType.STOP_MARKET,
        D("41000"),
        ExchangeOrderState.OPEN,
    )


async def test_okx_buy_pair_request(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)

    await rig.gateway.create_oco(*pair(OrderSide.BUY, price="41000", stop="45000"))

    sent = okx_sent(rig)
    assert (sent["side"], sent["sz"], sent["tgtCcy"]) == ("buy", "0.01", "base_ccy")
    assert (sent["tpTriggerPx"], sent["tpOrdPx"], sent["slTriggerPx"]) == ("41000", "41000", "45000")


async def test_okx_legs_found_by_id(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    by_client = await rig.gateway.fetch_order("BTC/USDT", client_order_id=LIMIT_ID)
    by_id = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=stop.exchange_order_id)

    assert by_client is not None and by_client.exchange_order_id == limit.exchange_order_id
    assert by_id is not None and (by_id.type, by_id.state) == (OrderType.STOP_MARKET, ExchangeOrderState.OPEN)
    # The algo order carries only the take-profit leg's client order id, so the stop leg's finds nothing.
    assert await rig.gateway.fetch_order("BTC/USDT", client_order_id=STOP_ID) is None


async def test_okx_fired_take_profit_cancels_stop(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    child = rig.venue.fire(rig.venue.orders[0], "tp", filled="0.004")

    now_limit = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=limit.exchange_order_id)
    now_stop = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=stop.exchange_order_id)
    assert now_limit is not None and now_stop is not None
    assert now_limit.exchange_order_id == child.id, "the fired leg is the order it placed"
    assert (now_limit.state, now_limit.filled_quantity) == (ExchangeOrderState.OPEN, D("0.004"))
    assert now_limit.is_trigger is False
    assert now_stop.state is ExchangeOrderState.CANCELED


async def test_okx_fired_stop_cancels_target(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    rig.venue.fire(rig.venue.orders[0], "sl")

    now_limit = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=limit.exchange_order_id)
    now_stop = await rig.gateway.fetch_order("BTC/USDT", exchange_order_id=stop.exchange_order_id)
    assert now_limit is not None and now_stop is not None
    assert now_limit.state is ExchangeOrderState.CANCELED
    assert (now_stop.state, now_stop.filled_quantity) == (ExchangeOrderState.CLOSED, D("0.01"))


async def test_okx_cancel_either_leg_ends_pair(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    cancelled = await rig.gateway.cancel_order("BTC/USDT", stop.exchange_order_id, is_trigger=True)

    assert cancelled.state is ExchangeOrderState.CANCELED
    assert rig.venue.orders[0].status == "canceled"
    with pytest.raises(PermanentExchangeError) as raised:
        await rig.gateway.cancel_order("BTC/USDT", limit.exchange_order_id, is_trigger=True)
    assert raised.value.reason == "ORDER_NOT_FOUND"


async def test_okx_open_pair_lists_both_legs(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)
    limit, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    listed = {order.exchange_order_id: order for order in await rig.gateway.fetch_open_orders()}

    assert set(listed) == {limit.exchange_order_id, stop.exchange_order_id}
    assert listed[limit.exchange_order_id].client_order_id == LIMIT_ID
    assert listed[stop.exchange_order_id].stop_price == D("41000")


async def test_okx_pair_cannot_be_amended(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)
    _, stop = await rig.gateway.create_oco(*pair(OrderSide.SELL, price="45000", stop="41000"))

    with pytest.raises(PermanentExchangeError) as raised:
        await rig.gateway.edit_order("BTC/USDT", stop.exchange_order_id, stop_price=D("42000"))

    assert raised.value.reason == "AMEND_UNSUPPORTED"


async def test_okx_rejected_pair_raises(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)

    with pytest.raises(PermanentExchangeError):
        # A sell's take-profit below the last price (43000.1).
        await rig.gateway.create_oco(*pair(OrderSide.SELL, price="42000", stop="41000"))

    assert rig.venue.orders == []
