"""The one task that delivers the outbox, within Telegram's flood limits.

Delivery guarantee: a message is marked SENDING in the table before it is
handed to the messenger, and SENT in the next write after its answer (the
next claim, at most one send interval later). After a crash, ``start`` puts
SENDING messages back to PENDING, so they are sent again. Only a message in
flight at the crash, one handed to Telegram whose answer was not yet written,
may arrive twice; there is at most one per chat (a chat gets its next message
only after the previous answer) and at most ``max_in_flight`` in all. Every
other message is delivered once, or ends FAILED or SKIPPED with its reason.

Outcomes of a send:
- RetryAfter pauses that chat for the time Telegram asks; when
  ``global_flood_chats`` different chats are told to wait within one second,
  the flood is taken as global and all delivery pauses. The message keeps its place.
- Blocked marks the chat unreachable and skips its queued messages; the mark
  is cleared when the user writes to the bot again.
- Rejected (400 and the like) ends the message as FAILED with the reason.
- Temporary errors retry with exponential backoff, up to ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from engine.common.clock import Clock
from engine.notifications.models import DeliveryStatus
from engine.notifications.ports import (
    DeliveryBlocked,
    DeliveryRejected,
    DeliveryRetryAfter,
    DeliveryTemporaryError,
    MessageSender,
)
from engine.notifications.reachability import Reachability
from engine.notifications.schedule import DEFAULT_BURST, DeliverySchedule, QueuedMessage
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

USER_NOT_ACTIVE = "user is not active"
CHAT_UNREACHABLE = "chat is unreachable: the bot was blocked"
FLOOD_WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class DeliveryConfig:
    rate_per_second: float = 25.0
    chat_interval_seconds: float = 1.0
    max_in_flight: int = 25
    max_attempts: int = 12
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    global_flood_chats: int = 3
    burst: int = DEFAULT_BURST  # messages that may start at once after the loop was held up
    refill_seconds: float = 1.0  # how often the table is read for messages queued by another process
    resync_seconds: float = 30.0  # how often every PENDING id is read again, in case one was missed


class OutboxDispatcher:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        sender: MessageSender,
        reachability: Reachability,
        clock: Clock,
        config: DeliveryConfig | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow_factory
        self._sender = sender
        self._reachability = reachability
        self._clock = clock
        self.config = config or DeliveryConfig()
        self._monotonic = monotonic
        self._schedule = DeliverySchedule(
            self.config.rate_per_second, self.config.chat_interval_seconds, self.config.burst
        )
        self._wakeup = asyncio.Event()
        self._watermark = 0
        self._floods: deque[tuple[float, int]] = deque()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._answered: list[int] = []  # sent messages whose SENT mark is not written yet
        self._started = False
        self.sent_count = 0

    def wake(self) -> None:
        """Tell the loop that new messages were queued."""
        self._wakeup.set()

    async def start(self) -> None:
        """Recover after a restart: SENDING messages become PENDING again."""
        if self._started:
            return
        async with self._uow() as uow:
            recovered = await uow.outbox.reset_in_flight()
            await uow.commit()
        await self._reachability.load()
        if recovered:
            logger.warning(
                "%d outbox messages were in flight at the last stop; sending them again", recovered
            )
        self._started = True

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then wait until the sends in flight are recorded."""
        await self.start()
        logger.info(
            "Outbox delivery started: %.1f messages/s, one per %.2f s per chat",
            self.config.rate_per_second,
            self.config.chat_interval_seconds,
        )
        last_refill = last_resync = float("-inf")
        try:
            while not stop.is_set():
                now = self._monotonic()
                if self._wakeup.is_set() or now - last_refill >= self.config.refill_seconds:
                    self._wakeup.clear()
                    full = now - last_resync >= self.config.resync_seconds
                    await self._refill(self._schedule, full=full)
                    last_refill = now
                    last_resync = now if full else last_resync
                wait = await self._send_next()
                if wait is None or wait > 0:
                    timeout = min(
                        wait if wait is not None else self.config.refill_seconds, self.config.refill_seconds
                    )
                    await self._sleep(stop, timeout)
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            await self._write_claims([])
            logger.info("Outbox delivery stopped; %d messages sent", self.sent_count)

    async def drain(self) -> int:
        """Send every message that is due, one after another, ignoring the rates; return how many were sent.

        For the terminal chat and dispatcher-level tests, where no delivery task runs.
        """
        await self.start()
        schedule = DeliverySchedule(rate_per_second=1e9, chat_interval=0.0)
        await self._refill(schedule, full=True)
        sent_before = self.sent_count
        while True:
            now = self._monotonic()
            message, _wait = schedule.next(now)
            if message is None:
                await self._write_claims([])
                return self.sent_count - sent_before
            schedule.start(message, now)
            await self._write_claims([message])
            await self._deliver(message, schedule)

    # -- loading -------------------------------------------------------------------

    async def _refill(self, schedule: DeliverySchedule, *, full: bool) -> None:
        async with self._uow(read_only=True) as uow:
            rows = await uow.outbox.load_pending(after_id=0 if full else self._watermark)
        now, now_utc = self._monotonic(), self._clock.now()
        skipped: list[tuple[int, str]] = []
        for message, user_active in rows:
            assert message.id is not None
            self._watermark = max(self._watermark, message.id)
            if message.id in schedule:
                continue
            if self._reachability.is_unreachable(message.chat_id):
                skipped.append((message.id, CHAT_UNREACHABLE))
                continue
            if not user_active and message.category.needs_active_user:
                skipped.append((message.id, USER_NOT_ACTIVE))
                continue
            delay = (message.not_before - now_utc).total_seconds()
            queued = QueuedMessage(
                id=message.id,
                chat_id=message.chat_id,
                priority=int(message.priority),
                text=message.text,
                not_before=now + max(delay, 0.0),
                attempts=message.attempts,
            )
            schedule.add(queued, now)
        if skipped:
            await self._skip(skipped)

    async def _skip(self, skipped: list[tuple[int, str]]) -> None:
        async with self._uow() as uow:
            for message_id, reason in skipped:
                await uow.outbox.mark_final(
                    message_id, DeliveryStatus.SKIPPED.value, reason, self._clock.now()
                )
            await uow.commit()
        logger.info("Skipped %d outbox messages (unreachable chat or inactive user)", len(skipped))

    # -- one send ------------------------------------------------------------------

    async def _send_next(self) -> float | None:
        """Start every message whose turn has come; return how long to wait when none has."""
        if len(self._in_flight) >= self.config.max_in_flight:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            return 0.0
        now = self._monotonic()
        batch: list[QueuedMessage] = []
        wait: float | None = 0.0
        while len(self._in_flight) + len(batch) < self.config.max_in_flight:
            message, wait = self._schedule.next(now)
            if message is None:
                break
            self._schedule.start(message, now)
            batch.append(message)
        if not batch:
            if self._answered:
                await self._write_claims([])
            return wait
        await self._write_claims(batch)
        for message in batch:
            task = asyncio.create_task(self._deliver(message, self._schedule))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return 0.0

    async def _write_claims(self, batch: list[QueuedMessage]) -> None:
        """Mark the batch SENDING and the messages answered since the last write SENT, in one transaction."""
        answered, self._answered = self._answered, []
        if not batch and not answered:
            return
        now = self._clock.now()
        try:
            async with self._uow() as uow:
                await uow.outbox.mark_sent(answered, now)
                await uow.outbox.mark_sending([message.id for message in batch], now)
                await uow.commit()
        except BaseException:
            self._answered = answered + self._answered
            raise

    async def _deliver(self, message: QueuedMessage, schedule: DeliverySchedule) -> None:
        try:
            await self._sender.send(message.chat_id, message.text)
        except DeliveryRetryAfter as flood:
            await self._on_flood(message, schedule, flood.seconds)
        except DeliveryBlocked as blocked:
            await self._on_blocked(message, schedule, str(blocked) or "blocked")
        except DeliveryRejected as rejected:
            await self._finish(message, schedule, DeliveryStatus.FAILED, str(rejected) or "rejected")
        except DeliveryTemporaryError as error:
            await self._on_temporary(message, schedule, str(error) or type(error).__name__)
        except Exception as error:  # a bug in one send must not stop the delivery of the rest
            logger.exception("Outbox message %s to chat %s failed unexpectedly", message.id, message.chat_id)
            await self._on_temporary(message, schedule, f"{type(error).__name__}: {error}")
        else:
            await self._finish(message, schedule, DeliveryStatus.SENT, "")

    # -- outcomes ------------------------------------------------------------------

    async def _finish(
        self, message: QueuedMessage, schedule: DeliverySchedule, status: DeliveryStatus, reason: str
    ) -> None:
        if status is DeliveryStatus.SENT:
            self._answered.append(message.id)  # written with the next claim
            self.sent_count += 1
        else:
            logger.warning("Outbox message %s to chat %s %s: %s", message.id, message.chat_id, status, reason)
            async with self._uow() as uow:
                await uow.outbox.mark_final(message.id, status.value, reason[:500], self._clock.now())
                await uow.commit()
        schedule.finish(message, self._monotonic())

    async def _on_flood(self, message: QueuedMessage, schedule: DeliverySchedule, seconds: float) -> None:
        logger.warning(
            "Telegram asked to wait %.0f s before writing to chat %s (message %s)",
            seconds,
            message.chat_id,
            message.id,
        )
        await self._requeue(
            message, attempts=message.attempts, delay=seconds, error=f"429: retry after {seconds:g} s"
        )
        now = self._monotonic()
        until = now + seconds
        schedule.finish(message, now, retry_at=until)
        schedule.pause_chat(message.chat_id, until, now)

        self._floods.append((now, message.chat_id))
        while self._floods and self._floods[0][0] < now - FLOOD_WINDOW_SECONDS:
            self._floods.popleft()
        chats = {chat for _at, chat in self._floods}
        if len(chats) >= self.config.global_flood_chats:
            logger.warning(
                "Flood control on %d chats within 1 s: pausing all delivery for %.0f s", len(chats), seconds
            )
            schedule.pause_all(until)

    async def _on_blocked(self, message: QueuedMessage, schedule: DeliverySchedule, reason: str) -> None:
        chat = message.chat_id
        logger.info("Chat %s blocked the bot; marking it unreachable (message %s)", chat, message.id)
        now_utc = self._clock.now()
        async with self._uow() as uow:
            await uow.outbox.mark_final(message.id, DeliveryStatus.FAILED.value, reason[:500], now_utc)
            skipped = await uow.outbox.skip_chat(chat, CHAT_UNREACHABLE, now_utc)
            await uow.commit()
        await self._reachability.mark_unreachable(chat, reason)
        schedule.finish(message, self._monotonic())
        schedule.drop_chat(chat)
        if skipped:
            logger.info("Skipped %d queued messages of unreachable chat %s", skipped, chat)

    async def _on_temporary(self, message: QueuedMessage, schedule: DeliverySchedule, reason: str) -> None:
        attempts = message.attempts + 1
        if attempts >= self.config.max_attempts:
            await self._finish(
                message, schedule, DeliveryStatus.FAILED, f"gave up after {attempts} attempts: {reason}"
            )
            return
        delay = min(self.config.retry_base_seconds * 2 ** (attempts - 1), self.config.retry_max_seconds)
        logger.warning(
            "Outbox message %s to chat %s failed (%s); attempt %d of %d in %.1f s",
            message.id,
            message.chat_id,
            reason,
            attempts,
            self.config.max_attempts,
            delay,
        )
        await self._requeue(message, attempts=attempts, delay=delay, error=reason)
        message.attempts = attempts
        now = self._monotonic()
        schedule.finish(message, now, retry_at=now + delay)

    async def _requeue(self, message: QueuedMessage, *, attempts: int, delay: float, error: str) -> None:
        not_before = self._clock.now() + timedelta(seconds=delay)
        async with self._uow() as uow:
            await uow.outbox.mark_retry(
                message.id, attempts=attempts, not_before=not_before, error=error[:500]
            )
            await uow.commit()

    async def _sleep(self, stop: asyncio.Event, timeout: float) -> None:
        waits = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
        waits.extend(self._in_flight)
        try:
            await asyncio.wait(waits, timeout=max(timeout, 0.0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits[:2]:
                waiter.cancel()
