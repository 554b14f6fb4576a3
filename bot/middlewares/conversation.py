"""Commands and main-menu buttons leave any unfinished conversation.

Without this, a command typed in the middle of a form would run and the form
would then read the user's next message as its answer (an email, a username).
/cancel is left alone: it has its own handler that reports the cancellation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject

from bot import filters

logger = logging.getLogger(__name__)


class LeaveConversationOnCommand(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        if isinstance(event, Message) and state is not None and _leaves_conversation(event.text or ""):
            current = await state.get_state()
            if current is not None:
                logger.debug("Leaving conversation %s on %r", current, (event.text or "")[:32])
                await state.clear()
        return await handler(event, data)


def _leaves_conversation(text: str) -> bool:
    """Menu buttons and registered commands leave; other text starting with "/" may be a step's answer."""
    if text in filters.MENU_LABELS:
        return True
    if not filters.is_command(text):
        return False
    command = text.split(maxsplit=1)[0].split("@")[0]
    return command not in ("/cancel", "/start")
