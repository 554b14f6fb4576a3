"""The replayed price path walked between two moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.common.clock import ManualClock
from engine.market.path import ReplayGeometry, walk
from engine.market.replay import ReplayPriceFeed

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
FEED = ReplayPriceFeed(ManualClock(ANCHOR), anchor=ANCHOR)
SERIES = FEED.series("BTC/USDT")
GEOMETRY = ReplayGeometry(ANCHOR, 1.0)


def at(seconds: float) -> datetime:
    return ANCHOR + timedelta(seconds=seconds)


def test_falling_candle_walks_open_high_low_close() -> None:
    steps = list(walk(SERIES, GEOMETRY, at(0), at(300)))
    prices = [(step.start_price, step.end_price) for step in steps]
    assert prices == [
        (Decimal("43451.14"), Decimal("43476.2")),
        (Decimal("43476.2"), Decimal("43261.62")),
        (Decimal("43261.62"), Decimal("43404.56")),
    ]
    assert [step.started_at for step in steps] == [at(0), at(100), at(200)]
    assert not any(step.is_gap for step in steps)


def test_jump_between_candles_is_a_gap_step() -> None:
    # Candle 2 closes at 43507.22 and candle 3 opens at 43507.23.
    steps = list(walk(SERIES, GEOMETRY, at(850), at(910)))
    gaps = [step for step in steps if step.is_gap]
    assert len(gaps) == 1
    assert (gaps[0].start_price, gaps[0].end_price) == (Decimal("43507.22"), Decimal("43507.23"))
    assert gaps[0].started_at == gaps[0].ended_at == at(900)


def test_boundary_gap_in_one_walk() -> None:
    first = list(walk(SERIES, GEOMETRY, at(600), at(900)))
    second = list(walk(SERIES, GEOMETRY, at(900), at(1000)))
    assert first[-1].is_gap
    assert not any(step.is_gap for step in second)


def test_walk_wraps_to_the_first_candle() -> None:
    end_of_data = SERIES.span.total_seconds()
    steps = list(walk(SERIES, GEOMETRY, at(end_of_data - 50), at(end_of_data + 50)))
    assert steps[0].candle.opened_at == SERIES.candle(len(SERIES) - 1).opened_at
    assert steps[-1].candle.opened_at == SERIES.candle(0).opened_at
    assert steps[-1].end_price <= SERIES.candle(0).high


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(min_value=0, max_value=86_400),
    first=st.floats(min_value=0.5, max_value=3_000),
    second=st.floats(min_value=0.5, max_value=3_000),
)
def test_split_walks_cover_the_same_path(start: float, first: float, second: float) -> None:
    whole = list(walk(SERIES, GEOMETRY, at(start), at(start + first + second)))
    head = list(walk(SERIES, GEOMETRY, at(start), at(start + first)))
    tail = list(walk(SERIES, GEOMETRY, at(start + first), at(start + first + second)))

    assert min(step.low for step in head + tail) == min(step.low for step in whole)
    assert max(step.high for step in head + tail) == max(step.high for step in whole)
    assert sum(step.is_gap for step in head + tail) == sum(step.is_gap for step in whole)
    if head and tail:
        assert head[-1].end_price == tail[0].start_price or tail[0].is_gap


def test_reach_moment_is_interpolated_inside_a_step() -> None:
    step = next(walk(SERIES, GEOMETRY, at(100), at(200)))
    # Halfway from 43476.2 down to 43261.62 is 43368.91.
    assert step.moment_at(Decimal("43368.91")) == at(150)
