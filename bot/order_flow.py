"""Steps every order form shares: turn what was typed into a request, show the card, expire it.

Quick forms (/buy, /sell, /order, /modify) and the guided /order conversation
all end here, at a confirmation card; only its Confirm button sends anything.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import localized
from bot.order_input import OrderForm
from bot.order_keyboards import draft_keyboard
from bot.services import Services
from bot.views.orders import draft_card, share_note
from engine.orders.models import OrderRequest
from engine.orders.previews import OrderPreview
from engine.users.models import User

logger = logging.getLogger(__name__)

# Background tasks that expire confirmation cards; kept so they are not garbage-collected.
_expiry_tasks: set[asyncio.Task[None]] = set()


async def request_from_form(
    services: Services, user: User, form: OrderForm
) -> tuple[OrderRequest, uuid.UUID | None, list[str]]:
    """Resolve the account and a percentage quantity; return the request, the account id and notes."""
    account_id = None
    if form.account is not None:
        account_id = (await services.orders.accounts.find(user, form.account)).id

    notes: list[str] = []
    quantity = form.quantity.amount
    if quantity is None:
        assert form.quantity.share is not None
        quantity = await services.orders.accounts.quantity_for_share(
            user,
            account_id,
            form.symbol,
            form.side,
            form.quantity.share,
            price=form.price or form.stop_price,
        )
        notes.append(share_note(form.quantity.share, quantity, user.language))

    request = OrderRequest(
        symbol=form.symbol,
        side=form.side,
        type=form.type,
        quantity=quantity,
        price=form.price,
        stop_price=form.stop_price,
        time_in_force=form.time_in_force,
        reduce_only=form.reduce_only,
        post_only=form.post_only,
        client_order_id=form.client_order_id,
    )
    return request, account_id, notes


async def preview_form(message: Message, user: User, services: Services, form: OrderForm) -> None:
    request, account_id, notes = await request_from_form(services, user, form)
    preview = await services.orders.preview(user, request, account_id)
    await show_card(message, user, services, preview, notes)


async def show_card(
    message: Message, user: User, services: Services, preview: OrderPreview, notes: list[str] | None = None
) -> None:
    """Send the confirmation card and expire it when its time is up."""
    ttl = services.settings.trading.order_confirm_timeout_seconds
    card = await message.answer(
        draft_card(preview, user.language, ttl, notes), reply_markup=draft_keyboard(preview)
    )
    schedule_expiry(services, user, preview.draft.id, card, ttl)


def schedule_expiry(services: Services, user: User, draft_id: uuid.UUID, card: Message, ttl: int) -> None:
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
