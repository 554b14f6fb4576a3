"""Per-user rate limits: general requests, and order placing with a minimum gap between orders.

Sliding windows of one minute, kept in memory per process: with several bot
processes each one counts on its own, so the effective limit multiplies.
Admins are exempt from the general limit, not from the order limit. Handlers
that place orders declare ``flags={"rate_limit": "order"}``.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

logger = logging.getLogger(__name__)

ORDER = "order"
WINDOW_SECONDS = 60.0
# A user over the limit gets one explanation per this many seconds; further updates are dropped quietly.
NOTICE_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class RateLimits:
    commands_per_minute: int = 60
    orders_per_minute: int = 20
    order_gap_seconds: float = 0.1


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds, and ``gap`` seconds between two events."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, gap: float = 0.0) -> None:
        self.limit = limit
        self.window = window
        self.gap = gap
        self._events: dict[int, deque[float]] = {}

    def wait_time(self, key: int, now: float) -> float:
        """Seconds until the next event of ``key`` is allowed (0: allowed now)."""
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.window:
            events.popleft()
        waits = [0.0]
        if events and self.gap:
            waits.append(events[-1] + self.gap - now)
        if len(events) >= self.limit:
            waits.append(events[0] + self.window - now)
        return max(waits)

    def record(self, key: int, now: float) -> None:
        self._events.setdefault(key, deque()).append(now)

    def forget_idle(self, now: float) -> None:
        for key in [
            key for key, events in self._events.items() if not events or events[-1] <= now - self.window
        ]:
            del self._events[key]


class RateLimiter:
    """Counts each update against the sender's windows; ``HandlerGate`` calls ``admit`` per handler."""

    def __init__(self, limits: RateLimits, now: Callable[[], float]) -> None:
        self._now = now
        self._general = SlidingWindow(limits.commands_per_minute)
        self._orders = SlidingWindow(limits.orders_per_minute, gap=limits.order_gap_seconds)
        self._last_notice: dict[int, float] = {}
        self._calls = 0

    async def admit(self, event: TelegramObject, data: dict[str, Any]) -> bool:
        """Count the update and return True, or tell the user to wait and return False."""
        sender = data.get("event_from_user")
        if sender is None or data.get("pin_confirmed"):
            # The replay of an action after its PIN was counted when the user first asked for it.
            return True
        now = self._now()
        self._tidy(now)

        windows = [] if data.get("is_admin") else [self._general]
        if get_flag(data, "rate_limit") == ORDER:
            windows.append(self._orders)
        wait = max((window.wait_time(sender.id, now) for window in windows), default=0.0)
        if wait > 0:
            logger.info("Rate limit: user %s must wait %.1f s", sender.id, wait)
            await self._refuse(event, sender.id, wait, now, is_order=self._orders in windows)
            return False  # denied: over the rate limit

        for window in windows:
            window.record(sender.id, now)
        return True

    async def _refuse(
        self, event: TelegramObject, user_id: int, wait: float, now: float, *, is_order: bool
    ) -> None:
        seconds = max(1, math.ceil(wait))
        if is_order:
            text = _("Too many orders. You can place the next one in {seconds} s.").format(seconds=seconds)
        else:
            text = _("Too many requests. Try again in {seconds} s.").format(seconds=seconds)
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)  # every button press gets an answer
            return
        if now - self._last_notice.get(user_id, float("-inf")) < NOTICE_INTERVAL_SECONDS:
            return
        self._last_notice[user_id] = now
        if isinstance(event, Message):
            await event.answer(text)

    def _tidy(self, now: float) -> None:
        self._calls += 1
        if self._calls % 1000:
            return
        self._general.forget_idle(now)
        self._orders.forget_idle(now)
        self._last_notice = {
            key: at for key, at in self._last_notice.items() if now - at < NOTICE_INTERVAL_SECONDS
        }
