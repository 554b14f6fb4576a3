"""Repository port for users."""

from __future__ import annotations

import uuid
from typing import Protocol

from engine.users.models import User, UserStatus


class UserRepository(Protocol):
    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def get_by_telegram_id(self, telegram_id: int) -> User | None: ...

    async def get_by_username(self, username: str) -> User | None:
        """Find by username, ignoring case."""
        ...

    async def add(self, user: User) -> None: ...

    async def update(self, user: User) -> None: ...

    async def search(self, query: str | None, *, offset: int, limit: int) -> tuple[list[User], int]:
        """Return one page of users matching an id or username fragment, and the total count."""
        ...

    async def count_by_status(self) -> dict[UserStatus, int]: ...
