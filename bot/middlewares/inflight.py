"""Counts updates being handled, so shutdown can wait for them to finish."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update


class InFlightTracker(BaseMiddleware):
    def __init__(self) -> None:
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.last_update_id: int | None = None

    @property
    def active(self) -> int:
        return self._active

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._active += 1
        self._idle.clear()
        try:
            return await handler(event, data)
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
