"""The maximum slippage setting: above it, a market order's confirmation offers a TWAP split."""

from __future__ import annotations

from decimal import Decimal

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import SettingsAction
from bot.formatting import percent
from bot.routing import RouterBlueprint
from bot.services import Services
from engine.common.money import parse_positive_decimal
from engine.users.models import User

router = RouterBlueprint(__name__)
HUNDRED = Decimal(100)


class SlippageStates(StatesGroup):
    value = State()


@router.callback_query(SettingsAction.filter(F.action == "slippage"))
async def ask_slippage(query: CallbackQuery, user: User, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(SlippageStates.value)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Send the maximum price impact you accept for a market order, in percent, e.g. 0.5 "
                "(now {current}). Above it, the confirmation offers to split the order into a TWAP. "
                "/cancel keeps it."
            ).format(current=percent(user.max_slippage, user.language))
        )


@router.message(SlippageStates.value, F.text, ~F.text.startswith("/"))
async def set_slippage(message: Message, user: User, services: Services, state: FSMContext) -> None:
    text = (message.text or "").strip().removesuffix("%").strip()
    value = parse_positive_decimal(text, field="max_slippage") / HUNDRED
    updated = await services.users.set_max_slippage(user.id, value)
    await state.clear()
    await message.answer(
        _("Maximum slippage saved: {value}").format(value=percent(updated.max_slippage, updated.language))
    )
