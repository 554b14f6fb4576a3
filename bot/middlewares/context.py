"""Loads the registered user behind each update into the handler data."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from engine.common.clock import Clock
from engine.notifications.reachability import Reachability
from engine.users.service import UserService

logger = logging.getLogger(__name__)

# last_seen_at is written at most this often per user, to keep reads read-only.
LAST_SEEN_RESOLUTION = timedelta(minutes=10)


class UserContextLoader(BaseMiddleware):
    """Puts ``user`` (a registered User or None) and ``is_admin`` into the data of every update."""

    def __init__(
        self,
        users: UserService,
        admin_ids: frozenset[int],
        clock: Clock,
        reachability: Reachability | None = None,
    ) -> None:
        self._users = users
        self._admin_ids = admin_ids
        self._clock = clock
        self._reachability = reachability

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        telegram_user = data.get("event_from_user")
        user = None
        if telegram_user is not None:
            user = await self._users.get_by_telegram_id(telegram_user.id)
            if user is not None and _seen_long_ago(user.last_seen_at, self._clock):
                user = await self._users.touch(user.id)
            if self._reachability is not None:
                # A user who blocked the bot and writes again can be reached again.
                await self._reachability.seen(telegram_user.id)
        data["user"] = user
        data["is_admin"] = telegram_user is not None and telegram_user.id in self._admin_ids
        return await handler(event, data)


def _seen_long_ago(last_seen_at: Any, clock: Clock) -> bool:
    return last_seen_at is None or clock.now() - last_seen_at >= LAST_SEEN_RESOLUTION
