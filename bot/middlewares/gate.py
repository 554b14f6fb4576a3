"""The checks between choosing a handler and running it, as plain calls in one inner middleware.

It is an inner middleware because the checks read the chosen handler's flags
(``rate_limit``, ``access``, ``permission``, ``pin``). The order matters:

1. the rate limit, first, so a flood is cut off before any other work, and
   admins are exempt from the general limit (``is_admin`` comes from the
   update context);
2. access: registration, account status and permissions;
3. the PIN guard, last, so only an allowed, active user is asked for a PIN.

Before the handler, the user load's transaction, kept open by the update
context, is ended unless the handler is flagged ``reads_first``: a handler
that reads the database before anything waits on the network continues it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import TelegramObject

from bot import pin_guard
from bot.middlewares import access
from bot.middlewares.context import ReadKeeper
from bot.middlewares.throttle import RateLimiter


class HandlerGate(BaseMiddleware):
    def __init__(self, limiter: RateLimiter, kept_read: ReadKeeper | None = None) -> None:
        self._limiter = limiter
        self._kept_read = kept_read

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not await self._limiter.admit(event, data):
            return None  # denied: over the rate limit
        if not await access.admit(event, data):
            return None  # denied: not registered, not active or no permission
        if not await pin_guard.guard(event, data):
            return None  # the PIN prompt or the lockout notice replaced the action
        if self._kept_read is not None and not get_flag(data, "reads_first"):
            await self._kept_read.end()
        return await handler(event, data)
