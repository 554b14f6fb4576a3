"""Live last prices from an exchange's public ticker endpoint through ccxt.

Used by the PAPER exchange when PAPER_PRICE_SOURCE=live. Needs no keys.
Prices are cached for a few seconds so a burst of requests costs one call.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from decimal import Decimal

from engine.common.clock import Clock
from engine.errors import TemporaryExchangeError, ValidationError
from engine.exchanges.ccxt.lazy import ccxt
from engine.market.models import Ticker

logger = logging.getLogger(__name__)

CACHE_TTL = timedelta(seconds=3)
LIVE_SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT")


class LiveTickerFeed:
    def __init__(
        self,
        exchange_id: str,
        clock: Clock,
        *,
        symbols: tuple[str, ...] = LIVE_SYMBOLS,
        exchange: ccxt.Exchange | None = None,
    ) -> None:
        self._clock = clock
        self._symbols = symbols
        self._exchange = exchange or getattr(ccxt, exchange_id)({"enableRateLimit": True})
        self._cache: dict[str, Ticker] = {}
        self._lock = asyncio.Lock()

    def symbols(self) -> list[str]:
        return list(self._symbols)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        if symbol not in self._symbols:
            raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=list(self._symbols))
        cached = self._cache.get(symbol)
        now = self._clock.now()
        if cached is not None and now - cached.timestamp < CACHE_TTL:
            return cached

        async with self._lock:
            try:
                raw = await self._exchange.fetch_ticker(symbol)
            except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as exc:
                raise TemporaryExchangeError(f"ticker {symbol}: {type(exc).__name__}") from exc
            except ccxt.BadSymbol as exc:
                raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=list(self._symbols)) from exc

        ticker = Ticker(
            symbol=symbol,
            last=_decimal(raw.get("last")),
            timestamp=now,
            bid=_optional_decimal(raw.get("bid")),
            ask=_optional_decimal(raw.get("ask")),
        )
        self._cache[symbol] = ticker
        return ticker

    async def close(self) -> None:
        await self._exchange.close()


def _decimal(value: object) -> Decimal:
    if value is None:
        raise TemporaryExchangeError("ticker without a last price")
    # ccxt parses JSON numbers to floats; str() gives their shortest decimal form.
    return Decimal(str(value))


def _optional_decimal(value: object) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None
