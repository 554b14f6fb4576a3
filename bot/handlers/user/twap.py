"""TWAP: split a large market order from its confirmation card, follow it with /twap, stop it."""

from __future__ import annotations

import uuid

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import lazy_gettext as __

from bot import order_keyboards
from bot.callbacks import TwapCancel, TwapSetup, TwapStart
from bot.commands import CommandSpec, register
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.twap import active_twaps, twap_end, twap_interval_question, twap_plan, twap_slices_question
from engine.errors import NotFoundError
from engine.orders.twap_models import TwapStatus
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)
TRADE = {"permission": Permission.TRADE}

register(CommandSpec("twap", __("Running TWAP executions and their progress"), order=17))


def _uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(hex=text)
    except ValueError as exc:
        raise NotFoundError(what) from exc


@router.callback_query(TwapSetup.filter(), flags=TRADE)
async def set_up(query: CallbackQuery, callback_data: TwapSetup, user: User, services: Services) -> None:
    draft = await services.orders.draft(user, _uuid(callback_data.draft, "draft"))
    await query.answer()
    if not isinstance(query.message, Message):
        return  # the card is too old to edit
    draft_hex, slices, interval = draft.id.hex, callback_data.slices, callback_data.interval
    if slices <= 0:
        text, markup = (
            twap_slices_question(draft.request, user.language),
            order_keyboards.twap_slices(draft_hex),
        )
    elif interval <= 0:
        text, markup = twap_interval_question(slices), order_keyboards.twap_intervals(draft_hex, slices)
    else:
        account = await services.orders.account(user, draft.account_id)
        market = await (await services.gateways.gateway_for(account)).market(draft.request.symbol)
        text = twap_plan(draft.request, slices, interval, market.amount_step, user.language)
        markup = order_keyboards.twap_start(draft_hex, slices, interval)
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(TwapStart.filter(), flags=TRADE)
async def start(query: CallbackQuery, callback_data: TwapStart, user: User, services: Services) -> None:
    draft_id = _uuid(callback_data.draft, "draft")
    twap = await services.twaps.start(user, draft_id, callback_data.slices, callback_data.interval)
    await query.answer()
    progress = await services.twaps.progress(user, twap.id)
    if isinstance(query.message, Message):
        markup = order_keyboards.twap_cancel(twap.id) if progress.twap.status is TwapStatus.ACTIVE else None
        await query.message.edit_text(twap_end(progress, user.language), reply_markup=markup)


@router.callback_query(TwapCancel.filter(), flags=TRADE)
async def stop(query: CallbackQuery, callback_data: TwapCancel, user: User, services: Services) -> None:
    twap = await services.twaps.cancel(user, _uuid(callback_data.twap, "twap"))
    await query.answer()
    progress = await services.twaps.progress(user, twap.id)
    if isinstance(query.message, Message):
        await query.message.answer(twap_end(progress, user.language))


@router.message(Command("twap"), flags={"permission": Permission.VIEW_PORTFOLIO})
async def list_twaps(message: Message, user: User, services: Services) -> None:
    running = [await services.twaps.progress(user, twap.id) for twap in await services.twaps.active(user)]
    markup = order_keyboards.twap_cancel(*(item.twap.id for item in running)) if running else None
    await answer_long(message, active_twaps(running, user.language), reply_markup=markup)
