"""Repository port for trading PINs."""

from __future__ import annotations

import uuid
from typing import Protocol

from engine.security.pin import PinRecord


class PinRepository(Protocol):
    async def get(self, user_id: uuid.UUID) -> PinRecord | None: ...

    async def save(self, record: PinRecord) -> None:
        """Insert or replace the user's record."""
        ...

    async def delete(self, user_id: uuid.UUID) -> bool:
        """Remove the user's PIN; return whether there was one."""
        ...

    async def list_all(self) -> list[PinRecord]: ...
