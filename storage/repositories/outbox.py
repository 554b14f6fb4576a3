"""The outbox table and its companions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.notifications.models import (
    BatchProgress,
    Category,
    DeliveryStatus,
    OutboxMessage,
    OutboxStats,
    Priority,
)
from engine.users.models import UserStatus
from storage.models import BroadcastRow, OutboxRow, UnreachableChatRow, UserRow

_PENDING = DeliveryStatus.PENDING.value
_SENDING = DeliveryStatus.SENDING.value
_SENT = DeliveryStatus.SENT.value
_FAILED = DeliveryStatus.FAILED.value
_SKIPPED = DeliveryStatus.SKIPPED.value


class SqlOutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, messages: Sequence[OutboxMessage]) -> None:
        if not messages:
            return
        # One batched INSERT ... RETURNING; ids come back in the order of the messages.
        statement = insert(OutboxRow).returning(OutboxRow.id, sort_by_parameter_order=True)
        result = await self._session.execute(statement, [_row_values(message) for message in messages])
        for message, message_id in zip(messages, result.scalars().all(), strict=True):
            message.id = message_id

    async def load_pending(self, *, after_id: int = 0) -> list[tuple[OutboxMessage, bool]]:
        statement = (
            select(OutboxRow, UserRow.status)
            .outerjoin(UserRow, UserRow.id == OutboxRow.user_id)
            .where(OutboxRow.status == _PENDING, OutboxRow.id > after_id)
            .order_by(OutboxRow.id)
        )
        rows = await self._session.execute(statement)
        loaded = []
        for row, user_status in rows.all():
            active = user_status is None or user_status == UserStatus.ACTIVE.value
            loaded.append((_message_from_row(row), active))
        return loaded

    async def mark_sending(self, message_ids: Sequence[int], at: datetime) -> None:
        if message_ids:
            await self._session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(message_ids)).values(status=_SENDING, claimed_at=at)
            )

    async def mark_sent(self, message_ids: Sequence[int], at: datetime) -> None:
        if message_ids:
            await self._session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(message_ids))
                .values(status=_SENT, finished_at=at, error=None)
            )

    async def mark_retry(self, message_id: int, *, attempts: int, not_before: datetime, error: str) -> None:
        await self._set(message_id, status=_PENDING, attempts=attempts, not_before=not_before, error=error)

    async def mark_final(self, message_id: int, status: str, error: str, at: datetime) -> None:
        await self._set(message_id, status=status, error=error, finished_at=at)

    async def skip_chat(self, chat_id: int, error: str, at: datetime) -> int:
        result = await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.chat_id == chat_id, OutboxRow.status == _PENDING)
            .values(status=_SKIPPED, error=error, finished_at=at)
        )
        return result.rowcount or 0

    async def reset_in_flight(self) -> int:
        result = await self._session.execute(
            update(OutboxRow).where(OutboxRow.status == _SENDING).values(status=_PENDING)
        )
        return result.rowcount or 0

    async def set_unreachable(self, chat_id: int, at: datetime, reason: str) -> None:
        row = await self._session.get(UnreachableChatRow, chat_id)
        if row is None:
            self._session.add(UnreachableChatRow(chat_id=chat_id, since=at, reason=reason))
            await self._session.flush()

    async def clear_unreachable(self, chat_id: int) -> bool:
        result = await self._session.execute(
            delete(UnreachableChatRow).where(UnreachableChatRow.chat_id == chat_id)
        )
        return bool(result.rowcount)

    async def unreachable_chats(self) -> set[int]:
        return set(await self._session.scalars(select(UnreachableChatRow.chat_id)))

    async def stats(self, now: datetime) -> OutboxStats:
        counts = dict(
            (
                await self._session.execute(
                    select(OutboxRow.status, func.count())
                    .where(OutboxRow.status.in_([_PENDING, _SENDING]))
                    .group_by(OutboxRow.status)
                )
            ).all()
        )
        oldest = await self._session.scalar(
            select(func.min(OutboxRow.created_at)).where(OutboxRow.status == _PENDING)
        )
        day_ago = now - timedelta(days=1)
        failures = (
            await self._session.execute(
                select(OutboxRow.error, func.count())
                .where(OutboxRow.status == _FAILED, OutboxRow.finished_at >= day_ago)
                .group_by(OutboxRow.error)
                .order_by(func.count().desc())
                .limit(3)
            )
        ).all()
        return OutboxStats(
            pending=counts.get(_PENDING, 0),
            sending=counts.get(_SENDING, 0),
            oldest_pending_at=oldest,
            sent_last_minute=await self._count_finished(_SENT, now - timedelta(minutes=1)),
            sent_last_hour=await self._count_finished(_SENT, now - timedelta(hours=1)),
            failed_last_day=await self._count_finished(_FAILED, day_ago),
            skipped_last_day=await self._count_finished(_SKIPPED, day_ago),
            unreachable_chats=await self._session.scalar(select(func.count()).select_from(UnreachableChatRow))
            or 0,
            top_failures=[(error or "-", count) for error, count in failures],
        )

    async def new_batch(self, actor_chat_id: int, total: int, at: datetime) -> int:
        result = await self._session.execute(
            insert(BroadcastRow).values(actor_chat_id=actor_chat_id, total=total, created_at=at)
        )
        return int(result.inserted_primary_key[0])

    async def unfinished_batches(self) -> list[BatchProgress]:
        batches = list(
            await self._session.scalars(select(BroadcastRow).where(BroadcastRow.finished_at.is_(None)))
        )
        progress = []
        for batch in batches:
            counts = dict(
                (
                    await self._session.execute(
                        select(OutboxRow.status, func.count())
                        .where(OutboxRow.batch_id == batch.id)
                        .group_by(OutboxRow.status)
                    )
                ).all()
            )
            progress.append(
                BatchProgress(
                    batch_id=batch.id,
                    actor_chat_id=batch.actor_chat_id,
                    total=batch.total,
                    sent=counts.get(_SENT, 0),
                    failed=counts.get(_FAILED, 0),
                    skipped=counts.get(_SKIPPED, 0),
                    created_at=batch.created_at,
                    finished_at=batch.finished_at,
                )
            )
        return progress

    async def finish_batch(self, batch_id: int, at: datetime) -> None:
        await self._session.execute(
            update(BroadcastRow).where(BroadcastRow.id == batch_id).values(finished_at=at)
        )

    async def _count_finished(self, status: str, since: datetime) -> int:
        return (
            await self._session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status == status, OutboxRow.finished_at >= since)
            )
            or 0
        )

    async def _set(self, message_id: int, **values: object) -> None:
        await self._session.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(**values))


def _row_values(message: OutboxMessage) -> dict[str, object]:
    return {
        "chat_id": message.chat_id,
        "user_id": message.user_id,
        "category": message.category.value,
        "priority": int(message.priority),
        "text": message.text,
        "status": message.status.value,
        "attempts": message.attempts,
        "error": message.error,
        "batch_id": message.batch_id,
        "created_at": message.created_at,
        "not_before": message.not_before,
        "finished_at": message.sent_at,
        "claimed_at": None,
    }


def _message_from_row(row: OutboxRow) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        chat_id=row.chat_id,
        text=row.text,
        created_at=row.created_at,
        not_before=row.not_before,
        priority=Priority(row.priority),
        category=Category(row.category),
        user_id=row.user_id,
        batch_id=row.batch_id,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        error=row.error,
        sent_at=row.finished_at,
    )
