"""ccxt's exceptions become engine errors that show whether a retry can help, with a reason code."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from engine.accounts.models import Exchange
from engine.errors import PermanentExchangeError, TemporaryExchangeError
from engine.exchanges.ccxt.errors import exchange_code, translated_errors
from engine.orders.models import OrderRequest, OrderSide, OrderType
from tests.exchanges.conftest import KEY, SECRET, RigFactory

# (ccxt class, temporary?, reason). Subclasses come before their parents in
# ccxt's hierarchy, so each must keep its own meaning.
CLASSES = [
    (ccxt.RequestTimeout, True, "TIMEOUT"),
    (ccxt.RateLimitExceeded, True, "RATE_LIMITED"),
    (ccxt.DDoSProtection, True, "RATE_LIMITED"),
    (ccxt.InvalidNonce, True, "CLOCK_SKEW"),
    (ccxt.OnMaintenance, True, "EXCHANGE_UNAVAILABLE"),
    (ccxt.ExchangeNotAvailable, True, "EXCHANGE_UNAVAILABLE"),
    (ccxt.NetworkError, True, "NETWORK_ERROR"),
    (ccxt.BadResponse, True, "BAD_RESPONSE"),
    (ccxt.PermissionDenied, False, "PERMISSION_DENIED"),
    (ccxt.AuthenticationError, False, "AUTHENTICATION_FAILED"),
    (ccxt.InsufficientFunds, False, "INSUFFICIENT_FUNDS"),
    (ccxt.DuplicateOrderId, False, "DUPLICATE_CLIENT_ORDER_ID"),
    (ccxt.OrderNotFound, False, "ORDER_NOT_FOUND"),
    (ccxt.InvalidOrder, False, "INVALID_ORDER"),
    (ccxt.BadSymbol, False, "SYMBOL_UNKNOWN"),
    (ccxt.NotSupported, False, "NOT_SUPPORTED"),
    (ccxt.ExchangeError, False, "EXCHANGE_ERROR"),
]


@pytest.mark.parametrize(
    ("error_class", "temporary", "reason"), CLASSES, ids=[c[0].__name__ for c in CLASSES]
)
def test_ccxt_class_maps_to_retry_meaning(error_class: type[Exception], temporary: bool, reason: str) -> None:
    expected = TemporaryExchangeError if temporary else PermanentExchangeError
    with pytest.raises(expected) as caught, translated_errors(Exchange.BYBIT):
        raise error_class("bybit something failed")
    assert caught.value.reason == reason
    assert isinstance(caught.value.__cause__, error_class)


# Real exchange answers run through ccxt's own error handling, then the gateway's.
ANSWERS = [
    (
        Exchange.BINANCE,
        "GET",
        "/api/v3/account",
        401,
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
        "KEY_REJECTED",
    ),
    (
        Exchange.BINANCE,
        "GET",
        "/api/v3/account",
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
        "AUTHENTICATION_FAILED",
    ),
    (
        Exchange.BINANCE,
        "GET",
        "/api/v3/ticker/24hr",
        400,
        {"code": -1121, "msg": "Invalid symbol."},
        "SYMBOL_UNKNOWN",
    ),
    (
        Exchange.BYBIT,
        "GET",
        "/v5/account/wallet-balance",
        200,
        {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}},
        "AUTHENTICATION_FAILED",
    ),
    (
        Exchange.BYBIT,
        "GET",
        "/v5/account/wallet-balance",
        200,
        {"retCode": 10010, "retMsg": "Unmatched IP", "result": {}},
        "IP_NOT_ALLOWED",
    ),
    (
        Exchange.BYBIT,
        "GET",
        "/v5/account/wallet-balance",
        200,
        {"retCode": 10005, "retMsg": "Permission denied", "result": {}},
        "PERMISSION_DENIED",
    ),
    (
        Exchange.BYBIT,
        "GET",
        "/v5/account/wallet-balance",
        200,
        {"retCode": 33004, "retMsg": "api key expired", "result": {}},
        "KEY_EXPIRED",
    ),
    (
        Exchange.OKX,
        "GET",
        "/api/v5/account/balance",
        200,
        {"code": "50110", "msg": "Invalid IP", "data": []},
        "IP_NOT_ALLOWED",
    ),
    (
        Exchange.OKX,
        "GET",
        "/api/v5/account/balance",
        200,
        {"code": "50105", "msg": "Passphrase incorrect", "data": []},
        "AUTHENTICATION_FAILED",
    ),
    (
        Exchange.OKX,
        "GET",
        "/api/v5/account/balance",
        200,
        {"code": "50101", "msg": "APIKey does not match current environment.", "data": []},
        "WRONG_ENVIRONMENT",
    ),
    (
        Exchange.MEXC,
        "GET",
        "/api/v3/account",
        400,
        {"code": 10072, "msg": "Api key info invalid"},
        "AUTHENTICATION_FAILED",
    ),
    (
        Exchange.MEXC,
        "GET",
        "/api/v3/account",
        400,
        {"code": 700006, "msg": "IP [1.2.3.4] not in the ip white list"},
        "IP_NOT_ALLOWED",
    ),
    (
        Exchange.MEXC,
        "GET",
        "/api/v3/account",
        400,
        {"code": 700007, "msg": "No permission to access the endpoint."},
        "PERMISSION_DENIED",
    ),
]


@pytest.mark.parametrize(("exchange", "method", "path", "status", "body", "reason"), ANSWERS)
async def test_exchange_answer_maps_to_reason(
    make_rig: RigFactory, exchange: Exchange, method: str, path: str, status: int, body: dict, reason: str
) -> None:
    rig = make_rig(exchange)
    rig.http.answer(method, path, (status, body))
    with pytest.raises(PermanentExchangeError) as caught:
        if path.endswith("ticker/24hr"):
            await rig.gateway.fetch_ticker("BTC/USDT")
        else:
            await rig.gateway.fetch_balance()
    assert caught.value.reason == reason


async def test_insufficient_funds_on_create_is_permanent(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.BINANCE)
    rig.http.answer(
        "POST",
        "/api/v3/order",
        (400, {"code": -2010, "msg": "Account has insufficient balance for requested action."}),
    )
    request = OrderRequest(
        "BTC/USDT",
        OrderSide.BUY,
        OrderType.LIMIT,
        Decimal("0.001"),
        price=Decimal("40000"),
        client_order_id="ptfunds",
    )
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.create_order(request)
    assert caught.value.reason == "INSUFFICIENT_FUNDS"


async def test_missing_order_lookup_returns_none_on_every_exchange(make_rig: RigFactory) -> None:
    for exchange in (Exchange.BINANCE, Exchange.BYBIT, Exchange.OKX, Exchange.MEXC):
        rig = make_rig(exchange)
        assert await rig.gateway.fetch_order("BTC/USDT", client_order_id="ptnosuchorder") is None
        assert await rig.gateway.fetch_order("BTC/USDT", exchange_order_id="999999") is None


async def test_key_rejection_reported_and_raised(make_rig: RigFactory) -> None:
    reported: list[str] = []

    async def rejected(reason: str) -> None:
        reported.append(reason)

    rig = make_rig(Exchange.BYBIT, on_key_rejected=rejected)
    rig.http.answer(
        "GET",
        "/v5/account/wallet-balance",
        (200, {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}}),
    )
    with pytest.raises(PermanentExchangeError):
        await rig.gateway.fetch_balance()
    assert reported == ["AUTHENTICATION_FAILED"]

    rig.http.answer(
        "POST",
        "/v5/order/create",
        (200, {"retCode": 170131, "retMsg": "Insufficient balance.", "result": {}}),
    )
    request = OrderRequest(
        "BTC/USDT",
        OrderSide.BUY,
        OrderType.LIMIT,
        Decimal("0.001"),
        price=Decimal("40000"),
        client_order_id="ptfunds",
    )
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.create_order(request)
    assert caught.value.reason == "INSUFFICIENT_FUNDS"
    assert reported == ["AUTHENTICATION_FAILED"], "an order rejection is not a key problem"


async def test_error_messages_mask_the_keys(make_rig: RigFactory) -> None:
    rig = make_rig(Exchange.MEXC)
    rig.http.answer(
        "GET", "/api/v3/account", (400, {"code": 10072, "msg": f"invalid key {KEY} with {SECRET}"})
    )
    with pytest.raises(PermanentExchangeError) as caught:
        await rig.gateway.fetch_balance()
    assert KEY not in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


def test_exchange_code_is_read_from_ccxt_messages() -> None:
    assert exchange_code('binance {"code":-2015,"msg":"Invalid API-key"}') == "-2015"
    assert exchange_code('bybit {"retCode":10010,"retMsg":"Unmatched IP"}') == "10010"
    assert exchange_code('okx {"code":"50110","msg":"Invalid IP","data":[]}') == "50110"
    assert exchange_code("network is down") is None
