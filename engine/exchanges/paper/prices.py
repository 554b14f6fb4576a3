"""Sources of PAPER's price path: the replay of recorded candles, or polled live tickers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.market.models import Candle
from engine.market.path import PathStep, ReplayGeometry, walk
from engine.market.ports import PriceFeed
from engine.market.replay import ReplayPriceFeed

# Live tickers carry no candle volume, so the simulated book is effectively deep.
LIVE_VOLUME = Decimal("1000000")


class PricePath(Protocol):
    async def steps(self, symbol: str, start: datetime, end: datetime) -> list[PathStep]:
        """Return the path the price took from ``start`` to ``end``, oldest step first."""
        ...

    def current_candle(self, symbol: str, last: Decimal, now: datetime) -> Candle:
        """Return the candle being traded now (its volume sizes the simulated book)."""
        ...


class ReplayPath:
    """Every step of the replayed recorded candles, so no crossing is missed."""

    def __init__(self, feed: ReplayPriceFeed) -> None:
        self._feed = feed
        self._geometry = ReplayGeometry(feed.anchor, feed.speed)

    async def steps(self, symbol: str, start: datetime, end: datetime) -> list[PathStep]:
        return list(walk(self._feed.series(symbol), self._geometry, start, end))

    def current_candle(self, symbol: str, last: Decimal, now: datetime) -> Candle:
        return self._feed.current_candle(symbol, now)


class PolledPath:
    """Live prices seen only when polled: the path is a straight line between polls.

    NOTE: a move that goes past an order's price and back between two polls is
    not seen, so live-priced PAPER can miss fills that a real exchange would make.
    """

    def __init__(self, feed: PriceFeed) -> None:
        self._feed = feed
        self._last: dict[str, Decimal] = {}

    async def steps(self, symbol: str, start: datetime, end: datetime) -> list[PathStep]:
        ticker = await self._feed.fetch_ticker(symbol)
        previous = self._last.get(symbol, ticker.last)
        self._last[symbol] = ticker.last
        candle = self.current_candle(symbol, ticker.last, end)
        return [PathStep(previous, ticker.last, start, end, candle)]

    def current_candle(self, symbol: str, last: Decimal, now: datetime) -> Candle:
        return Candle(opened_at=now, open=last, high=last, low=last, close=last, volume=LIVE_VOLUME)


def price_path_for(feed: PriceFeed) -> PricePath:
    if isinstance(feed, ReplayPriceFeed):
        return ReplayPath(feed)
    return PolledPath(feed)
