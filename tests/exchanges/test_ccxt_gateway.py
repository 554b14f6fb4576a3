"""The ccxt gateway on each exchange: order types, minimums, rounding, Decimal values, trigger books."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.services import Services
from engine.accounts.models import Account, Exchange
from engine.brackets.models import ExitMode
from engine.common.ids import new_id
from engine.errors import PermanentExchangeError, ValidationError
from engine.exchanges.models import ExchangeOrder, ExchangeOrderState
from engine.orders.models import OrderRequest, OrderSide, OrderType, TimeInForce
from tests.conftest import START
from tests.exchanges.conftest import LIVE, RigFactory

D = Decimal


def request(
    order_type: OrderType,
    side: OrderSide = OrderSide.BUY,
    quantity: str = "0.001",
    price: str | None = None,
    stop: str | None = None,
    client_order_id: str = "ptgateway000000000000000000000001",
    symbol: str = "BTC/USDT",
) -> OrderRequest:
    return OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=D(quantity),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        client_order_id=client_order_id,
    )


def assert_decimal_money(order: ExchangeOrder) -> None:
    for name in ("quantity", "filled_quantity", "price", "stop_price", "average_price", "fee"):
        value = getattr(order, name)
        assert value is None or isinstance(value, Decimal), name
    for trade in order.trades:
        for name in ("price", "quantity", "fee"):
            assert isinstance(getattr(trade, name), Decimal), name


# ----- order types the fixtures do not cover -----------------------------------------


async def test_binance_market_buy_sends_base_quantity(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    order = await rig.gateway.create_order(request(OrderType.MARKET))

    sent = rig.http.sent("POST", "/api/v3/order")[0].form()
    assert (sent["type"], sent["side"], sent["quantity"]) == ("MARKET", "BUY", "0.001")
    assert "quoteOrderQty" not in sent
    assert "price" not in sent
    assert order.state is ExchangeOrderState.CLOSED
    assert order.filled_quantity == D("0.001")
    assert order.average_price == D("43000.1")
    assert [(t.price, t.quantity, t.fee, t.fee_asset) for t in order.trades] == [
        (D("43000.1"), D("0.001"), D("0.000001"), "BTC")
    ]
    assert_decimal_money(order)


async def test_binance_take_profit_limit_uses_stop_price(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    order = await rig.gateway.create_order(
        request(OrderType.TAKE_PROFIT_LIMIT, OrderSide.SELL, price="51000", stop="50000")
    )
    sent = rig.http.sent("POST", "/api/v3/order")[0].form()
    assert (sent["type"], sent["price"], sent["stopPrice"]) == ("TAKE_PROFIT_LIMIT", "51000", "50000")
    assert order.type is OrderType.TAKE_PROFIT_LIMIT
    assert (order.price, order.stop_price, order.is_trigger) == (D("51000"), D("50000"), False)


@pytest.mark.parametrize(
    ("exchange", "order_type"),
    [
        (Exchange.BINANCE, OrderType.STOP_MARKET),
        (Exchange.BINANCE, OrderType.TAKE_PROFIT),
        (Exchange.MEXC, OrderType.STOP_LIMIT),
        (Exchange.MEXC, OrderType.TAKE_PROFIT),
    ],
)
async def test_unsupported_order_type_is_refused_before_sending(
    make_rig: RigFactory, exchange: Exchange, order_type: OrderType
) -> None:
    rig = make_rig(exchange)
    price = "29000" if order_type.needs_price else None
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.create_order(request(order_type, OrderSide.SELL, price=price, stop="29500"))
    assert caught.value.reason == "ORDER_TYPE_UNSUPPORTED"
    assert not [r for r in rig.http.requests if r.method == "POST"]


async def test_bybit_take_profit_is_a_conditional_order(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BYBIT)
    order = await rig.gateway.create_order(request(OrderType.TAKE_PROFIT, OrderSide.SELL, stop="50000"))
    sent = rig.http.sent("POST", "/v5/order/create")[0].form()
    assert (sent["orderType"], sent["triggerPrice"], sent["orderFilter"]) == ("Market", "50000", "StopOrder")
    assert order.is_trigger is True
    assert order.stop_price == D("50000")


@pytest.mark.parametrize("exchange", [Exchange.BINANCE, Exchange.BYBIT, Exchange.OKX, Exchange.MEXC])
async def test_time_in_force_and_post_only_sent(make_rig: RigFactory, exchange: Exchange) -> None:
    rig = make_rig(exchange)
    ioc = OrderRequest(
        "BTC/USDT",
        OrderSide.BUY,
        OrderType.LIMIT,
        D("0.001"),
        price=D("30000"),
        time_in_force=TimeInForce.IOC,
        client_order_id="ptioc",
    )
    maker = OrderRequest(
        "BTC/USDT",
        OrderSide.BUY,
        OrderType.LIMIT,
        D("0.001"),
        price=D("30000"),
        post_only=True,
        client_order_id="ptmaker",
    )
    await rig.gateway.create_order(ioc)
    await rig.gateway.create_order(maker)
    sent = [r.form() for r in rig.http.requests if r.method == "POST"]
    text = " ".join(str(form) for form in sent)
    expected = {
        Exchange.BINANCE: ("'timeInForce': 'IOC'", "LIMIT_MAKER"),
        Exchange.BYBIT: ("'timeInForce': 'IOC'", "PostOnly"),
        Exchange.OKX: ("'ordType': 'ioc'", "post_only"),
        Exchange.MEXC: ("IMMEDIATE_OR_CANCEL", "LIMIT_MAKER"),
    }[exchange]
    for marker in expected:
        assert marker in text, (marker, text)


# ----- minimums and rounding ----------------------------------------------------------


@pytest.mark.parametrize("exchange", [Exchange.BINANCE, Exchange.BYBIT, Exchange.MEXC])
async def test_cost_below_minimum_is_refused(make_rig: RigFactory, exchange: Exchange) -> None:
    rig = make_rig(exchange)
    market = await rig.gateway.market("BTC/USDT")
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.create_order(request(OrderType.LIMIT, quantity="0.0001", price="10"))
    assert caught.value.reason == "COST_BELOW_MIN"
    assert caught.value.fields["minimum"] == market.min_cost
    assert caught.value.fields["value"] == D("0.0010")
    assert not rig.http.sent("POST", ".*order.*")


async def test_market_order_cost_uses_the_last_price(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    rig.venue.prices["BTC/USDT"] = "1000"
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.create_order(request(OrderType.MARKET, quantity="0.001"))
    assert caught.value.reason == "COST_BELOW_MIN"
    assert caught.value.fields["value"] == D("1.000")


@pytest.mark.parametrize("exchange", LIVE)
async def test_order_below_minimum_amount_is_refused(make_rig: RigFactory, exchange: Exchange) -> None:
    rig = make_rig(exchange)
    market = await rig.gateway.market("BTC/USDT")
    tiny = str(market.amount_step / 10)
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.create_order(request(OrderType.LIMIT, quantity=tiny, price="40000"))
    assert caught.value.reason == "QUANTITY_BELOW_MIN"
    assert caught.value.fields["minimum"] == market.min_amount
    assert not [r for r in rig.http.requests if r.method == "POST"]


@pytest.mark.parametrize(
    ("exchange", "quantity", "price", "sent_quantity", "sent_price"),
    [
        # Binance's recorded markets count decimal places: LTC amount 3, price 2.
        (Exchange.BINANCE, "0.4234234234", "55.324242343", "0.423", "55.32"),
        # Bybit's are tick sizes: LTC amount step 0.00001, price tick 0.01.
        (Exchange.BYBIT, "0.1444444234234234", "60.423423423", "0.14444", "60.42"),
        (Exchange.OKX, "1.23456789", "70.128", "1.234567", "70.13"),
        (Exchange.MEXC, "1.23456789", "70.125", "1.2345", "70.13"),
    ],
)
async def test_amount_truncates_and_price_rounds_to_the_market(
    make_rig: RigFactory, exchange: Exchange, quantity: str, price: str, sent_quantity: str, sent_price: str
) -> None:
    rig = make_rig(exchange)
    order = await rig.gateway.create_order(
        request(OrderType.LIMIT, quantity=quantity, price=price, symbol="LTC/USDT")
    )
    form = next(r.form() for r in rig.http.requests if r.method == "POST")
    quantity_key, price_key = {
        Exchange.BINANCE: ("quantity", "price"),
        Exchange.BYBIT: ("qty", "price"),
        Exchange.OKX: ("sz", "px"),
        Exchange.MEXC: ("quantity", "price"),
    }[exchange]
    assert (form[quantity_key], form[price_key]) == (sent_quantity, sent_price)
    assert order.quantity == D(sent_quantity)
    assert order.price == D(sent_price)
    assert_decimal_money(order)


@pytest.mark.parametrize("exchange", LIVE)
async def test_markets_have_exact_decimal_steps(make_rig: RigFactory, exchange: Exchange) -> None:
    rig = make_rig(exchange)
    market = await rig.gateway.market("BTC/USDT")
    expected = {
        Exchange.BINANCE: (D("0.01"), D("0.00001"), D("0.00001"), D("5")),
        Exchange.BYBIT: (D("0.1"), D("0.000001"), D("0.000011"), D("5")),
        Exchange.OKX: (D("0.1"), D("0.00000001"), D("0.00001"), D("0")),
        Exchange.MEXC: (D("0.01"), D("0.000001"), D("0.000001"), D("1")),
    }[exchange]
    assert (market.price_step, market.amount_step, market.min_amount, market.min_cost) == expected


async def test_unknown_symbol_is_a_validation_error(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.OKX)
    with pytest.raises(ValidationError) as caught:
        await rig.gateway.market("NOPE/USDT")
    assert caught.value.code == "SYMBOL_UNKNOWN"


# ----- lookups by client order id ------------------------------------------------------

LOOKUP_KEYS = {
    Exchange.BINANCE: ("/api/v3/order", "origClientOrderId"),
    Exchange.BYBIT: ("/v5/order/realtime", "orderLinkId"),
    Exchange.OKX: ("/api/v5/trade/order", "clOrdId"),
    Exchange.MEXC: ("/api/v3/order", "origClientOrderId"),
}


@pytest.mark.parametrize("exchange", LIVE)
async def test_fetch_order_by_client_order_id(make_rig: RigFactory, exchange: Exchange) -> None:
    rig = make_rig(exchange)
    created = await rig.gateway.create_order(
        request(OrderType.LIMIT, price="30000", client_order_id="ptlookup1")
    )
    rig.http.requests.clear()

    found = await rig.gateway.fetch_order("BTC/USDT", client_order_id="ptlookup1")
    assert found is not None
    assert (found.exchange_order_id, found.client_order_id) == (created.exchange_order_id, "ptlookup1")
    path, key = LOOKUP_KEYS[exchange]
    assert rig.http.sent("GET", path)[0].query[key] == "ptlookup1"


@pytest.mark.parametrize("exchange", [Exchange.BYBIT, Exchange.OKX])
async def test_client_id_lookup_also_searches_trigger_orders(
    make_rig: RigFactory, exchange: Exchange
) -> None:
    rig = make_rig(exchange)
    await rig.gateway.create_order(
        request(OrderType.STOP_LIMIT, OrderSide.SELL, price="29000", stop="29500", client_order_id="ptstop9")
    )
    found = await rig.gateway.fetch_order("BTC/USDT", client_order_id="ptstop9")
    assert found is not None
    assert found.is_trigger is True
    assert found.type is OrderType.STOP_LIMIT


# ----- open orders and cancels with the trigger flag ---------------------------------------


@pytest.mark.parametrize(
    ("exchange", "trigger_book"),
    [(Exchange.BINANCE, False), (Exchange.BYBIT, True), (Exchange.OKX, True)],
)
async def test_open_orders_include_trigger_orders(
    make_rig: RigFactory, exchange: Exchange, trigger_book: bool
) -> None:
    rig = make_rig(exchange)
    limit = await rig.gateway.create_order(request(OrderType.LIMIT, price="30000", client_order_id="ptopen1"))
    stop = await rig.gateway.create_order(
        request(OrderType.STOP_LIMIT, OrderSide.SELL, price="29000", stop="29500", client_order_id="ptopen2")
    )
    orders = {order.exchange_order_id: order for order in await rig.gateway.fetch_open_orders()}

    assert set(orders) == {limit.exchange_order_id, stop.exchange_order_id}
    assert orders[limit.exchange_order_id].is_trigger is False
    assert orders[stop.exchange_order_id].is_trigger is trigger_book
    assert orders[stop.exchange_order_id].type is OrderType.STOP_LIMIT
    assert orders[stop.exchange_order_id].stop_price == D("29500")


@pytest.mark.parametrize(
    ("exchange", "path", "flag"),
    [
        (Exchange.BYBIT, "/v5/order/cancel", ("orderFilter", "StopOrder")),
        (Exchange.OKX, "/api/v5/trade/cancel-algos", ("algoId", None)),
    ],
)
async def test_cancel_trigger_order_uses_the_trigger_book(
    make_rig: RigFactory, exchange: Exchange, path: str, flag: tuple[str, str | None]
) -> None:
    rig = make_rig(exchange)
    stop = await rig.gateway.create_order(
        request(OrderType.STOP_MARKET, OrderSide.SELL, stop="29500", client_order_id="ptcancel1")
    )
    cancelled = await rig.gateway.cancel_order("BTC/USDT", stop.exchange_order_id, is_trigger=True)

    form = rig.http.sent("POST", path)[0].form()
    key, value = flag
    assert form[key] == (value or stop.exchange_order_id)
    assert cancelled.state is ExchangeOrderState.CANCELED
    assert cancelled.is_trigger is True


# ----- amend ---------------------------------------------------------------------------------


async def test_amend_is_refused_where_the_exchange_has_none(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.edit_order("BTC/USDT", "1001", price=D("31000"))
    assert caught.value.reason == "AMEND_UNSUPPORTED"
    assert not rig.http.requests


@pytest.mark.parametrize(
    ("exchange", "path"), [(Exchange.BYBIT, "/v5/order/amend"), (Exchange.OKX, "/api/v5/trade/amend-order")]
)
async def test_amend_changes_price_and_quantity_in_place(
    make_rig: RigFactory, exchange: Exchange, path: str
) -> None:
    rig = make_rig(exchange)
    order = await rig.gateway.create_order(
        request(OrderType.LIMIT, price="30000", client_order_id="ptamend1")
    )
    amended = await rig.gateway.edit_order(
        "BTC/USDT", order.exchange_order_id, quantity=D("0.002"), price=D("30500")
    )

    assert rig.http.sent("POST", path)
    assert amended.exchange_order_id == order.exchange_order_id
    assert (amended.quantity, amended.price) == (D("0.002"), D("30500"))


# ----- markets cache and environments ---------------------------------------------------------


async def test_markets_are_cached_and_reloaded_after_their_ttl(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BYBIT)
    client = rig.http.clients[0]
    downloads = 0
    recorded = dict(client.markets)

    async def load_markets(reload: bool = False) -> dict:
        nonlocal downloads
        downloads += 1
        client.set_markets(recorded)
        return client.markets

    client.load_markets = load_markets
    await rig.gateway.market("BTC/USDT")
    await rig.gateway.market("ETH/USDT")
    assert downloads == 0, "the first load uses the markets the client already holds"

    rig.clock.advance(timedelta(hours=1).total_seconds())
    await rig.gateway.market("BTC/USDT")
    await rig.gateway.market("BTC/USDT")
    assert downloads == 1


@pytest.mark.parametrize(
    ("exchange", "host"),
    [(Exchange.BINANCE, "testnet.binance.vision"), (Exchange.BYBIT, "api-testnet.bybit.com")],
)
async def test_testnet_accounts_use_testnet_hosts(
    make_rig: RigFactory, exchange: Exchange, host: str
) -> None:
    rig = make_rig(exchange, testnet=True)
    await rig.gateway.fetch_balance()
    assert rig.http.requests
    assert all(host in r.url for r in rig.http.requests if "sapi" not in r.url)


# ----- bracket exits ------------------------------------------------------------------------


@pytest.mark.parametrize("exchange", [Exchange.BYBIT, Exchange.MEXC])
async def test_live_brackets_are_watched_from_the_start(
    make_rig: RigFactory, services: Services, exchange: Exchange
) -> None:
    rig = make_rig(exchange)
    account = Account(new_id(), new_id(), exchange, "Main", False, True, False, START, START)

    assert rig.gateway.capabilities.oco is False
    assert services.brackets.exit_mode_for(account, rig.gateway, None) is ExitMode.SYNTHETIC
    with pytest.raises(ValidationError) as caught:
        services.brackets.exit_mode_for(account, rig.gateway, ExitMode.NATIVE)
    assert caught.value.code == "BRACKET_NATIVE_UNSUPPORTED"


@pytest.mark.parametrize("testnet", [False, True])
@pytest.mark.parametrize("exchange", [Exchange.BINANCE, Exchange.OKX])
async def test_brackets_rest_native_exits(
    make_rig: RigFactory, services: Services, exchange: Exchange, testnet: bool
) -> None:
    rig = make_rig(exchange, testnet=testnet)
    account = Account(new_id(), new_id(), exchange, "Main", testnet, True, False, START, START)

    assert rig.gateway.capabilities.oco is True
    assert services.brackets.exit_mode_for(account, rig.gateway, None) is ExitMode.NATIVE
    assert services.brackets.exit_mode_for(account, rig.gateway, ExitMode.SYNTHETIC) is ExitMode.SYNTHETIC
