"""The delivery schedule's token bucket, on a made-up monotonic clock."""

from __future__ import annotations

import pytest

from engine.notifications.schedule import DeliverySchedule, QueuedMessage, TokenBucket

RATE = 25.0


def starts_over(schedule: DeliverySchedule, messages: int, stalls: dict[int, float]) -> list[float]:
    """Start ``messages`` one-per-chat messages as soon as the schedule allows; ``stalls`` adds time."""
    for index in range(messages):
        schedule.add(QueuedMessage(id=index + 1, chat_id=index + 1, priority=0, text="x"), 0.0)
    now, starts = 0.0, []
    while len(starts) < messages:
        now += stalls.get(len(starts), 0.0)
        message, wait = schedule.next(now)
        if message is None:
            assert wait is not None
            now += wait
            continue
        schedule.start(message, now)
        schedule.finish(message, now)
        starts.append(now)
    return starts


def most_in_one_second(times: list[float]) -> int:
    return max(sum(1 for other in times if start <= other < start + 1.0) for start in times)


def test_steady_delivery_keeps_the_rate() -> None:
    starts = starts_over(DeliverySchedule(RATE, chat_interval=1.0), 100, stalls={})
    assert starts[-1] == pytest.approx(99 / RATE)
    assert most_in_one_second(starts) <= RATE + 1


def test_stall_is_caught_up_within_the_burst() -> None:
    steady = starts_over(DeliverySchedule(RATE, chat_interval=1.0), 100, stalls={})
    stalled = starts_over(DeliverySchedule(RATE, chat_interval=1.0, burst=5), 100, stalls={50: 0.15})
    # A 150 ms hold-up is made up by starting the next messages at once: the end is no later.
    assert stalled[-1] == pytest.approx(steady[-1])
    assert stalled[50] == stalled[51] == stalled[52]  # 150 ms late: three starts at once


def test_no_second_holds_more_than_rate_plus_burst() -> None:
    stalls = {index: 0.5 for index in range(0, 300, 40)}
    starts = starts_over(DeliverySchedule(RATE, chat_interval=1.0, burst=5), 300, stalls=stalls)
    assert most_in_one_second(starts) <= RATE + 5


def test_stall_longer_than_the_burst_loses_only_the_excess() -> None:
    steady = starts_over(DeliverySchedule(RATE, chat_interval=1.0), 100, stalls={})
    stalled = starts_over(DeliverySchedule(RATE, chat_interval=1.0, burst=5), 100, stalls={50: 1.0})
    # One second refills 25 tokens and the bucket keeps only 5, so 20 sends' worth of time is lost.
    assert stalled[-1] == pytest.approx(steady[-1] + 20 / RATE)


def test_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="rate_per_second"):
        TokenBucket(0, 5)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(25, 0.5)
