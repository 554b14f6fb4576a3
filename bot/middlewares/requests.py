"""Bot API request middlewares: short flood waits, stale callback answers, no transaction left open.

Interactive replies wait out a short TelegramRetryAfter and try again, so one
429 does not lose the reply. A callback query that Telegram no longer accepts
(the answer came too late, e.g. after a restart) counts as answered: the
handler still does its work and edits or sends its messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, TelegramMethod

logger = logging.getLogger(__name__)

# Longer waits are left to the caller: a reply that late is worth less than the
# handler finishing, and the push outbox has its own flood handling.
MAX_RETRY_AFTER_SECONDS = 5
MAX_ATTEMPTS = 3
STALE_QUERY_MARKERS = ("query is too old", "query id is invalid")


class ReplyRetryMiddleware(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Any:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if exc.retry_after > MAX_RETRY_AFTER_SECONDS or attempt == MAX_ATTEMPTS:
                    raise
                logger.warning(
                    "%s hit the flood limit; retrying in %s s (attempt %d)",
                    type(method).__name__,
                    exc.retry_after,
                    attempt,
                )
                await asyncio.sleep(exc.retry_after)
            except TelegramBadRequest as exc:
                if isinstance(method, AnswerCallbackQuery) and _is_stale_query(exc):
                    logger.info("Callback query %s was too old to answer", method.callback_query_id)
                    return True
                raise
        raise AssertionError("unreachable: the last attempt returns or raises")


def _is_stale_query(error: TelegramBadRequest) -> bool:
    text = error.message.lower()
    return any(marker in text for marker in STALE_QUERY_MARKERS)


class EndKeptRead(BaseRequestMiddleware):
    """Ends the task's kept read-only transaction (``storage.uow.KeptRead``) before any request."""

    def __init__(self, end: Callable[[], Awaitable[None]]) -> None:
        self._end = end

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Any:
        await self._end()
        return await make_request(bot, method)
