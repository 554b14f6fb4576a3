"""Messages waiting in the outbox, and what their delivery may end in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class Priority(IntEnum):
    """Higher goes first, across chats and within one chat."""

    BULK = 0  # broadcasts and daily reports
    NORMAL = 5  # order events, notices, alerts below CRITICAL
    URGENT = 10  # CRITICAL risk alerts


class Category(StrEnum):
    NOTICE = "notice"  # direct pushes: a key stopped working, an order outcome the card could not show
    ACCOUNT = "account"  # the account itself changed: suspended, active again, PIN reset by an admin
    ORDER = "order"
    ALERT = "alert"
    REPORT = "report"
    BROADCAST = "broadcast"

    @property
    def needs_active_user(self) -> bool:
        """Only notices about the account itself reach a user who is no longer ACTIVE.

        The check runs at delivery, so a push queued before a suspension is
        skipped too. Messages without a user id (to admins) always go out.
        """
        return self is not Category.ACCOUNT


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"  # handed to Telegram; the answer is not recorded yet
    SENT = "SENT"
    FAILED = "FAILED"  # can never be sent; ``error`` says why
    SKIPPED = "SKIPPED"  # not sent on purpose (user unreachable or no longer active)


@dataclass
class OutboxMessage:
    """One message for one chat, rendered in the recipient's language when it was queued."""

    chat_id: int
    text: str
    created_at: datetime
    not_before: datetime
    priority: Priority = Priority.NORMAL
    category: Category = Category.NOTICE
    user_id: uuid.UUID | None = None
    batch_id: int | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    error: str | None = None
    sent_at: datetime | None = None
    id: int | None = None  # assigned by the outbox table; gives the order of queuing


@dataclass(frozen=True)
class OutboxStats:
    """Backlog and delivery figures for /stats."""

    pending: int
    sending: int
    oldest_pending_at: datetime | None
    sent_last_minute: int
    sent_last_hour: int
    failed_last_day: int
    skipped_last_day: int
    unreachable_chats: int
    top_failures: list[tuple[str, int]]


@dataclass(frozen=True)
class BatchProgress:
    """How far one broadcast has got."""

    batch_id: int
    actor_chat_id: int
    total: int
    sent: int
    failed: int
    skipped: int
    created_at: datetime
    finished_at: datetime | None

    @property
    def pending(self) -> int:
        return self.total - self.sent - self.failed - self.skipped
