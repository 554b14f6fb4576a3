"""Price replay of recorded candles that advances with wall-clock time.

Replay time is ``data_start + ((now - anchor) * speed) mod data_span``: it is
a pure function of the clock, so a restart continues where the prices were
instead of jumping back. Inside each candle the price walks
open -> low -> high -> close on a rising candle and open -> high -> low -> close
on a falling one, in three equal parts, so every recorded high and low is
reached.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from engine.common.clock import Clock
from engine.errors import ValidationError
from engine.market.candles import CandleSeries, load_candle_csv, packaged_symbols
from engine.market.models import Candle, Ticker

logger = logging.getLogger(__name__)

DEFAULT_ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


class ReplayPriceFeed:
    """Last prices of the packaged symbols, replayed from recorded candles."""

    def __init__(
        self,
        clock: Clock,
        *,
        speed: float = 1.0,
        anchor: datetime = DEFAULT_ANCHOR,
        files: dict[str, Path] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"replay speed must be greater than 0, got {speed}")
        self._clock = clock
        self._speed = speed
        self._anchor = anchor
        self._files = files if files is not None else packaged_symbols()
        self._series: dict[str, CandleSeries] = {}

    def symbols(self) -> list[str]:
        return sorted(self._files)

    @property
    def anchor(self) -> datetime:
        """The wall-clock moment the replay was at its first candle."""
        return self._anchor

    @property
    def speed(self) -> float:
        """Replayed seconds per wall-clock second."""
        return self._speed

    def series(self, symbol: str) -> CandleSeries:
        """Return the symbol's candles, loading its file on first use."""
        loaded = self._series.get(symbol)
        if loaded is None:
            path = self._files.get(symbol)
            if path is None:
                raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=self.symbols())
            loaded = load_candle_csv(path, symbol)
            self._series[symbol] = loaded
            logger.info("Loaded %d replay candles for %s from %s", len(loaded), symbol, path.name)
        return loaded

    async def preload(self) -> None:
        """Load every file in a worker thread so the first price request does not wait."""
        for symbol in self.symbols():
            if symbol not in self._series:
                await asyncio.to_thread(self.series, symbol)

    def replay_moment(self, symbol: str, now: datetime | None = None) -> tuple[int, float]:
        """Return the candle index and the fraction of it (0 <= f < 1) that replay time has reached."""
        series = self.series(symbol)
        moment = now or self._clock.now()
        elapsed = (moment - self._anchor).total_seconds() * self._speed
        offset = elapsed % series.span.total_seconds()
        interval = series.interval.total_seconds()
        index = int(offset // interval)
        return index, (offset - index * interval) / interval

    def current_candle(self, symbol: str, now: datetime | None = None) -> Candle:
        index, _ = self.replay_moment(symbol, now)
        return self.series(symbol).candle(index)

    def price_at(self, symbol: str, now: datetime | None = None) -> Decimal:
        index, fraction = self.replay_moment(symbol, now)
        series = self.series(symbol)
        return path_price(series.candle(index), fraction, series.price_places)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        now = self._clock.now()
        return Ticker(symbol=symbol, last=self.price_at(symbol, now), timestamp=now)

    def replay_time(self, symbol: str, now: datetime | None = None) -> datetime:
        """Return the recorded time being replayed (useful in logs and tests)."""
        series = self.series(symbol)
        index, fraction = self.replay_moment(symbol, now)
        return (
            series.start
            + series.interval * index
            + timedelta(seconds=fraction * series.interval.total_seconds())
        )

    async def close(self) -> None:
        """Release nothing; present so every price feed can be closed alike."""


def candle_waypoints(candle: Candle) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Return the four prices the intra-candle path visits, in order."""
    if candle.close >= candle.open:
        return candle.open, candle.low, candle.high, candle.close
    return candle.open, candle.high, candle.low, candle.close


def path_price(candle: Candle, fraction: float, places: int) -> Decimal:
    """Return the price on the candle's path at ``fraction`` of its duration.

    The result is rounded to ``places`` decimals, the precision of the
    recorded prices, so it looks like a price the exchange could have printed.
    """
    points = candle_waypoints(candle)
    position = min(max(fraction, 0.0), 0.999999) * 3
    segment = int(position)
    weight = Decimal(str(round(position - segment, 6)))
    start, end = points[segment], points[segment + 1]
    price = start + (end - start) * weight
    return price.quantize(Decimal(1).scaleb(-places))
