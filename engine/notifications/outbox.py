"""Queuing messages: every push is written to the outbox table first, then delivered by one task."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from engine.common.clock import Clock
from engine.notifications.models import Category, OutboxMessage, OutboxStats, Priority
from engine.uow import UnitOfWork, UnitOfWorkFactory


class Outbox:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    def on_queued(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each commit that queued messages (the dispatcher's wake-up)."""
        self._listeners.append(listener)

    def message(
        self,
        chat_id: int,
        text: str,
        *,
        priority: Priority = Priority.NORMAL,
        category: Category = Category.NOTICE,
        user_id: uuid.UUID | None = None,
        not_before: datetime | None = None,
        batch_id: int | None = None,
    ) -> OutboxMessage:
        now = self._clock.now()
        return OutboxMessage(
            chat_id=chat_id,
            text=text,
            created_at=now,
            not_before=not_before or now,
            priority=priority,
            category=category,
            user_id=user_id,
            batch_id=batch_id,
        )

    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        """Store the messages in their own transaction and wake the dispatcher."""
        if not messages:
            return
        async with self._uow() as uow:
            await uow.outbox.add(messages)
            await uow.commit()
        self.notify()

    async def enqueue_in(self, uow: UnitOfWork, messages: Sequence[OutboxMessage]) -> None:
        """Store the messages in the caller's transaction; call ``notify`` after its commit."""
        if messages:
            await uow.outbox.add(messages)

    async def stats(self) -> OutboxStats:
        async with self._uow(read_only=True) as uow:
            return await uow.outbox.stats(self._clock.now())

    def notify(self) -> None:
        for listener in self._listeners:
            listener()
