"""Daily price history for analytics and risk figures.

``DailyHistory`` serves recorded daily closes up to a given day. With the PAPER
replay, "today" is the replay's recorded date, so returns, volatility and VaR
describe the market the trader is actually seeing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.errors import ValidationError
from engine.market.candles import PACKAGED_DATA_DIR, CandleSeries, load_candle_csv, scaled_to_decimal

DAILY_DATA_DIR = PACKAGED_DATA_DIR / "daily"


class PriceHistory(Protocol):
    def symbols(self) -> list[str]: ...

    def daily_closes(self, symbol: str, end: datetime, days: int) -> list[tuple[datetime, Decimal]]:
        """Return up to ``days`` daily closes of candles that closed before ``end``, oldest first."""
        ...


class DailyHistory:
    """Daily closes from the packaged recorded files (or any files of the same format)."""

    def __init__(self, files: dict[str, Path] | None = None) -> None:
        self._files = files if files is not None else packaged_daily_symbols()

    def symbols(self) -> list[str]:
        return sorted(self._files)

    def series(self, symbol: str) -> CandleSeries:
        path = self._files.get(symbol)
        if path is None:
            raise ValidationError("SYMBOL_UNKNOWN", value=symbol, known=self.symbols())
        return load_candle_csv(path, symbol)

    def daily_closes(self, symbol: str, end: datetime, days: int) -> list[tuple[datetime, Decimal]]:
        series = self.series(symbol)
        closed = _candles_closed_before(series, end)
        first = max(0, closed - days)
        return [
            (series.start + series.interval * index, scaled_to_decimal(series.prices[index][3]))
            for index in range(first, closed)
        ]

    def close_matrix(self, symbols: list[str], end: datetime, days: int) -> np.ndarray:
        """Closes as float64, one column per symbol, rows aligned by day (analytics boundary)."""
        columns = []
        for symbol in symbols:
            series = self.series(symbol)
            closed = _candles_closed_before(series, end)
            columns.append(series.prices[max(0, closed - days) : closed, 3] / 10**8)
        length = min(len(column) for column in columns) if columns else 0
        return np.column_stack([column[-length:] for column in columns]) if length else np.empty((0, 0))


def _candles_closed_before(series: CandleSeries, end: datetime) -> int:
    """Count the candles that closed at or before ``end``: candle i closes at start + (i + 1) * interval."""
    elapsed = (end - series.start) // series.interval
    return max(0, min(len(series), elapsed))


def packaged_daily_symbols() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(DAILY_DATA_DIR.glob("*_*-1d.csv")):
        base, quote = path.name.removesuffix("-1d.csv").split("_")
        found[f"{base}/{quote}"] = path
    return found
