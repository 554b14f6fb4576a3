"""TWAP: split a large market order from its confirmation card, follow it with /twap, stop it."""

from __future__ import annotations

import uuid

from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import order_keyboards
from bot.callbacks import TwapCancel, TwapSetup, TwapStart
from bot.commands import CommandSpec, register
from bot.formatting import esc
from bot.order_flow import request_from_form, schedule_expiry
from bot.order_input import OrderForm, parse_interval, parse_quantity, parse_side, parse_slices
from bot.pin_guard import PinCheck, PinPurpose, live_account
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.twap import active_twaps, twap_end, twap_interval_question, twap_plan, twap_slices_question
from engine.errors import NotFoundError, PatriotError, PermissionDeniedError
from engine.market.symbols import normalize_symbol
from engine.orders.models import OrderType
from engine.orders.twap import validate_shape
from engine.orders.twap_models import TwapStatus
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)
TRADE = {"permission": Permission.TRADE}

register(
    CommandSpec(
        "twap",
        __("Split a market order into slices over time, or list the running ones"),
        usage=__("/twap [SYMBOL SIDE QTY SLICES INTERVAL], e.g. /twap BTCUSDT buy 0.5 10 5m"),
        order=17,
    )
)


def _uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(hex=text)
    except ValueError as exc:
        raise NotFoundError(what) from exc


@router.callback_query(TwapSetup.filter(), flags=TRADE)
async def set_up(query: CallbackQuery, callback_data: TwapSetup, user: User, services: Services) -> None:
    draft = await services.orders.drafts.get(user, _uuid(callback_data.draft, "draft"))
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
        market = await services.twaps.check_plan(user, draft.id, slices, interval)
        text = twap_plan(draft.request, slices, interval, market.amount_step, user.language)
        markup = order_keyboards.twap_start(draft_hex, slices, interval)
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(TwapStart.filter(), flags={**TRADE, "rate_limit": "order"})
async def start(
    query: CallbackQuery, callback_data: TwapStart, user: User, services: Services, pin: PinCheck
) -> None:
    draft_id = _uuid(callback_data.draft, "draft")
    draft = await services.orders.drafts.get(user, draft_id)
    if not await pin.confirmed(PinPurpose.LIVE_ORDER, applies=live_account(services, user, draft.account_id)):
        return  # asked for the PIN; the press runs again once it is right
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
async def twap_command(message: Message, user: User, services: Services, command: CommandObject) -> None:
    if command.args:
        await _plan_from_command(message, user, services, command.args)
        return
    running = [await services.twaps.progress(user, twap.id) for twap in await services.twaps.active(user)]
    markup = order_keyboards.twap_cancel(*(item.twap.id for item in running)) if running else None
    await answer_long(message, active_twaps(running, user.language), reply_markup=markup)


async def _plan_from_command(message: Message, user: User, services: Services, arguments: str) -> None:
    """Show the plan of ``SYMBOL SIDE QTY SLICES INTERVAL`` with a Start button; nothing runs before it."""
    parts = arguments.split()
    if len(parts) != 5:
        usage = _("/twap [SYMBOL SIDE QTY SLICES INTERVAL], e.g. /twap BTCUSDT buy 0.5 10 5m")
        await message.answer(_("Usage: {usage}").format(usage=f"<code>{esc(usage)}</code>"))
        return
    if not user.can(Permission.TRADE):
        raise PermissionDeniedError("trade")
    form = OrderForm(
        symbol=normalize_symbol(parts[0]),
        side=parse_side(parts[1]),
        type=OrderType.MARKET,
        quantity=parse_quantity(parts[2]),
    )
    slices, interval = parse_slices(parts[3]), parse_interval(parts[4])
    validate_shape(slices, interval)

    request, account_id, notes = await request_from_form(services, user, form)
    preview = await services.orders.preview(user, request, account_id)
    try:
        market = await services.twaps.check_plan(user, preview.draft.id, slices, interval)
    except PatriotError:
        await services.orders.cancel_draft(user, preview.draft.id)
        raise
    text = "\n".join(
        [*notes, twap_plan(preview.draft.request, slices, interval, market.amount_step, user.language)]
    )
    ttl = services.settings.trading.order_confirm_timeout_seconds
    card = await message.answer(
        text, reply_markup=order_keyboards.twap_start(preview.draft.id.hex, slices, interval)
    )
    schedule_expiry(services, user, preview.draft.id, card, ttl)
