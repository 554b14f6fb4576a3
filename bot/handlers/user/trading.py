"""/buy and /sell quick forms, and the Confirm and Cancel buttons of every confirmation card."""

from __future__ import annotations

import logging
import uuid

from aiogram import F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import order_errors  # noqa: F401 - registers the explanations of order error codes
from bot.callbacks import DraftAction
from bot.commands import CommandSpec, register
from bot.error_texts import describe_error
from bot.filters import MenuButton
from bot.notifier import Notifier
from bot.order_flow import preview_form
from bot.order_input import parse_quick_order
from bot.pin_guard import PinCheck, PinPurpose, live_account
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.orders import order_result
from engine.errors import NotFoundError, PatriotError, ValidationError
from engine.notifications.models import Category
from engine.orders.drafts import DraftStatus
from engine.orders.models import OrderSide
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__)

register(
    CommandSpec(
        "buy",
        __("Buy at market, or at a limit price"),
        usage=__("/buy SYMBOL QUANTITY [PRICE], e.g. /buy BTCUSDT 0.001 or /buy BTCUSDT 25% 42000"),
        menu_label=__("🟢 Buy"),
        order=10,
    )
)
register(
    CommandSpec(
        "sell",
        __("Sell at market, or at a limit price"),
        usage=__("/sell SYMBOL QUANTITY [PRICE], e.g. /sell BTCUSDT 0.001 or /sell BTCUSDT 100%"),
        menu_label=__("🔴 Sell"),
        order=11,
    )
)


@router.message(Command("buy"), flags={"permission": Permission.TRADE})
@router.message(MenuButton("buy"), flags={"permission": Permission.TRADE})
async def buy(message: Message, user: User, services: Services, command: CommandObject | None = None) -> None:
    await _quick(message, user, services, OrderSide.BUY, command.args if command else None)


@router.message(Command("sell"), flags={"permission": Permission.TRADE})
@router.message(MenuButton("sell"), flags={"permission": Permission.TRADE})
async def sell(
    message: Message, user: User, services: Services, command: CommandObject | None = None
) -> None:
    await _quick(message, user, services, OrderSide.SELL, command.args if command else None)


async def _quick(
    message: Message, user: User, services: Services, side: OrderSide, arguments: str | None
) -> None:
    form = parse_quick_order(side, arguments)
    if form is None:
        usage = (
            _("/buy SYMBOL QUANTITY [PRICE], e.g. /buy BTCUSDT 0.001 or /buy BTCUSDT 25% 42000")
            if side is OrderSide.BUY
            else _("/sell SYMBOL QUANTITY [PRICE], e.g. /sell BTCUSDT 0.001 or /sell BTCUSDT 100%")
        )
        await message.answer(
            _("Usage: {usage}").format(usage=f"<code>{usage}</code>")
            + "\n"
            + _("/order without arguments asks for every detail step by step.")
        )
        return
    await preview_form(message, user, services, form)


def _draft_id(callback_data: DraftAction) -> uuid.UUID:
    try:
        return uuid.UUID(hex=callback_data.draft)
    except ValueError as exc:
        raise NotFoundError("draft") from exc


@router.callback_query(
    DraftAction.filter(F.action == "ok"), flags={"permission": Permission.TRADE, "rate_limit": "order"}
)
async def confirm(
    query: CallbackQuery,
    callback_data: DraftAction,
    user: User,
    services: Services,
    notifier: Notifier,
    pin: PinCheck,
) -> None:
    draft_id = _draft_id(callback_data)
    draft = await services.orders.get_draft(user, draft_id)
    if draft is None:
        raise NotFoundError("draft")
    if draft.status is not DraftStatus.OPEN:
        await query.answer(closed_draft_notice(draft.status), show_alert=True)
        return  # a late or repeated press: the card already shows the outcome
    if not await pin.confirmed(PinPurpose.LIVE_ORDER, applies=live_account(services, user, draft.account_id)):
        return  # asked for the PIN; the press runs again once it is right

    await query.answer(_("Sending…"))
    try:
        order = await services.orders.confirm(user, draft_id)
    except ValidationError as error:
        if error.code == "DRAFT_CLOSED":
            logger.info("Draft %s of user %s was confirmed by a concurrent press", draft_id, user.telegram_id)
            return  # the press that won shows the result on the card
        text = describe_error(error, user.language)
    except PatriotError as error:
        text = describe_error(error, user.language)
    else:
        text = order_result(order, user.language)
    await show_outcome(query, user, notifier, text)
    # Only now has the user seen the outcome; after a crash before this line,
    # bot.order_recovery tells them at the next start.
    await services.orders.drafts.mark_reported(draft_id)


def closed_draft_notice(status: DraftStatus) -> str:
    if status is DraftStatus.CONFIRMED:
        return _("This order was already sent.")
    if status is DraftStatus.CONFIRMING:
        return _("This order is being sent; its result follows here.")
    if status is DraftStatus.CANCELLED:
        return _("This order was cancelled. Nothing was sent.")
    return _("This confirmation has expired and nothing was sent. Place the order again.")


async def show_outcome(query: CallbackQuery, user: User, notifier: Notifier, text: str) -> None:
    """Put the outcome on the card; if Telegram refuses the edit, push it as a new message.

    The order may already be filled at this point, so the user must learn the
    result even when the card is gone or Telegram is flooding.
    """
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text)
            return
        except TelegramAPIError as exc:
            logger.warning(
                "Could not edit the card of user %s: %s; sending the outcome instead", user.telegram_id, exc
            )
    await notifier.send(user.telegram_id, text, category=Category.ORDER, user_id=user.id)


@router.callback_query(DraftAction.filter(F.action == "no"))
async def cancel(query: CallbackQuery, callback_data: DraftAction, user: User, services: Services) -> None:
    await services.orders.cancel_draft(user, _draft_id(callback_data))
    await query.answer(_("Cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_text(_("✖ Cancelled. Nothing was sent."))
