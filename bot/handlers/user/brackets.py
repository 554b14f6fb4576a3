"""/bracket (quick form), its Confirm and Cancel buttons, /brackets, and a bracket's Close button.

Without arguments /bracket starts the guided form (``bracket_form``). Every
bracket id in a button is looked up among the presser's own brackets.
"""

from __future__ import annotations

import logging
import uuid

from aiogram import F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import (
    bracket_errors,  # noqa: F401 - registers the explanations of bracket error codes
    bracket_keyboards,
)
from bot.bracket_input import parse_bracket_command
from bot.callbacks import BracketAction, BracketDraftAction
from bot.commands import CommandSpec, register
from bot.error_texts import describe_error
from bot.formatting import amount, esc
from bot.handlers.user.bracket_form import start_form
from bot.handlers.user.trading import closed_draft_notice
from bot.notifier import Notifier
from bot.order_flow import schedule_expiry
from bot.pin_guard import PinCheck, PinPurpose, live_account
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.brackets import bracket_card, bracket_state, brackets_list, short
from bot.views.orders import base_quote
from engine.brackets.plan import BracketRequest
from engine.brackets.state import CLOSABLE
from engine.errors import NotFoundError, PatriotError, ValidationError
from engine.orders.drafts import DraftStatus
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__)
TRADE = {"permission": Permission.TRADE}
VIEW = {"permission": Permission.VIEW_PORTFOLIO}

USAGE = __(
    "/bracket SYMBOL SIDE QTY entry=PRICE|market sl=PRICE tp=P1[,P2[,P3]] "
    "[split=50,30,20] [breakeven] [exits=native|synthetic] [account=NAME]"
)

register(
    CommandSpec(
        "bracket",
        __("Enter with a stop-loss and up to three take-profit targets in one step"),
        usage=USAGE,
        order=13,
    )
)
register(CommandSpec("brackets", __("Your running brackets, with Close buttons"), order=18))


@router.message(Command("bracket"), flags=TRADE)
async def bracket_command(
    message: Message, user: User, services: Services, state: FSMContext, command: CommandObject | None = None
) -> None:
    await state.clear()
    if command is None or not command.args:
        await start_form(message, user, services, state)
        return
    form = parse_bracket_command(command.args)
    if form is None:
        await message.answer(
            _("Usage: {usage}").format(usage=f"<code>{esc(USAGE)}</code>")
            + "\n"
            + _("For example: {example}").format(
                example="<code>/bracket BTCUSDT buy 0.01 entry=market sl=42000 tp=44000,45000</code>"
            )
            + "\n"
            + _("/bracket without arguments asks for every detail step by step.")
        )
        return
    account_id = None
    if form.account is not None:
        account_id = (await services.orders.accounts.find(user, form.account)).id
    await show_bracket_card(message, user, services, form.request, account_id)


async def show_bracket_card(
    message: Message, user: User, services: Services, request: BracketRequest, account_id: uuid.UUID | None
) -> None:
    """Check the bracket, send its confirmation card, and expire the card when its time is up."""
    preview = await services.brackets.preview(user, request, account_id)
    ttl = services.settings.trading.order_confirm_timeout_seconds
    card = await message.answer(
        bracket_card(preview, user.language, ttl),
        reply_markup=bracket_keyboards.confirm(preview.draft.id.hex),
    )
    schedule_expiry(services, user, preview.draft.id, card, ttl)


def _uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(hex=text)
    except ValueError as exc:
        raise NotFoundError(what) from exc


# ----- the confirmation card -------------------------------------------------------------


