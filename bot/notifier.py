"""Pushes messages the user did not ask for: order events, account notices and anything else.

Every push is rendered in the recipient's language and written to the outbox
table; the outbox dispatcher delivers it within Telegram's flood limits, so a
push survives a restart and a burst of pushes never trips flood control.
"""

from __future__ import annotations

import logging
import uuid

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.formatting import split_message
from bot.i18n import localized
from bot.middlewares.access import status_refusal
from bot.views.orders import order_result
from engine.events import Event, EventBus
from engine.notifications.models import Category, Priority
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
            return  # the user sees the result in the message they pressed
        async with self._uow(read_only=True) as uow:
            user = await uow.users.get(event.user_id)
            order = await uow.orders.get(event.payload["order_id"])
        if user is None or order is None or not user.is_active:
            return
        if order.bracket_id is not None:
            return  # bot.bracket_notices tells the bracket's steps instead of each leg's
        with localized(self._i18n, user.language):
            text = order_result(order, user.language)
        await self.send(user.telegram_id, text, category=Category.ORDER, user_id=user.id)

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
        messages = [
            self._outbox.message(chat_id, part, priority=priority, category=category, user_id=user_id)
            for part in split_message(text)
        ]
        await self._outbox.enqueue(messages)
        logger.debug("Queued %d message(s) for chat %s (%s)", len(messages), chat_id, category)
        return True
