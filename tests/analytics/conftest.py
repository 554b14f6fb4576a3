"""Daily returns of the eight recorded pairs, shared by the analytics tests."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from engine.analytics.returns import simple_returns
from engine.market.history import DailyHistory

AFTER_LAST_DAY = datetime(2022, 10, 11, tzinfo=UTC)


@pytest.fixture(scope="session")
def daily_symbols() -> list[str]:
    return DailyHistory().symbols()


@pytest.fixture(scope="session")
def daily_returns(daily_symbols: list[str]) -> np.ndarray:
    """All 789 daily returns of the 790 recorded days, one column per symbol."""
    closes = DailyHistory().close_matrix(daily_symbols, AFTER_LAST_DAY, 10_000)
    assert closes.shape == (790, 8)
    return simple_returns(closes)
