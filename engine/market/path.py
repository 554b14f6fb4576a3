"""The replayed price path between two moments, as straight steps in time order.

Inside a recorded candle the replay walks open -> low -> high -> close (rising
candle) or open -> high -> low -> close (falling candle) in three equal parts.
Between candles the price jumps from one close to the next open. Such a jump
is a step that takes no time (``is_gap``). An order crossed by it fills at
the price after the jump, as on an exchange whose price gaps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from engine.market.candles import CandleSeries
from engine.market.models import Candle
from engine.market.replay import candle_waypoints

logger = logging.getLogger(__name__)

SEGMENTS = 3


@dataclass(frozen=True)
class PathStep:
    """One straight piece of the path, from ``start_price`` at ``started_at`` to ``end_price``."""

    start_price: Decimal
    end_price: Decimal
    started_at: datetime
    ended_at: datetime
    candle: Candle  # the recorded candle the step belongs to (its open time keys liquidity)
    is_gap: bool = False

    @property
    def low(self) -> Decimal:
        return min(self.start_price, self.end_price)

    @property
    def high(self) -> Decimal:
        return max(self.start_price, self.end_price)

    def reaches_at_or_below(self, level: Decimal) -> bool:
        return self.low <= level

    def reaches_at_or_above(self, level: Decimal) -> bool:
        return self.high >= level

    def moment_at(self, level: Decimal) -> datetime:
        """Return when the step first touches ``level`` (its start when it starts beyond it)."""
        if self.is_gap or self.start_price == self.end_price:
            return self.started_at
        share = (level - self.start_price) / (self.end_price - self.start_price)
        share = min(max(share, Decimal(0)), Decimal(1))
        return self.started_at + (self.ended_at - self.started_at) * float(share)


@dataclass(frozen=True)
class ReplayGeometry:
    """Mapping of wall-clock time to replay time: ``offset = (now - anchor) * speed``."""

    anchor: datetime
    speed: float

    def offset(self, moment: datetime) -> float:
        return (moment - self.anchor).total_seconds() * self.speed

    def moment(self, offset: float) -> datetime:
        return self.anchor + timedelta(seconds=offset / self.speed)


def walk(
    series: CandleSeries,
    geometry: ReplayGeometry,
    start: datetime,
    end: datetime,
    *,
    max_candles: int | None = None,
) -> Iterator[PathStep]:
    """Yield the steps the replay walks from ``start`` to ``end`` (wall-clock), oldest first.

    The replay wraps around at the end of the series, so a long walk passes
    the same candles again. ``max_candles`` caps very late runs; the steps
    then stop early and the caller's state still moves to ``end``.
    """
    if end <= start:
        return
    interval = series.interval.total_seconds()
    first_offset, last_offset = geometry.offset(start), geometry.offset(end)
    first_candle, last_candle = int(first_offset // interval), int(last_offset // interval)
    limit = max_candles if max_candles is not None else 2 * len(series)
    if last_candle - first_candle > limit:
        logger.warning(
            "Replay walk of %s spans %d candles; matching only the first %d",
            series.symbol,
            last_candle - first_candle,
            limit,
        )
        last_candle = first_candle + limit

    # The walk covers (start, end]: a jump between candles belongs to the walk
    # that reaches the new candle's open, never to both neighbouring walks.
    previous_close: Decimal | None = None
    for absolute in range(first_candle, last_candle + 1):
        candle = series.candle(absolute % len(series))
        candle_start = absolute * interval
        if previous_close is not None and candle_start > first_offset and previous_close != candle.open:
            moment = geometry.moment(candle_start)
            yield PathStep(previous_close, candle.open, moment, moment, candle, is_gap=True)

        begin = max(first_offset, candle_start)
        finish = min(last_offset, candle_start + interval)
        if finish > begin:
            yield from _candle_steps(series, geometry, candle, candle_start, interval, begin, finish)
        previous_close = candle.close


def _candle_steps(
    series: CandleSeries,
    geometry: ReplayGeometry,
    candle: Candle,
    candle_start: float,
    interval: float,
    begin: float,
    finish: float,
) -> Iterator[PathStep]:
    points = candle_waypoints(candle)
    part = interval / SEGMENTS
    quantum = Decimal(1).scaleb(-series.price_places)
    for segment in range(SEGMENTS):
        segment_start = candle_start + segment * part
        segment_end = segment_start + part
        lower, upper = max(begin, segment_start), min(finish, segment_end)
        if upper <= lower:
            continue
        start_price = _between(points[segment], points[segment + 1], (lower - segment_start) / part, quantum)
        end_price = _between(points[segment], points[segment + 1], (upper - segment_start) / part, quantum)
        yield PathStep(start_price, end_price, geometry.moment(lower), geometry.moment(upper), candle)


def _between(start: Decimal, end: Decimal, share: float, quantum: Decimal) -> Decimal:
    """Return the price ``share`` of the way from start to end, exact at the recorded waypoints."""
    if share <= 0:
        return start
    if share >= 1:
        return end
    weight = Decimal(str(round(share, 6)))
    return (start + (end - start) * weight).quantize(quantum)
