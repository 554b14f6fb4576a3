"""Replies to anything no other handler took, so no message goes unanswered."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.middlewares.access import PUBLIC
from bot.routing import RouterBlueprint

router = RouterBlueprint(__name__)


@router.message()
async def unknown_message(message: Message) -> None:
    if message.text and message.text.startswith("/"):
        await message.answer(_("Unknown command. /help lists what I can do."))
    else:
        await message.answer(_("I did not understand that. /help lists what I can do."))


@router.callback_query(flags={"access": PUBLIC})
async def stale_button(query: CallbackQuery) -> None:
    # Buttons of old messages, of a finished conversation, or forged payloads.
    await query.answer(_("This button is no longer active."), show_alert=False)
