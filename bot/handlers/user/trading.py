"""/buy and /sell: market orders with a confirmation card; only Confirm sends the order."""

from __future__ import annotations

import asyncio
import logging
import uuid

from aiogram import F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import keyboards
from bot.callbacks import DraftAction
from bot.commands import CommandSpec, register
from bot.error_texts import describe_error
from bot.filters import MenuButton
from bot.i18n import localized
from bot.notifier import Notifier
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.orders import draft_card, order_result
from engine.common.money import parse_positive_decimal
from engine.errors import NotFoundError, PatriotError, ValidationError
from engine.market.symbols import normalize_symbol
from engine.orders.drafts import DraftStatus
from engine.orders.models import OrderRequest, OrderSide, OrderType
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__)

register(
    CommandSpec(
        "buy",
        __("Buy at market"),
        usage=__("/buy SYMBOL QUANTITY, e.g. /buy BTCUSDT 0.001"),
        menu_label=__("🟢 Buy"),
        order=10,
    )
)
register(
    CommandSpec(
        "sell",
        __("Sell at market"),
        usage=__("/sell SYMBOL QUANTITY, e.g. /sell BTCUSDT 0.001"),
        menu_label=__("🔴 Sell"),
        order=11,
    )
)

# Background tasks that expire confirmation cards; kept so they are not garbage-collected.
_expiry_tasks: set[asyncio.Task[None]] = set()


def parse_market_order(side: OrderSide, arguments: str | None) -> OrderRequest | None:
    """Parse ``SYMBOL QUANTITY``; return None when the argument count is wrong."""
    parts = (arguments or "").split()
    if len(parts) != 2:
        return None
    symbol = normalize_symbol(parts[0])
    quantity = parse_positive_decimal(parts[1], field="quantity")
    return OrderRequest(symbol=symbol, side=side, type=OrderType.MARKET, quantity=quantity)


@router.message(Command("buy"), flags={"permission": Permission.TRADE})
@router.message(MenuButton("buy"), flags={"permission": Permission.TRADE})
async def buy(
    message: Message, user: User, services: Services, i18n: I18n, command: CommandObject | None = None
) -> None:
    await _preview(message, user, services, OrderSide.BUY, command.args if command else None)


@router.message(Command("sell"), flags={"permission": Permission.TRADE})
@router.message(MenuButton("sell"), flags={"permission": Permission.TRADE})
async def sell(
    message: Message, user: User, services: Services, i18n: I18n, command: CommandObject | None = None
) -> None:
    await _preview(message, user, services, OrderSide.SELL, command.args if command else None)


async def _preview(
    message: Message, user: User, services: Services, side: OrderSide, arguments: str | None
) -> None:
    request = parse_market_order(side, arguments)
    if request is None:
        usage = (
            _("/buy SYMBOL QUANTITY, e.g. /buy BTCUSDT 0.001")
            if side is OrderSide.BUY
            else _("/sell SYMBOL QUANTITY, e.g. /sell BTCUSDT 0.001")
        )
        await message.answer(_("Usage: {usage}").format(usage=f"<code>{usage}</code>"))
        return

    preview = await services.orders.preview(user, request)
    ttl = services.settings.trading.order_confirm_timeout_seconds
    card = await message.answer(
        draft_card(preview.draft, preview.account, preview.report, user.language, ttl),
        reply_markup=keyboards.confirm_draft(preview.draft.id),
    )
    _schedule_expiry(services, user, preview.draft.id, card, ttl)


def _schedule_expiry(services: Services, user: User, draft_id: uuid.UUID, card: Message, ttl: int) -> None:
    async def expire() -> None:
        await asyncio.sleep(ttl)
        if await services.orders.expire_draft(user, draft_id):
            with localized(services.i18n, user.language):
                await card.edit_text(_("⌛ The confirmation expired. Nothing was sent."))

    task = asyncio.create_task(expire())
    _expiry_tasks.add(task)
    task.add_done_callback(_finish_expiry_task)


def _finish_expiry_task(task: asyncio.Task[None]) -> None:
    _expiry_tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("Expiring a confirmation card failed", exc_info=task.exception())


def _draft_id(callback_data: DraftAction) -> uuid.UUID:
    try:
        return uuid.UUID(hex=callback_data.draft)
    except ValueError as exc:
        raise NotFoundError("draft") from exc


@router.callback_query(
    DraftAction.filter(F.action == "ok"), flags={"permission": Permission.TRADE, "rate_limit": "order"}
)
async def confirm(
    query: CallbackQuery, callback_data: DraftAction, user: User, services: Services, notifier: Notifier
) -> None:
    draft_id = _draft_id(callback_data)
    draft = await services.orders.get_draft(user, draft_id)
    if draft is None:
        raise NotFoundError("draft")
    if draft.status is not DraftStatus.OPEN:
        await query.answer(closed_draft_notice(draft.status), show_alert=True)
        return  # a late or repeated press: the card already shows the outcome

    await query.answer(_("Sending…"))
    try:
        order = await services.orders.confirm(user, draft_id)
    except ValidationError as error:
        if error.code == "DRAFT_CLOSED":
            logger.info("Draft %s of user %s was confirmed by a concurrent press", draft_id, user.telegram_id)
            return  # the press that won shows the result on the card
        await show_outcome(query, user, notifier, describe_error(error, user.language))
        return
    except PatriotError as error:
        await show_outcome(query, user, notifier, describe_error(error, user.language))
        return
    await show_outcome(query, user, notifier, order_result(order, user.language))


def closed_draft_notice(status: DraftStatus) -> str:
    if status is DraftStatus.CONFIRMED:
        return _("This order was already sent.")
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
    await notifier.send(user.telegram_id, text)


@router.callback_query(DraftAction.filter(F.action == "no"))
async def cancel(query: CallbackQuery, callback_data: DraftAction, user: User, services: Services) -> None:
    await services.orders.cancel_draft(user, _draft_id(callback_data))
    await query.answer(_("Cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_text(_("✖ Cancelled. Nothing was sent."))
