"""Market definitions, tickers and candles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Market:
    """Trading rules of one symbol on one exchange.

    ``price_step`` and ``amount_step`` are tick sizes (e.g. 0.01 USDT and
    0.00001 BTC); ``min_cost`` is the minimum notional in the quote asset.
    """

    symbol: str
    base: str
    quote: str
    price_step: Decimal
    amount_step: Decimal
    min_amount: Decimal
    min_cost: Decimal
    taker_fee: Decimal
    maker_fee: Decimal
    max_amount: Decimal | None = None
    is_spot: bool = True
    is_contract: bool = False
    contract_size: Decimal | None = None


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last: Decimal
    timestamp: datetime
    bid: Decimal | None = None
    ask: Decimal | None = None


@dataclass(frozen=True)
class Candle:
    """One OHLCV bar; ``opened_at`` is the bar's open time in UTC, volume is in the base asset."""

    opened_at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
