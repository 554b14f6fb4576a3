"""The requests the gateway sends through real ccxt, compared with ccxt's recorded request fixtures.

Each recorded case names a unified call and the request ccxt builds for it.
The gateway is asked for the same thing in the engine's terms (an
OrderRequest, an order id, the trigger flag); the request it makes must equal
the recorded one once the per-run fields (``skipKeys``: signatures,
timestamps, generated client ids) and the client order id are removed. The
client order id is then checked on its own: it must be PATRIOT's.
"""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt.async_support as ccxt
import pytest

from engine.accounts.models import Exchange
from engine.errors import ExchangeError
from engine.exchanges.ccxt.gateway import CcxtGateway
from engine.orders.models import OrderRequest, OrderSide, OrderType, TimeInForce
from tests.exchanges.conftest import RigFactory
from tests.fakes.ccxt_http import Request, recorded_requests

CLIENT_ORDER_ID = "pt0123456789abcdef0123456789abcd"
# Where each exchange carries the client order id in a new order.
CLIENT_ID_KEYS = {
    Exchange.BINANCE: "newClientOrderId",
    Exchange.BYBIT: "orderLinkId",
    Exchange.OKX: "clOrdId",
    Exchange.MEXC: "newClientOrderId",
}


def order_request(arguments: list[Any]) -> OrderRequest:
    """The engine's OrderRequest for a recorded ``createOrder(symbol, type, side, amount, price, params)``."""
    symbol, kind, side, amount, price, params = [*arguments, None, None][:6]
    params = params or {}
    is_limit = kind == "limit"
    stop = params.get("triggerPrice") or params.get("stopPrice") or params.get("stopLossPrice")
    take_profit = params.get("takeProfitPrice")
    if take_profit is not None:
        order_type, stop = (OrderType.TAKE_PROFIT_LIMIT if is_limit else OrderType.TAKE_PROFIT), take_profit
    elif stop is not None:
        order_type = OrderType.STOP_LIMIT if is_limit else OrderType.STOP_MARKET
    else:
        order_type = OrderType.LIMIT if is_limit else OrderType.MARKET
    return OrderRequest(
        symbol=symbol,
        side=OrderSide(side.upper()),
        type=order_type,
        quantity=Decimal(str(amount)),
        price=Decimal(str(price)) if is_limit else None,
        stop_price=Decimal(str(stop)) if stop is not None else None,
        time_in_force=TimeInForce(params.get("timeInForce", "GTC")),
        post_only=bool(params.get("postOnly")),
        client_order_id=params.get("clientOrderId", CLIENT_ORDER_ID),
    )


async def call_gateway(gateway: CcxtGateway, method: str, arguments: list[Any]) -> None:
    """Make the gateway call that corresponds to one recorded unified call."""
    params = (arguments[-1] if arguments and isinstance(arguments[-1], dict) else None) or {}
    is_trigger = bool(params.get("trigger") or params.get("stop"))
    if method == "createOrder":
        await gateway.create_order(order_request(arguments))
    elif method == "cancelOrder":
        await gateway.cancel_order(arguments[1], arguments[0], is_trigger=is_trigger)
    elif method == "fetchOrder":
        await gateway.fetch_order(arguments[1], exchange_order_id=arguments[0], is_trigger=is_trigger)
    elif method == "fetchOpenOrders":
        await gateway.fetch_open_orders(arguments[0] if arguments else None)
    elif method == "fetchBalance":
        await gateway.fetch_balance()
    elif method == "fetchOrderBook":
        await gateway.fetch_order_book(arguments[0], arguments[1])
    elif method == "fetchMyTrades":
        await gateway.fetch_my_trades(arguments[0])
    elif method == "editOrder":
        _, symbol, _, _, amount, price = arguments[:6]
        await gateway.edit_order(
            symbol, arguments[0], quantity=Decimal(str(amount)), price=Decimal(str(price))
        )
    else:
        raise AssertionError(f"no gateway call for {method}")


def parameters(url: str, body: Any, output_type: str) -> Any:
    """The query string and body of a request as one structure (a dict, or a list for batch bodies)."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    if body is None:
        return query
    if output_type == "json" or str(body).lstrip().startswith(("{", "[")):
        parsed = json.loads(body) if isinstance(body, str) else body
        return {**query, **parsed} if isinstance(parsed, dict) else parsed
    return {**query, **dict(parse_qsl(body, keep_blank_values=True))}


def without(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {key: without(item, keys) for key, item in value.items() if key not in keys}
    if isinstance(value, list):
        return [without(item, keys) for item in value]
    return value


def recorded_cases() -> list[Any]:
    cases = []
    for exchange in (Exchange.BINANCE, Exchange.BYBIT, Exchange.OKX, Exchange.MEXC):
        fixture = recorded_requests(exchange.value.lower())
        for method, entries in fixture["methods"].items():
            for entry in entries:
                case_id = f"{exchange.value.lower()}-{method}-{entry['description']}"
                cases.append(pytest.param(exchange, fixture, method, entry, id=case_id))
    return cases


@pytest.mark.parametrize(("exchange", "fixture", "method", "entry"), recorded_cases())
async def test_request_matches_recorded_fixture(
    make_rig: RigFactory, exchange: Exchange, fixture: dict[str, Any], method: str, entry: dict[str, Any]
) -> None:
    rig = make_rig(exchange)
    # Endpoints the fake venue does not serve (swap algo orders) fail after the request is recorded.
    rig.http.unanswered = ccxt.ExchangeNotAvailable("recorded, not answered")
    # An order the venue does not know, or an unanswered endpoint, fails after the request: it is what counts.
    with contextlib.suppress(ExchangeError):
        await call_gateway(rig.gateway, method, entry["input"])

    expected_path = urlsplit(entry["url"]).path
    sent = [request for request in rig.http.requests if request.path == expected_path]
    assert sent, f"no request to {expected_path}; sent {[r.url for r in rig.http.requests]}"

    output_type = fixture.get("outputType", "urlencoded")
    client_key = CLIENT_ID_KEYS[exchange]
    ignored = set(fixture.get("skipKeys", [])) | {client_key, "tag"}
    expected = without(parameters(entry["url"], entry.get("output"), output_type), ignored)
    actual = [without(parameters(r.url, r.body, output_type), ignored) for r in sent]
    assert expected in actual

    if method == "createOrder":
        matching = sent[actual.index(expected)]
        sent_id = _client_id(matching, client_key, output_type)
        assert sent_id == order_request(entry["input"]).client_order_id


def _client_id(request: Request, key: str, output_type: str) -> Any:
    sent = parameters(request.url, request.body, output_type)
    return (sent[0] if isinstance(sent, list) else sent).get(key)
