"""Admin broadcasts through the outbox, with progress reports to the admin who sent one."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.formatting import esc
from bot.i18n import localized
from engine.common.clock import Clock
from engine.notifications.models import BatchProgress, Category, Priority
from engine.notifications.outbox import Outbox
from engine.notifications.reachability import Reachability
from engine.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BroadcastStarted:
    batch_id: int
    recipients: int
    unreachable: int


class Broadcaster:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        outbox: Outbox,
        reachability: Reachability,
        i18n: I18n,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._outbox = outbox
        self._reachability = reachability
        self._i18n = i18n
        self._clock = clock
        self._reported: dict[int, tuple[int, int, int]] = {}  # batch -> (sent, failed, skipped) last reported

    async def start(self, actor_chat_id: int, text: str) -> BroadcastStarted:
        """Queue ``text`` for every ACTIVE user the bot can reach, each with a header in their language."""
        async with self._uow(read_only=True) as uow:
            users = [user for user, _accounts in await uow.risk.active_users_with_accounts()]
        recipients = [user for user in users if not self._reachability.is_unreachable(user.telegram_id)]

        messages = []
        for user in recipients:
            with localized(self._i18n, user.language):
                body = _("📢 <b>Announcement</b>") + "\n" + esc(text)
            messages.append(
                self._outbox.message(
                    user.telegram_id,
                    body,
                    priority=Priority.BULK,
                    category=Category.BROADCAST,
                    user_id=user.id,
                )
            )
        async with self._uow() as uow:
            batch_id = await uow.outbox.new_batch(actor_chat_id, len(messages), self._clock.now())
            for message in messages:
                message.batch_id = batch_id
            await self._outbox.enqueue_in(uow, messages)
            await uow.commit()
        self._outbox.notify()
        logger.info("Admin %s started broadcast %s to %d users", actor_chat_id, batch_id, len(messages))
        return BroadcastStarted(batch_id, len(messages), len(users) - len(recipients))

    async def report_progress(self) -> int:
        """Report each broadcast's progress (when it moved) and its end to its admin; return how many."""
        async with self._uow(read_only=True) as uow:
            batches = await uow.outbox.unfinished_batches()
            languages = {
                batch.actor_chat_id: await self._language(uow, batch.actor_chat_id) for batch in batches
            }

        messages, finished = [], []
        for batch in batches:
            counts = (batch.sent, batch.failed, batch.skipped)
            if batch.pending > 0 and self._reported.get(batch.batch_id) == counts:
                continue  # nothing moved since the last report
            self._reported[batch.batch_id] = counts
            with localized(self._i18n, languages[batch.actor_chat_id]):
                text = progress_text(batch)
            messages.append(self._outbox.message(batch.actor_chat_id, text, category=Category.NOTICE))
            if batch.pending <= 0:
                finished.append(batch.batch_id)

        if not messages:
            return 0
        async with self._uow() as uow:
            for batch_id in finished:
                await uow.outbox.finish_batch(batch_id, self._clock.now())
            await self._outbox.enqueue_in(uow, messages)
            await uow.commit()
        self._outbox.notify()
        for batch_id in finished:
            self._reported.pop(batch_id, None)
            logger.info("Broadcast %s finished", batch_id)
        return len(messages)

    async def _language(self, uow: UnitOfWork, chat_id: int) -> str:
        user = await uow.users.get_by_telegram_id(chat_id)
        return user.language if user is not None else self._i18n.default_locale


def progress_text(batch: BatchProgress) -> str:
    if batch.pending <= 0:
        return _(
            "📢 Broadcast #{batch} finished: {sent} sent, {failed} failed, {skipped} skipped of {total}."
        ).format(
            batch=batch.batch_id,
            sent=batch.sent,
            failed=batch.failed,
            skipped=batch.skipped,
            total=batch.total,
        )
    return _("📢 Broadcast #{batch}: {sent} of {total} sent, {failed} failed, {pending} waiting.").format(
        batch=batch.batch_id, sent=batch.sent, total=batch.total, failed=batch.failed, pending=batch.pending
    )
