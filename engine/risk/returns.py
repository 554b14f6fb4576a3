"""Daily returns for VaR: the recorded history up to the market's current day, cached per day.

With the PAPER replay the market's "now" is the replayed time, so VaR uses the
days before the prices the trader is seeing. A position in a symbol without
recorded history is given the returns of the riskiest recorded symbol (the
largest one-asset VaR), so missing data never makes a portfolio look safer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Protocol

import numpy as np

from engine.risk.var import DEFAULT_CONFIDENCE, historical_var_many, simple_returns


class CloseHistory(Protocol):
    def symbols(self) -> list[str]: ...

    def close_matrix(self, symbols: list[str], end: datetime, days: int) -> np.ndarray: ...


@dataclass(frozen=True)
class ReturnsTable:
    """Aligned daily returns, one column per recorded symbol."""

    symbols: tuple[str, ...]
    returns: np.ndarray  # (days, symbols)
    proxy: str | None  # the symbol standing in for symbols without history

    def column(self, symbol: str) -> int:
        """The column of a symbol, or of the proxy when the symbol has no history."""
        if symbol in self._index:
            return self._index[symbol]
        if self.proxy is None:
            raise KeyError(symbol)
        return self._index[self.proxy]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {name: position for position, name in enumerate(self.symbols)}

    def weights(self, positions: Mapping[str, Decimal], equity: Decimal) -> np.ndarray:
        """Position values over equity as a weight vector (float64, the analytics boundary)."""
        vector = np.zeros(len(self.symbols))
        if equity <= 0:
            return vector
        for symbol, value in positions.items():
            vector[self.column(symbol)] += float(value / equity)
        return vector


class ReturnsWindow:
    def __init__(
        self,
        history: CloseHistory,
        market_time: Callable[[], datetime],
        *,
        lookback_days: int = 365,
        confidence: float = DEFAULT_CONFIDENCE,
    ) -> None:
        self._history = history
        self._market_time = market_time
        self._lookback_days = lookback_days
        self._confidence = confidence
        self._cached: tuple[date, ReturnsTable] | None = None

    def table(self) -> ReturnsTable:
        """The returns up to the market's current day, read once per market day."""
        now = self._market_time()
        if self._cached is not None and self._cached[0] == now.date():
            return self._cached[1]
        symbols = self._history.symbols()
        closes = self._history.close_matrix(symbols, now, self._lookback_days + 1)
        returns = simple_returns(closes) if closes.size else np.zeros((0, len(symbols)))
        table = ReturnsTable(tuple(symbols), returns, _riskiest(symbols, returns, self._confidence))
        self._cached = (now.date(), table)
        return table


def _riskiest(symbols: list[str], returns: np.ndarray, confidence: float) -> str | None:
    if not symbols or len(returns) == 0:
        return None
    alone = historical_var_many(returns, np.eye(len(symbols)), confidence=confidence)
    return symbols[int(np.argmax(alone))]
