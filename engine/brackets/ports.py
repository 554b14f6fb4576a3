"""Repository port for brackets; their legs are read through the order repository."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from engine.brackets.models import Bracket, BracketStatus


class BracketRepository(Protocol):
    async def add(self, bracket: Bracket) -> None: ...

    async def update(self, bracket: Bracket) -> None: ...

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
