"""Building ccxt clients: keys, spot defaults, rate limiting, testnet URLs, timeouts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from engine.accounts.models import ApiCredentials, Exchange
from engine.errors import PermanentExchangeError
from engine.exchanges.capabilities import has_testnet
from engine.exchanges.ccxt.lazy import ccxt

logger = logging.getLogger(__name__)

# ccxt logs every request at DEBUG with its headers, which carry the API key
# (and on OKX the passphrase). PATRIOT logs what matters itself, so ccxt's own
# lines stay off at any LOG_LEVEL.
logging.getLogger("ccxt").setLevel(logging.INFO)

CCXT_IDS = {
    Exchange.BINANCE: "binance",
    Exchange.BYBIT: "bybit",
    Exchange.OKX: "okx",
    Exchange.MEXC: "mexc",
}

# PATRIOT trades spot on live exchanges: symbol-less calls (balances, open
# orders) go to the spot account, and only spot markets are downloaded.
_SPOT_MARKETS: dict[Exchange, dict[str, Any]] = {
    Exchange.BINANCE: {"fetchMarkets": {"types": ["spot"]}},
    Exchange.BYBIT: {"fetchMarkets": {"types": ["spot"]}},
    Exchange.OKX: {"fetchMarkets": {"types": ["spot"]}},
    Exchange.MEXC: {"fetchMarkets": {"types": {"spot": True, "swap": {"linear": False, "inverse": False}}}},
}

_EXTRA_OPTIONS: dict[Exchange, dict[str, Any]] = {
    # Open orders of every symbol in one call cost more request weight; PATRIOT
    # makes that call on purpose (order sync), so ccxt's guard is turned off.
    Exchange.BINANCE: {"warnOnFetchOpenOrdersWithoutSymbol": False},
}

ClientHook = Callable[[Any], None]


class CcxtClientFactory:
    """Creates one ccxt client per account session (gateways) or per key check."""

    def __init__(self, *, timeout_seconds: float = 10.0, prepare: ClientHook | None = None) -> None:
        self._timeout_ms = int(timeout_seconds * 1000)
        # Called with every new client before its first request. Tests use it to
        # serve the HTTP layer locally, and production leaves it unset.
        self.prepare = prepare

    def create(self, exchange: Exchange, credentials: ApiCredentials, *, testnet: bool) -> Any:
        if exchange not in CCXT_IDS:
            raise PermanentExchangeError(f"no ccxt client for {exchange}", reason="EXCHANGE_NOT_CONFIGURED")
        if testnet and not has_testnet(exchange):
            raise PermanentExchangeError(
                f"{exchange} has no testnet", reason="TESTNET_UNSUPPORTED", exchange=exchange.value
            )

        config: dict[str, Any] = {
            "apiKey": credentials.api_key.reveal(),
            "secret": credentials.secret.reveal(),
            # NOTE: each client throttles itself, so many accounts on one exchange
            # share this server's per-IP request limits without coordination.
            "enableRateLimit": True,
            "timeout": self._timeout_ms,
            "options": {"defaultType": "spot", **_SPOT_MARKETS[exchange], **_EXTRA_OPTIONS.get(exchange, {})},
        }
        if credentials.passphrase is not None:
            config["password"] = credentials.passphrase.reveal()
        client = getattr(ccxt, CCXT_IDS[exchange])(config)
        # Currencies come from private endpoints on some exchanges and are not
        # needed for spot trading; skipping them saves a request per load.
        client.has = {**client.has, "fetchCurrencies": False}
        if testnet:
            # Binance and Bybit: their testnet hosts; OKX: demo trading header.
            client.set_sandbox_mode(True)
        if self.prepare is not None:
            self.prepare(client)
        return client
