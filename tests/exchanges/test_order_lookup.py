"""A lost response to an order is resolved by a lookup by client order id, never by sending it again.

The whole path runs for real: OrderService, SQLite, the gateway registry
with the live gateway factory, the vault, and ccxt for each exchange, with
only the HTTP layer answered by a fake venue.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from bot.services import Services
from engine.accounts.linking import LinkRequest
from engine.accounts.models import Account, ApiCredentials, Exchange
from engine.common.secrets import Secret
from engine.orders.models import OrderRequest, OrderSide, OrderStatus, OrderType
from engine.orders.service import OrderService
from engine.risk.pretrade import BalanceCheck, PreTradeChecker
from engine.users.models import User
from engine.users.service import Registration
from tests.bot.linking import KEYS
from tests.fakes.ccxt_http import Request
from tests.fakes.venues import FakeExchanges

CREATE_PATHS = {
    Exchange.BINANCE: ("POST", "/api/v3/order"),
    Exchange.BYBIT: ("POST", "/v5/order/create"),
    Exchange.OKX: ("POST", "/api/v5/trade/batch-orders"),
    Exchange.MEXC: ("POST", "/api/v3/order"),
}
LOOKUPS = {
    Exchange.BINANCE: ("/api/v3/order", "origClientOrderId"),
    Exchange.BYBIT: ("/v5/order/realtime", "orderLinkId"),
    Exchange.OKX: ("/api/v5/trade/order", "clOrdId"),
    Exchange.MEXC: ("/api/v3/order", "origClientOrderId"),
}


@pytest.fixture
def exchanges(services: Services) -> Iterator[FakeExchanges]:
    fakes = FakeExchanges()
    services.exchange_clients.prepare = fakes.install
    yield fakes


def quick_lookups(services: Services) -> OrderService:
    """The order service as wired in the app, without the waits between lookups."""
    return OrderService(
        services.uow,
        services.gateways,
        services.bus,
        services.clock,
        PreTradeChecker([BalanceCheck()]),
        confirm_ttl=timedelta(seconds=60),
        lookup_attempts=2,
        lookup_delay_seconds=0,
    )


async def trader_with_account(services: Services, exchange: Exchange) -> tuple[User, Account]:
    user, _ = await services.users.register(
        Registration(telegram_id=5150, username="lookup", first_name="L", language="en")
    )
    keys = KEYS[exchange.value]
    credentials = ApiCredentials(
        Secret(keys.api_key), Secret(keys.secret), Secret(keys.passphrase) if keys.passphrase else None
    )
    check, account = await services.account_links.link(
        user, LinkRequest(exchange=exchange, name="Live", credentials=credentials, testnet=False)
    )
    assert check.ok and account is not None, check.problem
    return user, account


@pytest.mark.parametrize("exchange", [Exchange.BINANCE, Exchange.BYBIT, Exchange.OKX, Exchange.MEXC])
async def test_create_timeout_looks_up_client_id(
    services: Services, exchanges: FakeExchanges, exchange: Exchange
) -> None:
    user, account = await trader_with_account(services, exchange)
    http = exchanges.http[exchange.value.lower()]
    method, path = CREATE_PATHS[exchange]
    accept = next(
        route.handler for route in http.routes if route.method == method and route.path.search(path)
    )

    def accepted_but_answer_lost(request: Request) -> tuple[int, object]:
        accept(request)  # the exchange takes the order...
        raise ccxt.RequestTimeout(f"{exchange} POST timed out")  # ...and its response never arrives

    http.answer(method, path, accepted_but_answer_lost, times=1)

    order = await quick_lookups(services).place(
        user, account, OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.001"))
    )

    assert len(http.sent(method, path)) == 1, "the order was sent a second time"
    lookup_path, key = LOOKUPS[exchange]
    lookups = [r for r in http.sent("GET", lookup_path) if r.query.get(key) == order.client_order_id]
    assert lookups, f"no lookup by {key}"
    assert order.status is OrderStatus.FILLED
    assert order.exchange_order_id is not None


async def test_order_that_never_arrived_stays_pending(services: Services, exchanges: FakeExchanges) -> None:
    user, account = await trader_with_account(services, Exchange.BINANCE)
    http = exchanges.http["binance"]
    http.answer("POST", "/api/v3/order", ccxt.NetworkError("connection reset"), times=1)

    order = await quick_lookups(services).place(
        user, account, OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.001"))
    )

    assert len(http.sent("POST", "/api/v3/order")) == 1
    assert len(http.sent("GET", "/api/v3/order")) == 2, "one lookup per attempt"
    assert order.status is OrderStatus.PENDING
    async with services.uow(read_only=True) as uow:
        stored = await uow.orders.get(order.id)
    assert stored is not None and stored.status is OrderStatus.PENDING


async def test_gateway_reused_and_closed(services: Services, exchanges: FakeExchanges) -> None:
    _, account = await trader_with_account(services, Exchange.OKX)
    first = await services.gateways.gateway_for(account)
    second = await services.gateways.gateway_for(account)
    assert first is second
    closed: list[bool] = []
    client = exchanges.http["okx"].clients[-1]
    original_close = client.close

    async def close() -> None:
        closed.append(True)
        await original_close()

    client.close = close
    await services.gateways.close()
    assert closed == [True]
