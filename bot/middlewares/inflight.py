"""Counts updates being handled, so shutdown can wait for them to finish."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from aiogram.types import TelegramObject, Update


class InFlightTracker:
    def __init__(self) -> None:
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.last_update_id: int | None = None

    @property
    def active(self) -> int:
        return self._active

    @contextmanager
    def track(self, event: TelegramObject) -> Iterator[None]:
        """Count ``event`` as in flight for the duration of the block."""
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if isinstance(event, Update):
                self.last_update_id = max(self.last_update_id or 0, event.update_id)
            if self._active == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no update is being handled; return False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
