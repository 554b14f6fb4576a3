"""Which outbox message goes next: priorities, per-chat order and the two send rates.

Times are monotonic seconds. A chat's messages leave one at a time in the order
(priority, then queuing order); a chat whose message is in flight waits for
the answer, then for ``chat_interval`` more, so two messages to one chat always
arrive at least ``chat_interval`` apart. Across chats the next message is the
highest-priority ready head, and starts take tokens from a bucket that fills
at ``rate`` a second and holds ``burst`` tokens: over any time ``t`` at most
``burst + rate * t`` messages start. So a delivery loop that was held up (a
slow database write, another task hogging the event loop) catches up on the
time it lost instead of losing it, and the long-run rate stays ``rate``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

# Telegram allows about 30 messages a second to different chats; at the default
# 25 a second, a burst of 5 keeps every second within that.
DEFAULT_BURST = 5


@dataclass
class QueuedMessage:
    id: int
    chat_id: int
    priority: int
    text: str
    not_before: float = 0.0  # monotonic time before which it is not sent (backoff, quiet hours)
    attempts: int = 0


class TokenBucket:
    """Start tokens: ``rate`` a second, at most ``capacity`` saved up."""

    def __init__(self, rate: float, capacity: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate_per_second must be positive, got {rate}")
        if capacity < 1:
            raise ValueError(f"burst must be at least 1, got {capacity}")
        self.rate = rate
        self.capacity = capacity
        self._tokens = 1.0  # a fresh start sends one message at once, not a burst
        self._updated: float | None = None

    def ready_at(self, now: float) -> float:
        """When a token is there to take (``now`` if one is there already)."""
        tokens = self._level(now)
        return now if tokens >= 1.0 else now + (1.0 - tokens) / self.rate

    def take(self, now: float) -> None:
        self._tokens = self._level(now) - 1.0
        self._updated = now

    def _level(self, now: float) -> float:
        if self._updated is None:
            return self._tokens
        return min(self.capacity, self._tokens + (now - self._updated) * self.rate)


class DeliverySchedule:
    def __init__(self, rate_per_second: float, chat_interval: float, burst: float = DEFAULT_BURST) -> None:
        self._bucket = TokenBucket(rate_per_second, burst)
        self.chat_interval = chat_interval
        self._messages: dict[int, QueuedMessage] = {}
        self._queues: dict[int, list[tuple[int, int]]] = {}  # chat -> heap of (-priority, id)
        self._busy: set[int] = set()
        self._chat_free_at: dict[int, float] = {}
        self._version: dict[int, int] = {}
        # Heaps of chats whose head can go now (by priority) or later (by time);
        # an entry whose version is old is skipped when it comes up.
        self._ready: list[tuple[int, int, int, int]] = []
        self._waiting: list[tuple[float, int, int]] = []
        self._paused_until = 0.0

    def __len__(self) -> int:
        return len(self._messages)

    def __contains__(self, message_id: int) -> bool:
        return message_id in self._messages

    def chats(self) -> set[int]:
        return set(self._queues) | self._busy

    def add(self, message: QueuedMessage, now: float) -> None:
        if message.id in self._messages:
            return
        self._messages[message.id] = message
        heapq.heappush(self._queues.setdefault(message.chat_id, []), (-message.priority, message.id))
        self._reindex(message.chat_id, now)

    def next(self, now: float) -> tuple[QueuedMessage | None, float | None]:
        """Return the message to send now, or None and the seconds until one may be (None: none queued)."""
        self._promote(now)
        while self._ready and self._is_stale(self._ready[0][3], self._ready[0][2]):
            heapq.heappop(self._ready)
        if not self._ready:
            return None, self._time_to_next_waiting(now)

        gate = max(self._bucket.ready_at(now), self._paused_until)
        if gate > now:
            return None, gate - now
        _priority, message_id, _chat, _version = self._ready[0]
        return self._messages[message_id], 0.0

    def start(self, message: QueuedMessage, now: float) -> None:
        """Take the message off its chat's queue: the chat is busy until ``finish``."""
        queue = self._queues[message.chat_id]
        if queue[0][1] != message.id:
            raise ValueError(f"message {message.id} is not the head of chat {message.chat_id}")
        heapq.heappop(queue)
        if not queue:
            del self._queues[message.chat_id]
        self._busy.add(message.chat_id)
        self._bump(message.chat_id)
        self._bucket.take(now)

    def finish(self, message: QueuedMessage, now: float, *, retry_at: float | None = None) -> None:
        """Record the answer: the chat may send after ``chat_interval``; ``retry_at`` requeues the message."""
        chat = message.chat_id
        self._busy.discard(chat)
        self._chat_free_at[chat] = max(self._chat_free_at.get(chat, 0.0), now + self.chat_interval)
        if retry_at is None:
            del self._messages[message.id]
        else:
            message.not_before = retry_at
            heapq.heappush(self._queues.setdefault(chat, []), (-message.priority, message.id))
        self._reindex(chat, now)

    def pause_chat(self, chat_id: int, until: float, now: float) -> None:
        self._chat_free_at[chat_id] = max(self._chat_free_at.get(chat_id, 0.0), until)
        self._reindex(chat_id, now)

    def pause_all(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)

    def drop_chat(self, chat_id: int) -> list[int]:
        """Forget every queued message of the chat and return their ids."""
        queue = self._queues.pop(chat_id, [])
        ids = [message_id for _priority, message_id in queue]
        for message_id in ids:
            del self._messages[message_id]
        self._bump(chat_id)
        return ids

    # -- internals -------------------------------------------------------------

    def _bump(self, chat: int) -> int:
        version = self._version.get(chat, 0) + 1
        self._version[chat] = version
        return version

    def _is_stale(self, version: int, chat: int) -> bool:
        return self._version.get(chat) != version

    def _reindex(self, chat: int, now: float) -> None:
        version = self._bump(chat)
        queue = self._queues.get(chat)
        if chat in self._busy:
            return
        if not queue:
            if self._chat_free_at.get(chat, 0.0) <= now:
                self._chat_free_at.pop(chat, None)  # an idle chat needs no record
            return
        negative_priority, message_id = queue[0]
        ready_at = max(self._chat_free_at.get(chat, 0.0), self._messages[message_id].not_before)
        if ready_at <= now:
            heapq.heappush(self._ready, (negative_priority, message_id, chat, version))
        else:
            heapq.heappush(self._waiting, (ready_at, chat, version))

    def _promote(self, now: float) -> None:
        while self._waiting and self._waiting[0][0] <= now:
            _ready_at, chat, version = heapq.heappop(self._waiting)
            if not self._is_stale(version, chat):
                self._reindex(chat, now)

    def _time_to_next_waiting(self, now: float) -> float | None:
        while self._waiting and self._is_stale(self._waiting[0][2], self._waiting[0][1]):
            heapq.heappop(self._waiting)
        if not self._waiting:
            return None
        return max(self._waiting[0][0] - now, 0.0)
