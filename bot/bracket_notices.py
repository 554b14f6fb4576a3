"""Pushes each step of a bracket to its owner: entry filled, exits armed, target hit, stop moved, the end.

Goes through ``Notifier.send`` (the outbox), in the owner's language. The
order events of a bracket's legs are not pushed on their own (see
``Notifier.on_order_event``): these messages tell the same steps as a trader
thinks of them.
"""

from __future__ import annotations

import logging

from bot.i18n import localized
from bot.notifier import Notifier
from bot.services import Services
from bot.views import brackets as texts
from engine.events import Event
from engine.notifications.models import Category, Priority

logger = logging.getLogger(__name__)

BRACKET_EVENTS = (
    "bracket_entry_filled",
    "bracket_armed",
    "bracket_target_hit",
    "bracket_stop_moved",
    "bracket_closed",
    "bracket_cancelled",
    "bracket_fallback",
)


class BracketNotices:
    def __init__(self, services: Services, notifier: Notifier) -> None:
        self._services = services
        self._notifier = notifier

    def subscribe(self) -> None:
        for name in BRACKET_EVENTS:
            self._services.bus.subscribe(name, self.on_event)

    async def on_event(self, event: Event) -> None:
        if event.shown_inline:
            return  # the user sees it on the card they pressed
        payload = event.payload
        async with self._services.uow(read_only=True) as uow:
            user = await uow.users.get(event.user_id)
            bracket = await uow.brackets.get(payload["bracket_id"])
            entry_price = None
            if event.name == "bracket_entry_filled" and bracket is not None:
                legs = await uow.orders.list_for_bracket(bracket.id)
                entry_price = next((leg.average_price for leg in legs if leg.bracket_leg == "entry"), None)
        if user is None or bracket is None:
            return
        locale = user.language
        with localized(self._services.i18n, locale):
            text = {
                "bracket_entry_filled": lambda: texts.entry_filled(
                    bracket, payload["filled"], payload["done"], entry_price, locale
                ),
                "bracket_armed": lambda: texts.exits_armed(
                    bracket, payload["cover"], payload["layout"], locale
                ),
                "bracket_target_hit": lambda: texts.target_hit(
                    bracket,
                    payload["target"],
                    payload["quantity"],
                    payload.get("price"),
                    payload["result"],
                    payload["open_quantity"],
                    locale,
                ),
                "bracket_stop_moved": lambda: texts.stop_moved(
                    bracket, payload["stop"], payload["open_quantity"], locale
                ),
                "bracket_closed": lambda: texts.closed(bracket, payload["result"], locale),
                "bracket_cancelled": lambda: texts.cancelled(bracket),
                "bracket_fallback": lambda: texts.fallback(bracket, payload["reason"], locale),
            }[event.name]()
        # One priority for every step, so the chat receives them in the order they happened.
        await self._notifier.send(
            user.telegram_id, text, Priority.NORMAL, category=Category.ORDER, user_id=user.id
        )
        logger.info(
            "Bracket %s: queued a message to user %s about %s", bracket.id, user.telegram_id, event.name
        )
