"""After a crash: tell each user the outcome of an order they confirmed but never saw.

The Confirm handler marks a draft reported once its outcome is on the card
(or queued as a push). A draft that is CONFIRMING, or CONFIRMED but not
reported, therefore belongs to a press whose handling the process did not finish. This runs at
start-up, before the order sync's first pass, and queues one message per such
draft:

- the order was stored and is no longer PENDING: its state, as after Confirm;
- the order is still PENDING: nothing now, because the sync looks it up and
  pushes what the exchange did (its events are not shown inline);
- the draft is still CONFIRMING, or no order was stored (a TWAP whose start was
  cut short): nothing was sent;
- a change of an existing order: the order's current state, with a warning
  that the change may not have been applied.
"""

from __future__ import annotations

import logging

from aiogram.utils.i18n import gettext as _

from bot.formatting import esc
from bot.i18n import localized
from bot.services import Services
from bot.texts import side_name
from bot.views.orders import order_result
from engine.notifications.models import Category
from engine.orders.drafts import DraftStatus, OrderDraft
from engine.orders.models import Order, OrderStatus
from engine.users.models import User

logger = logging.getLogger(__name__)


async def report_interrupted_orders(services: Services) -> int:
    """Queue the outcome of every confirmed draft nobody was told about; return how many were queued."""
    queued = 0
    for draft in await services.orders.drafts.unreported():
        user, order, modified = await _load(services, draft)
        text = _text(services, draft, user, order, modified) if user is not None else None
        if text is not None and user is not None and user.is_active:
            await services.notifier.send(user.telegram_id, text, category=Category.ORDER, user_id=user.id)
            queued += 1
        if draft.status is DraftStatus.CONFIRMING:
            await services.orders.drafts.abandon(draft)
        else:
            await services.orders.drafts.mark_reported(draft.id)
        logger.info(
            "Draft %s of user %s was confirmed before the last stop: order %s, %s",
            draft.id,
            user.telegram_id if user else "?",
            order.id if order else "not stored",
            "outcome queued" if text else "left to the order sync",
        )
    if queued:
        logger.warning("Told %d users the outcome of orders confirmed before an unclean stop", queued)
    return queued


async def _load(services: Services, draft: OrderDraft) -> tuple[User | None, Order | None, Order | None]:
    async with services.uow(read_only=True) as uow:
        user = await uow.users.get(draft.user_id)
        order = await uow.orders.get_by_client_id_for_user(draft.user_id, draft.client_order_id)
        modified = await uow.orders.get(draft.modifies_order_id) if draft.modifies_order_id else None
    return user, order, modified


def _text(
    services: Services, draft: OrderDraft, user: User, order: Order | None, modified: Order | None
) -> str | None:
    with localized(services.i18n, user.language):
        if draft.modifies_order_id is not None:
            current = order or modified
            warning = _(
                "⚠️ PATRIOT restarted while it was changing your order; the change may not be applied."
            )
            return warning + ("\n" + order_result(current, user.language) if current else "")
        if order is None:
            return _(
                "⚠️ PATRIOT restarted before it sent your confirmed order ({side} {symbol}). "
                "Nothing was sent; place the order again if you still want it."
            ).format(side=side_name(draft.request.side), symbol=esc(draft.request.symbol))
        if order.status is OrderStatus.PENDING:
            return None
        return order_result(order, user.language)
