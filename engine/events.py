"""In-process event bus: the engine publishes, the bot turns events into messages."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened to a user's data. ``name`` is e.g. ``order_filled``."""

    name: str
    user_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    # True when the user is looking at the result already (e.g. the confirmation
    # message is edited in place), so pushing a second message would be noise.
    shown_inline: bool = False


Handler = Callable[[Event], Awaitable[None]]


class EventBus:
    """Delivers each event to every handler subscribed to its name (or to ``*``).

    A failing handler is logged and does not stop the others: an event is a
    notification, and the state change it reports is already committed.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> None:
        self._handlers[name].append(handler)

    async def publish(self, event: Event) -> None:
        for handler in [*self._handlers.get(event.name, ()), *self._handlers.get("*", ())]:
            try:
                await handler(event)
            except Exception:
                logger.exception(
                    "Event handler %r failed for %s of user %s", handler, event.name, event.user_id
                )
