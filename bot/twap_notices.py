"""Pushes TWAP progress to the owner: each slice sent, and the end (finished, stopped or failed).

Goes through ``Notifier.send``, so delivery follows the notifier's rules.
"""

from __future__ import annotations

import logging

from bot.i18n import localized
from bot.notifier import Notifier
from bot.services import Services
from bot.views.twap import twap_end, twap_progress
from engine.events import Event
from engine.notifications.models import Category

logger = logging.getLogger(__name__)

TWAP_EVENTS = ("twap_slice", "twap_completed", "twap_failed", "twap_cancelled")


class TwapNotices:
    def __init__(self, services: Services, notifier: Notifier) -> None:
        self._services = services
        self._notifier = notifier

    def subscribe(self) -> None:
        for name in TWAP_EVENTS:
            self._services.bus.subscribe(name, self.on_event)

    async def on_event(self, event: Event) -> None:
        if event.shown_inline:
            return  # the user sees it in the message they pressed
        async with self._services.uow(read_only=True) as uow:
            user = await uow.users.get(event.user_id)
        if user is None or not user.is_active:
            return
        progress = await self._services.twaps.progress(user, event.payload["twap_id"])
        with localized(self._services.i18n, user.language):
            text = (
                twap_progress(progress, user.language)
                if event.name == "twap_slice"
                else twap_end(progress, user.language)
            )
            await self._notifier.send(user.telegram_id, text, category=Category.ORDER, user_id=user.id)