@router.callback_query(
    BracketDraftAction.filter(F.action == "ok"), flags={"permission": Permission.TRADE, "rate_limit": "order"}
)
async def confirm(
    query: CallbackQuery,
    callback_data: BracketDraftAction,
    user: User,
    services: Services,
    notifier: Notifier,
    pin: PinCheck,
) -> None:
    draft_id = _uuid(callback_data.draft, "draft")
    draft = await services.orders.get_draft(user, draft_id)
    if draft is None or draft.bracket is None:
        raise NotFoundError("draft")
    if draft.status is not DraftStatus.OPEN:
        await query.answer(closed_draft_notice(draft.status), show_alert=True)
        return  # a late or repeated press: the card already shows the outcome
    if not await pin.confirmed(PinPurpose.LIVE_ORDER, applies=live_account(services, user, draft.account_id)):
        return  # asked for the PIN; the press runs again once it is right

    await query.answer(_("Sending…"))
    try:
        bracket = await services.brackets.confirm(user, draft_id)
    except ValidationError as error:
        if error.code == "DRAFT_CLOSED":
            logger.info(
                "Bracket draft %s of user %s was confirmed by a concurrent press", draft_id, user.telegram_id
            )
            return  # the press that won shows the result on the card
        await _show(query, user, notifier, describe_error(error, user.language))
        return
    except PatriotError as error:
        await _show(query, user, notifier, describe_error(error, user.language))
        return
    view = await services.brackets.view(user, bracket.id)
    await _show(
        query,
        user,
        notifier,
        bracket_state(view, user.language),
        bracket_keyboards.bracket_buttons(view.bracket),
    )


@router.callback_query(BracketDraftAction.filter(F.action == "no"))
async def cancel(
    query: CallbackQuery, callback_data: BracketDraftAction, user: User, services: Services
) -> None:
    await services.orders.cancel_draft(user, _uuid(callback_data.draft, "draft"))
    await query.answer(_("Cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_text(_("✖ Cancelled. Nothing was sent."))


async def _show(
    query: CallbackQuery,
    user: User,
    notifier: Notifier,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Put the outcome on the card; when Telegram refuses the edit, push it as a new message instead."""
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
            return
        except TelegramAPIError as exc:
            logger.warning(
                "Could not edit the card of user %s: %s; sending the outcome instead", user.telegram_id, exc
            )
    await notifier.send(user.telegram_id, text)


# ----- /brackets and a bracket's buttons -----------------------------------------------------


@router.message(Command("brackets"), flags=VIEW)
async def list_brackets(message: Message, user: User, services: Services) -> None:
    views = await services.brackets.active(user)
    markup = bracket_keyboards.list_buttons([view.bracket for view in views]) if views else None
    await answer_long(message, brackets_list(views, user.language), reply_markup=markup)


@router.callback_query(BracketAction.filter(F.action == "d"), flags=VIEW)
async def show_bracket(
    query: CallbackQuery, callback_data: BracketAction, user: User, services: Services
) -> None:
    view = await services.brackets.view(user, _uuid(callback_data.bracket, "bracket"))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            bracket_state(view, user.language), reply_markup=bracket_keyboards.bracket_buttons(view.bracket)
        )


@router.callback_query(BracketAction.filter(F.action == "c"), flags=TRADE)
async def ask_close(
    query: CallbackQuery, callback_data: BracketAction, user: User, services: Services
) -> None:
    view = await services.brackets.view(user, _uuid(callback_data.bracket, "bracket"))
    bracket, position = view.bracket, view.position
    if bracket.status not in CLOSABLE:
        # An old card's button: the bracket is closing or over already.
        raise ValidationError("BRACKET_NOT_CLOSABLE", bracket=bracket.short_id, status=bracket.status)
    await query.answer()
    base, _quote = base_quote(bracket.symbol)
    if position.entered > 0:
        template = (
            _("Close bracket {bracket_id}? Its exits are cancelled and the open {open} is sold at market.")
            if bracket.is_long
            else _("Close bracket {bracket_id}? Its exits are cancelled and the open {open} is bought back.")
        )
        text = template.format(
            bracket_id=short(bracket), open=amount(position.open_quantity, base, user.language)
        )
    else:
        text = _("Cancel bracket {bracket_id}? Its entry is cancelled and nothing is armed.").format(
            bracket_id=short(bracket)
        )
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=bracket_keyboards.close_confirm(bracket))


@router.callback_query(
    BracketAction.filter(F.action == "cy"), flags={"permission": Permission.TRADE, "rate_limit": "order"}
)
async def close(query: CallbackQuery, callback_data: BracketAction, user: User, services: Services) -> None:
    bracket_id = _uuid(callback_data.bracket, "bracket")
    await query.answer(_("Closing…"))
    try:
        await services.brackets.close(user, bracket_id)
    except PatriotError as error:
        text = describe_error(error, user.language)
        markup = None
    else:
        view = await services.brackets.view(user, bracket_id)
        text, markup = bracket_state(view, user.language), bracket_keyboards.bracket_buttons(view.bracket)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
