"""Pushes messages the user did not ask for: order events, account notices and anything else.

Every push is rendered in the recipient's language and written to the outbox
table; the outbox dispatcher delivers it within Telegram's flood limits, so a
push survives a restart and a burst of pushes never trips flood control.

An order's push and the record that its owner was notified of (``orders.notified_status``
and ``notified_filled``) are written in one transaction. The engine commits the
order's state before it publishes the event, so a crash in between leaves the
state not notified; ``notify_missed_orders`` finds it at the next start.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.formatting import split_message
from bot.i18n import localized
from bot.middlewares.access import status_refusal
from bot.views.orders import order_result
from engine.common.crash_points import crash_point
from engine.events import Event, EventBus
from engine.notifications.models import Category, OutboxMessage, Priority
from engine.notifications.outbox import Outbox
from engine.uow import UnitOfWorkFactory
from engine.users.models import User, UserStatus

logger = logging.getLogger(__name__)

ORDER_EVENTS = (
    "order_created",
    "order_partially_filled",
    "order_filled",
    "order_cancelled",
    "order_rejected",
)


class Notifier:
    def __init__(self, outbox: Outbox, i18n: I18n, uow_factory: UnitOfWorkFactory) -> None:
        self._outbox = outbox
        self._i18n = i18n
        self._uow = uow_factory

    def subscribe(self, bus: EventBus) -> None:
        for name in ORDER_EVENTS:
            bus.subscribe(name, self.on_order_event)

    async def on_order_event(self, event: Event) -> None:
        if event.shown_inline:
            return  # the card the user pressed shows it, and the order service recorded it as notified
        if event.payload.get("bracket_id") is not None:
            return  # bot.bracket_notices tells the bracket's steps instead of each leg's
        crash_point("event_before_notified")
        await self.tell_order(event.payload["order_id"])

    async def notify_missed_orders(self, since: datetime) -> int:
        """Send each order change since ``since`` that a crash left unsent; return how many."""
        async with self._uow(read_only=True) as uow:
            missed = await uow.orders.list_unnotified(since)
        notified = 0
        for order in missed:
            notified += await self.tell_order(order.id)
        if notified:
            logger.warning("Sent %d order messages that a crash had cut off before the last stop", notified)
        return notified

    async def tell_order(self, order_id: uuid.UUID) -> bool:
        """Queue the order's state to its owner and record it as notified, in one transaction.

        Returns False, queuing nothing, when the user was notified of the state already (by
        another pass or process, or on the card) or the order is a bracket's
        leg. A user who is not active gets no message, and the state counts as notified.
        """
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or order.bracket_id is not None or order.is_notified:
                return False
            user = await uow.users.get(order.user_id)
            messages = []
            if user is not None and user.is_active:
                with localized(self._i18n, user.language):
                    text = order_result(order, user.language)
                messages = self.messages(user.telegram_id, text, category=Category.ORDER, user_id=user.id)
            if not await uow.orders.mark_notified(order):
                return False
            await self._outbox.enqueue_in(uow, messages)
            await uow.commit()
        if messages:
            self._outbox.notify()
        return bool(messages)

    async def notify_status_change(self, user: User) -> None:
        with localized(self._i18n, user.language):
            if user.status is UserStatus.ACTIVE:
                text = _("✅ Your account is active again. Send /menu to continue.")
            else:
                text = status_refusal(user)
        await self.send(user.telegram_id, text, category=Category.ACCOUNT, user_id=user.id)

    async def send(
        self,
        chat_id: int,
        text: str,
        priority: Priority = Priority.NORMAL,
        *,
        category: Category = Category.NOTICE,
        user_id: uuid.UUID | None = None,
    ) -> bool:
        """Queue one message (split under Telegram's length limit); return True once it is stored.

        The text must already be in the recipient's language and escaped for HTML.
        """
        messages = self.messages(chat_id, text, priority, category=category, user_id=user_id)
        await self._outbox.enqueue(messages)
        logger.debug("Queued %d message(s) for chat %s (%s)", len(messages), chat_id, category)
        return True

    def messages(
        self,
        chat_id: int,
        text: str,
        priority: Priority = Priority.NORMAL,
        *,
        category: Category = Category.NOTICE,
        user_id: uuid.UUID | None = None,
    ) -> list[OutboxMessage]:
        """Build the outbox rows of one message (split under Telegram's length limit), for a caller's
        transaction (``Outbox.enqueue_in``)."""
        return [
            self._outbox.message(chat_id, part, priority=priority, category=category, user_id=user_id)
            for part in split_message(text)
        ]
