"""A CcxtGateway per exchange, over real ccxt code whose HTTP layer a fake venue answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from engine.accounts.models import ApiCredentials, Exchange
from engine.common.clock import ManualClock
from engine.common.secrets import Secret
from engine.exchanges.ccxt.client import CcxtClientFactory
from engine.exchanges.ccxt.gateway import CcxtGateway, KeyRejected
from engine.exchanges.ccxt.markets import MarketCatalog
from tests.conftest import START
from tests.fakes.ccxt_http import FakeExchangeHttp
from tests.fakes.venues import Venue, venue

KEY = "k" * 64
SECRET = "s" * 64
PASSPHRASE = "Passw0rd!"
CREDENTIALS = ApiCredentials(Secret(KEY), Secret(SECRET), Secret(PASSPHRASE))
LIVE = [Exchange.BINANCE, Exchange.BYBIT, Exchange.OKX, Exchange.MEXC]


@dataclass
class GatewayRig:
    exchange: Exchange
    http: FakeExchangeHttp
    venue: Venue
    gateway: CcxtGateway
    clock: ManualClock


RigFactory = Callable[..., GatewayRig]


@pytest.fixture
async def make_rig() -> AsyncIterator[RigFactory]:
    built: list[GatewayRig] = []

    def make(
        exchange: Exchange, *, on_key_rejected: KeyRejected | None = None, testnet: bool = False
    ) -> GatewayRig:
        http = FakeExchangeHttp()
        fake = venue(http, exchange.value.lower())
        clock = ManualClock(START)
        clients = CcxtClientFactory(prepare=http.install)
        client = clients.create(exchange, CREDENTIALS, testnet=testnet)
        gateway = CcxtGateway(
            exchange,
            client,
            account_id=uuid.uuid4(),
            testnet=testnet,
            catalog=MarketCatalog(clock, timedelta(hours=1)),
            clock=clock,
            secrets=[KEY, SECRET, PASSPHRASE],
            on_key_rejected=on_key_rejected,
        )
        rig = GatewayRig(exchange, http, fake, gateway, clock)
        built.append(rig)
        return rig

    yield make
    for rig in built:
        await rig.gateway.close()
