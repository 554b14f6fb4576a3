"""The update context: PATRIOT's steps for every update, as plain calls in one outer middleware.

Each aiogram middleware is a hop through a wrapper built per update, so the
steps that every update needs run here one after the other:

1. count the update as in flight, so shutdown waits for the whole handling;
2. leave an unfinished conversation on a command or a menu button
   (``bot.middlewares.conversation``);
3. load the registered user (``user``, or None) and ``is_admin``, write
   last_seen_at at most once per ``LAST_SEEN_RESOLUTION``, and clear the
   unreachable mark of a chat that writes again;
4. pick the language: the user's saved one, else Telegram's language_code.

The user load's read-only transaction is kept open for the handler's first
read (``storage.uow.KeptRead``): the gate ends it unless the handler is flagged
``reads_first``, and it ends before any Telegram request and with the update.

It is an update-level middleware so every event type gets it, and it runs
after aiogram's FSM middleware, which provides ``state`` and ``raw_state``.
The user is loaded afresh for every update: with several bot processes on
one database a cached user could let a suspended account go on trading.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import timedelta
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n

from bot.middlewares.conversation import leave_on_command
from bot.middlewares.inflight import InFlightTracker
from engine.common.clock import Clock
from engine.notifications.reachability import Reachability
from engine.users.models import User
from engine.users.service import UserService
from engine.users.validation import language_from_telegram

logger = logging.getLogger(__name__)

# last_seen_at is written at most this often per user, to keep reads read-only.
LAST_SEEN_RESOLUTION = timedelta(minutes=10)


class ReadKeeper(Protocol):
    """Keeps a read-only transaction open for the task's next unit of work (``storage.uow.KeptRead``)."""

    def scope(self) -> AbstractAsyncContextManager[None]: ...

    def next_read(self) -> AbstractContextManager[None]: ...

    async def end(self) -> None: ...


class UpdateContext(BaseMiddleware):
    def __init__(
        self,
        tracker: InFlightTracker,
        users: UserService,
        i18n: I18n,
        admin_ids: frozenset[int],
        clock: Clock,
        reachability: Reachability | None = None,
        kept_read: ReadKeeper | None = None,
    ) -> None:
        self._tracker = tracker
        self._kept_read = kept_read
        self._users = users
        self._i18n = i18n
        self._admin_ids = admin_ids
        self._clock = clock
        self._reachability = reachability

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with self._tracker.track(event):
            if self._kept_read is None:
                return await self._handle(handler, event, data)
            async with self._kept_read.scope():
                return await self._handle(handler, event, data)

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        # Before the user load, whose transaction may be kept: clearing a state in Redis waits on the network.
        await leave_on_command(event, data)
        user = await self._load_user(data)
        data["i18n"] = self._i18n
        language = user.language if user is not None else _telegram_language(data)
        with self._i18n.context(), self._i18n.use_locale(language):
            return await handler(event, data)

    async def _load_user(self, data: dict[str, Any]) -> User | None:
        """Put ``user`` and ``is_admin`` into the handler data and return the user."""
        telegram_user = data.get("event_from_user")
        user = None
        if telegram_user is not None:
            user = await self._read_user(telegram_user.id)
            if user is not None and _seen_long_ago(user.last_seen_at, self._clock):
                user = await self._users.touch(user.id)
            if self._reachability is not None:
                # A user who blocked the bot and writes again can be reached again.
                await self._reachability.seen(telegram_user.id)
        data["user"] = user
        data["is_admin"] = telegram_user is not None and telegram_user.id in self._admin_ids
        return user

    async def _read_user(self, telegram_id: int) -> User | None:
        if self._kept_read is None:
            return await self._users.get_by_telegram_id(telegram_id)
        with self._kept_read.next_read():
            return await self._users.get_by_telegram_id(telegram_id)


def _telegram_language(data: dict[str, Any]) -> str:
    return language_from_telegram(getattr(data.get("event_from_user"), "language_code", None))


def _seen_long_ago(last_seen_at: Any, clock: Clock) -> bool:
    return last_seen_at is None or clock.now() - last_seen_at >= LAST_SEEN_RESOLUTION
