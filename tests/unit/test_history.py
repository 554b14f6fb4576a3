"""Daily price history from the recorded files."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.market.history import DailyHistory


def test_closes_end_before_the_given_moment() -> None:
    history = DailyHistory()
    closes = history.daily_closes("BTC/USDT", datetime(2022, 10, 11, tzinfo=UTC), days=2)
    assert closes == [
        (datetime(2022, 10, 9, tzinfo=UTC), closes[0][1]),
        (datetime(2022, 10, 10, tzinfo=UTC), Decimal("19131.87")),
    ]


def test_a_day_in_progress_is_not_included() -> None:
    history = DailyHistory()
    closes = history.daily_closes("ETH/USDT", datetime(2022, 1, 6, 12, tzinfo=UTC), days=1)
    assert closes[-1][0] == datetime(2022, 1, 5, tzinfo=UTC)


def test_before_the_first_day_there_is_no_history() -> None:
    assert DailyHistory().daily_closes("SOL/USDT", datetime(2020, 8, 12, tzinfo=UTC), days=30) == []


def test_close_matrix_aligns_symbols() -> None:
    matrix = DailyHistory().close_matrix(["BTC/USDT", "ETH/USDT"], datetime(2022, 1, 1, tzinfo=UTC), days=30)
    assert matrix.shape == (30, 2)
    assert abs(matrix[-1, 0] - 46216.93) < 1e-6
