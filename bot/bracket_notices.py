"""Pushes each step of a bracket to its owner: entry filled, exits armed, target hit, stop moved, the end.

Goes through ``Notifier.send`` (the outbox), in the owner's language. The
order events of a bracket's legs are not pushed on their own (see
``Notifier.on_order_event``): these messages tell the same steps as a trader
thinks of them.

Every step is recorded on the bracket (``reported``) in the transaction that
queues its message, and only forward: a step recorded already is not queued
again. The keeper emits a step while its record is behind, so one a crash cut
off is sent after the restart.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.i18n import localized
from bot.notifier import Notifier
from bot.services import Services
from bot.views import brackets as texts
from engine.brackets.models import STEP_END, STEP_FALLBACK, STEP_STOP_MOVED
from engine.common.crash_points import crash_point
from engine.events import Event
from engine.notifications.models import Category, OutboxMessage, Priority

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
        crash_point("event_before_notified")
        notified = _notified_step(event)
        if event.shown_inline:
            await self._record(event, notified, [])  # the user sees it on the card they pressed
            return
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
        messages = self._notifier.messages(
            user.telegram_id, text, Priority.NORMAL, category=Category.ORDER, user_id=user.id
        )
        if await self._record(event, notified, messages):
            logger.info(
                "Bracket %s: queued a message to user %s about %s", bracket.id, user.telegram_id, event.name
            )

    async def _record(self, event: Event, notified: dict[str, Any], messages: list[OutboxMessage]) -> bool:
        """Queue the messages and raise what the bracket records as notified, in one transaction.

        Returns False, queuing nothing, when the record was already at or beyond
        the step: another pass or process sent it.
        """
        outbox = self._services.outbox
        async with self._services.uow() as uow:
            if not await uow.brackets.record_notified(event.payload["bracket_id"], **notified):
                return False
            await outbox.enqueue_in(uow, messages)
            await uow.commit()
        if messages:
            outbox.notify()
        return True


def _notified_step(event: Event) -> dict[str, Any]:
    """Return the record a step raises (``BracketRepository.record_notified``)."""
    payload = event.payload
    if event.name == "bracket_entry_filled":
        return {"entry": payload["filled"]}
    if event.name == "bracket_target_hit":
        return {"target": (payload["target"], payload["quantity"])}
    if event.name == "bracket_armed":
        return {"cover": payload["cover"]}
    return {"step": ONCE_STEPS[event.name]}


ONCE_STEPS = {
    "bracket_stop_moved": STEP_STOP_MOVED,
    "bracket_fallback": STEP_FALLBACK,
    "bracket_closed": STEP_END,
    "bracket_cancelled": STEP_END,
}
