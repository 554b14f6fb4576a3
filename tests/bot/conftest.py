"""Fake exchange venues behind every ccxt client the services create."""

from __future__ import annotations

import pytest

from bot.services import Services
from tests.fakes.venues import FakeExchanges


@pytest.fixture
def exchanges(services: Services) -> FakeExchanges:
    """Binance, Bybit, OKX and MEXC answered in the process; no request leaves it."""
    fakes = FakeExchanges()
    services.exchange_clients.prepare = fakes.install
    return fakes
