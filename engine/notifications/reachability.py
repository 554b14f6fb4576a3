"""Chats that blocked the bot: kept in the table and mirrored in memory for a cheap check per update."""

from __future__ import annotations

import logging

from engine.common.clock import Clock
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class Reachability:
    """One per process. The in-memory set is read on every update, so it must stay a set lookup."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._unreachable: set[int] = set()

    async def load(self) -> None:
        async with self._uow(read_only=True) as uow:
            self._unreachable = await uow.outbox.unreachable_chats()

    def is_unreachable(self, chat_id: int) -> bool:
        return chat_id in self._unreachable

    def count(self) -> int:
        return len(self._unreachable)

    async def mark_unreachable(self, chat_id: int, reason: str) -> None:
        async with self._uow() as uow:
            await uow.outbox.set_unreachable(chat_id, self._clock.now(), reason[:500])
            await uow.commit()
        self._unreachable.add(chat_id)

    async def seen(self, chat_id: int) -> bool:
        """The user wrote to the bot, so it can reach them again; return whether a mark was cleared."""
        if chat_id not in self._unreachable:
            return False
        async with self._uow() as uow:
            cleared = await uow.outbox.clear_unreachable(chat_id)
            await uow.commit()
        self._unreachable.discard(chat_id)
        if cleared:
            logger.info("Chat %s wrote again; it is reachable", chat_id)
        return cleared
