"""Candle series loaded from recorded CSV files.

Prices are kept as int64 multiples of 1e-8. Every recorded price has at most
8 decimals and is below 9e7, so ``rint(float(text) * 1e8)`` is the exact
integer: the float error stays far below half a unit. The integer converts
back to the exact Decimal. Volumes stay float64 because some exceed what an int64 of 1e-8
units holds exactly; they only size simulated partial fills, and the shortest
repr of each float is the recorded text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.market.models import Candle

SCALE_DIGITS = 8
PACKAGED_DATA_DIR = Path(__file__).parent / "data"
EXPECTED_HEADER = "timestamp_ms,open,high,low,close,volume"


def scaled_to_decimal(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-SCALE_DIGITS).normalize()


@dataclass(frozen=True)
class CandleSeries:
    """Evenly spaced candles of one symbol."""

    symbol: str
    start: datetime
    interval: timedelta
    prices: np.ndarray  # shape (n, 4): open, high, low, close as int64 in 1e-8 units
    volumes: np.ndarray  # shape (n,): base-asset volume, float64
    price_places: int  # maximum number of decimals among the series' recorded prices
    # The latest candle built, with its index. A Candle is immutable, so callers may share it.
    _latest: list[tuple[int, Candle] | None] = field(
        default_factory=lambda: [None], init=False, repr=False, compare=False
    )

    def __len__(self) -> int:
        return int(self.prices.shape[0])

    @property
    def span(self) -> timedelta:
        return self.interval * len(self)

    def candle(self, index: int) -> Candle:
        # Replay time stays on one candle for its whole interval, so the last one is asked again and again.
        latest = self._latest[0]
        if latest is not None and latest[0] == index:
            return latest[1]
        candle = self._build_candle(index)
        self._latest[0] = (index, candle)
        return candle

    def _build_candle(self, index: int) -> Candle:
        row = self.prices[index]
        return Candle(
            opened_at=self.start + self.interval * index,
            open=scaled_to_decimal(row[0]),
            high=scaled_to_decimal(row[1]),
            low=scaled_to_decimal(row[2]),
            close=scaled_to_decimal(row[3]),
            volume=Decimal(repr(float(self.volumes[index]))),
        )


@lru_cache(maxsize=32)
def load_candle_csv(path: Path, symbol: str) -> CandleSeries:
    """Load a ``timestamp_ms,open,high,low,close,volume`` file with evenly spaced rows.

    Cached per path: the series is immutable, so every feed in the process shares it.
    """
    with path.open() as handle:
        header = handle.readline().strip()
    if header != EXPECTED_HEADER:
        raise ValueError(f"{path}: header {header!r} is not {EXPECTED_HEADER!r}")

    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    if table.shape[0] < 2 or table.shape[1] != 6:
        raise ValueError(f"{path}: needs at least two rows of six columns")

    timestamps = table[:, 0].astype(np.int64)
    steps = np.diff(timestamps)
    if not np.all(steps == steps[0]) or steps[0] <= 0:
        raise ValueError(f"{path}: rows are not evenly spaced in ascending order")

    prices = np.rint(table[:, 1:5] * 10**SCALE_DIGITS).astype(np.int64)
    return CandleSeries(
        symbol=symbol,
        start=datetime.fromtimestamp(int(timestamps[0]) / 1000, tz=UTC),
        interval=timedelta(milliseconds=int(steps[0])),
        prices=prices,
        volumes=table[:, 5].copy(),
        price_places=_max_decimal_places(prices),
    )


def _max_decimal_places(scaled: np.ndarray) -> int:
    for places in range(SCALE_DIGITS + 1):
        if np.all(scaled % 10 ** (SCALE_DIGITS - places) == 0):
            return places
    return SCALE_DIGITS


def packaged_symbols() -> dict[str, Path]:
    """Map each unified symbol with a packaged 5-minute file to its path."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGED_DATA_DIR.glob("*_*-5m.csv")):
        base, quote = path.name.removesuffix("-5m.csv").split("_")
        found[f"{base}/{quote}"] = path
    return found
