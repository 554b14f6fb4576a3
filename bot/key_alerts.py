"""Tells a user, once, that an account's API key stopped working."""

from __future__ import annotations

import logging

from aiogram.utils.i18n import gettext as _

from bot.formatting import esc
from bot.i18n import localized
from bot.notifier import Notifier
from bot.services import Services
from bot.views.accounts import exchange_name, problem_text
from engine.accounts.events import ACCOUNT_KEY_INVALID
from engine.events import Event, EventBus

logger = logging.getLogger(__name__)


class KeyAlerts:
    """Turns ACCOUNT_KEY_INVALID events into a message through the notifier."""

    def __init__(self, services: Services, notifier: Notifier) -> None:
        self._services = services
        self._notifier = notifier

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(ACCOUNT_KEY_INVALID, self.on_key_invalid)

    async def on_key_invalid(self, event: Event) -> None:
        async with self._services.uow(read_only=True) as uow:
            user = await uow.users.get(event.user_id)
            account = await uow.accounts.get(event.payload["account_id"])
        if user is None or account is None or not user.is_active:
            return  # a suspended or closed user gets no pushes but the notice of that
        with localized(self._services.i18n, user.language):
            text = "\n".join(
                [
                    _("⛔ {exchange} rejected the API key of your account “{name}”.").format(
                        exchange=exchange_name(account.exchange), name=esc(account.name)
                    ),
                    problem_text(str(event.payload["reason"]), account.exchange),
                    _(
                        "PATRIOT stopped using this account. When the key is fixed, press “Re-check keys” "
                        "in /accounts."
                    ),
                ]
            )
        if not await self._notifier.send(user.telegram_id, text, user_id=user.id):
            logger.warning(
                "Notice to user %s that the key of account %s stopped working was not delivered",
                user.telegram_id,
                account.id,
            )
