"""Repository port for brackets; their legs are read through the order repository."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.brackets.models import Bracket, BracketStatus


class BracketRepository(Protocol):
    async def add(self, bracket: Bracket) -> None: ...

    async def update(self, bracket: Bracket) -> None:
        """Store the plan and state; leaves what was reported to the user as stored."""
        ...

    async def record_notified(
        self,
        bracket_id: uuid.UUID,
        *,
        entry: Decimal | None = None,
        target: tuple[int, Decimal] | None = None,
        cover: Decimal | None = None,
        step: str | None = None,
    ) -> bool:
        """Raise what the user was notified of (only forward); return False when nothing rose."""
        ...

    async def list_ended_since(self, since: datetime) -> list[Bracket]:
        """Return the brackets that ended (CLOSED or CANCELLED) at or after ``since``, oldest first."""
        ...

    async def lower_cover(self, bracket_id: uuid.UUID, cover: Decimal) -> None:
        """Lower the cover last notified to ``cover`` when it is below it."""
        ...

    async def get(self, bracket_id: uuid.UUID) -> Bracket | None: ...

    async def get_for_user(self, user_id: uuid.UUID, bracket_id: uuid.UUID) -> Bracket | None: ...

    async def list_for_user(
        self, user_id: uuid.UUID, statuses: Iterable[BracketStatus] | None = None, limit: int = 20
    ) -> list[Bracket]:
        """Return the user's brackets, newest first."""
        ...

    async def list_active(self) -> list[Bracket]:
        """Return every bracket that is not CLOSED or CANCELLED, oldest first."""
        ...
