"""/cancel inside any conversation: leave it and store nothing."""

from __future__ import annotations

from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.middlewares.access import PUBLIC
from bot.routing import RouterBlueprint

router = RouterBlueprint(__name__)


@router.message(Command("cancel"), ~StateFilter(None), flags={"access": PUBLIC})
async def cancel_conversation(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled. Nothing was saved."))
