"""Pushes messages the user did not ask for: order events and account notices.

Sends directly through the Bot with one retry after Telegram's RetryAfter.
A user who blocked the bot is logged, never retried.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import localized
from bot.middlewares.access import status_refusal
from bot.views.orders import order_result
from engine.events import Event, EventBus
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
    def __init__(self, bot: Bot, i18n: I18n, uow_factory: UnitOfWorkFactory) -> None:
        self._bot = bot
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
        with localized(self._i18n, user.language):
            await self.send(user.telegram_id, order_result(order, user.language))

    async def notify_status_change(self, user: User) -> None:
        with localized(self._i18n, user.language):
            if user.status is UserStatus.ACTIVE:
                text = _("✅ Your account is active again. Send /menu to continue.")
            else:
                text = status_refusal(user)
            await self.send(user.telegram_id, text)

    async def send(self, chat_id: int, text: str) -> bool:
        """Send one message; return whether Telegram accepted it."""
        for attempt in (1, 2):
            try:
                await self._bot.send_message(chat_id, text)
                return True
            except TelegramRetryAfter as exc:
                if attempt == 2:
                    logger.warning("Message to %s dropped after RetryAfter twice", chat_id)
                    return False
                await asyncio.sleep(exc.retry_after)
            except TelegramForbiddenError:
                logger.info("User %s blocked the bot; message not delivered", chat_id)
                return False
            except TelegramAPIError as exc:
                logger.warning("Message to %s failed: %s", chat_id, exc)
                return False
        return False
