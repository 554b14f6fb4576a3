"""Replay of recorded candles."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.common.clock import ManualClock
from engine.market.candles import packaged_symbols
from engine.market.replay import ReplayPriceFeed, candle_waypoints

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def test_first_price_is_the_first_recorded_open() -> None:
    feed = ReplayPriceFeed(ManualClock(ANCHOR), anchor=ANCHOR)
    assert feed.price_at("BTC/USDT") == Decimal("43451.14")
    assert feed.replay_time("BTC/USDT") == datetime(2022, 1, 6, tzinfo=UTC)


def test_candles_match_the_recorded_file_exactly() -> None:
    feed = ReplayPriceFeed(ManualClock(ANCHOR), anchor=ANCHOR)
    with packaged_symbols()["ETH/USDT"].open() as handle:
        rows = list(csv.reader(handle))[1:]
    series = feed.series("ETH/USDT")
    for index in (0, 1, 5000, len(rows) - 1):
        candle = series.candle(index)
        assert [candle.open, candle.high, candle.low, candle.close, candle.volume] == [
            Decimal(value) for value in rows[index][1:]
        ]


def test_candles_in_any_order_stay_exact() -> None:
    # The series keeps its latest candle; a different index must not get it back.
    series = ReplayPriceFeed(ManualClock(ANCHOR), anchor=ANCHOR).series("BTC/USDT")
    first, second = series.candle(0), series.candle(1)
    assert series.candle(0) == first
    assert series.candle(1) == second
    assert first != second
    assert series.candle(1).opened_at == series.candle(0).opened_at + series.interval


def test_replay_advances_with_speed_and_wraps_around() -> None:
    clock = ManualClock(ANCHOR)
    feed = ReplayPriceFeed(clock, anchor=ANCHOR, speed=60)
    clock.advance(5)  # 5 s at 60x = 300 s of replay = one 5-minute candle
    assert feed.replay_moment("BTC/USDT") == (1, 0.0)

    span = feed.series("BTC/USDT").span.total_seconds()
    clock.set(ANCHOR + timedelta(seconds=span / 60))
    assert feed.replay_moment("BTC/USDT") == (0, 0.0)


def test_restart_continues_at_the_same_price() -> None:
    clock = ManualClock(ANCHOR + timedelta(hours=7, seconds=13))
    first = ReplayPriceFeed(clock, anchor=ANCHOR).price_at("SOL/USDT")
    assert ReplayPriceFeed(clock, anchor=ANCHOR).price_at("SOL/USDT") == first


@settings(max_examples=200)
@given(st.floats(min_value=0, max_value=8_640_000, allow_nan=False))
def test_price_path_stays_inside_the_candle(seconds: float) -> None:
    clock = ManualClock(ANCHOR + timedelta(seconds=seconds))
    feed = ReplayPriceFeed(clock, anchor=ANCHOR)
    candle = feed.current_candle("XRP/USDT")
    price = feed.price_at("XRP/USDT")
    assert candle.low <= price <= candle.high
    assert price.as_tuple().exponent >= -4


def test_path_visits_low_before_high_on_a_rising_candle() -> None:
    feed = ReplayPriceFeed(ManualClock(ANCHOR), anchor=ANCHOR)
    candle = feed.series("BTC/USDT").candle(0)
    points = candle_waypoints(candle)
    assert points[0] == candle.open and points[-1] == candle.close
    if candle.close >= candle.open:
        assert points[1] == candle.low and points[2] == candle.high
