"""Per-user rate limits on orders: the minimum gap and the per-minute count."""

from __future__ import annotations

from bot.middlewares.throttle import SlidingWindow


def test_second_order_inside_the_gap_waits_for_the_rest_of_it() -> None:
    orders = SlidingWindow(limit=20, gap=0.1)
    orders.record(7, now=100.0)
    assert 0.04 < orders.wait_time(7, now=100.05) <= 0.05
    assert orders.wait_time(7, now=100.1) == 0.0
    assert orders.wait_time(8, now=100.05) == 0.0, "another user is not slowed down"


def test_twenty_first_order_in_a_minute_waits_for_the_oldest_to_expire() -> None:
    orders = SlidingWindow(limit=20, gap=0.1)
    for index in range(20):
        orders.record(7, now=float(index))
    assert orders.wait_time(7, now=20.0) == 40.0
    assert orders.wait_time(7, now=60.0) == 0.0


def test_idle_users_are_forgotten() -> None:
    orders = SlidingWindow(limit=5)
    orders.record(7, now=0.0)
    orders.forget_idle(now=61.0)
    assert orders.wait_time(7, now=61.0) == 0.0
