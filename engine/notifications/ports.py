"""Ports of the outbox: its table, and the messenger that delivers a message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from engine.notifications.models import BatchProgress, OutboxMessage, OutboxStats


class OutboxRepository(Protocol):
    async def add(self, messages: Sequence[OutboxMessage]) -> None:
        """Store the messages as PENDING (or as given) and set their ids."""
        ...

    async def load_pending(self, *, after_id: int = 0) -> list[tuple[OutboxMessage, bool]]:
        """Return PENDING messages with an id above ``after_id``, oldest first.

        Each comes with whether its user may receive it: False when the
        message needs an ACTIVE user and the user is not ACTIVE any more.
        """
        ...

    async def mark_sending(self, message_ids: Sequence[int], at: datetime) -> None: ...

    async def mark_sent(self, message_ids: Sequence[int], at: datetime) -> None: ...

    async def mark_retry(self, message_id: int, *, attempts: int, not_before: datetime, error: str) -> None:
        """Put the message back to PENDING for another attempt."""
        ...

    async def mark_final(self, message_id: int, status: str, error: str, at: datetime) -> None:
        """End the message as FAILED or SKIPPED with the reason."""
        ...

    async def skip_chat(self, chat_id: int, error: str, at: datetime) -> int:
        """End every PENDING message of the chat as SKIPPED; return how many."""
        ...

    async def reset_in_flight(self) -> int:
        """Put every SENDING message back to PENDING (after a restart); return how many."""
        ...

    async def set_unreachable(self, chat_id: int, at: datetime, reason: str) -> None: ...

    async def clear_unreachable(self, chat_id: int) -> bool:
        """Forget that the chat blocked the bot; return whether it was marked."""
        ...

    async def unreachable_chats(self) -> set[int]: ...

    async def stats(self, now: datetime) -> OutboxStats: ...

    async def new_batch(self, actor_chat_id: int, total: int, at: datetime) -> int: ...

    async def unfinished_batches(self) -> list[BatchProgress]: ...

    async def finish_batch(self, batch_id: int, at: datetime) -> None: ...


class DeliveryError(Exception):
    """Base of the outcomes of a failed send, each with its own retry meaning."""


class DeliveryRetryAfter(DeliveryError):
    """Flood control: wait ``seconds`` before sending to this chat (or to anyone) again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class DeliveryBlocked(DeliveryError):
    """The user blocked the bot or deleted their account: the chat is unreachable."""


class DeliveryRejected(DeliveryError):
    """The message itself was refused (bad request): sending it again cannot help."""


class DeliveryTemporaryError(DeliveryError):
    """Network failure, timeout or server error: a later attempt may succeed."""


class MessageSender(Protocol):
    async def send(self, chat_id: int, text: str) -> None:
        """Deliver one message or raise a DeliveryError subclass."""
        ...
