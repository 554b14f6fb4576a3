"""Commands and main-menu buttons leave any unfinished conversation.

Without this, a command typed in the middle of a form would run and the form
would then read the user's next message as its answer (an email, a username).
/cancel is left alone: it has its own handler that reports the cancellation.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject, Update

from bot import filters

logger = logging.getLogger(__name__)


async def leave_on_command(event: TelegramObject, data: dict[str, Any]) -> None:
    """Clear the conversation state when the update is a command or a menu button."""
    message = event.message if isinstance(event, Update) else event
    state: FSMContext | None = data.get("state")
    if not isinstance(message, Message) or state is None or data.get("raw_state") is None:
        return
    text = message.text or ""
    # A command may come as a photo's caption: the router runs it, so it leaves the step too.
    if text in filters.MENU_LABELS or _leaving_command(text or message.caption or ""):
        logger.debug("Leaving conversation %s on %r", data["raw_state"], text[:32])
        await state.clear()
        # The filters read the state from here: the step left must not take the message.
        data["raw_state"] = None


def _leaving_command(text: str) -> bool:
    """Tell whether the text is a command that leaves a step: any but /cancel and /start.

    Other text starting with "/" may be a step's input.
    """
    if not filters.is_command(text):
        return False
    command = text.split(maxsplit=1)[0].split("@")[0]
    return command not in ("/cancel", "/start")
