"""Repository port for exchange accounts."""

from __future__ import annotations

import uuid
from typing import Protocol

from engine.accounts.models import Account


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def update(self, account: Account) -> None: ...

    async def get_for_user(self, user_id: uuid.UUID, account_id: uuid.UUID) -> Account | None:
        """Return the account only when it belongs to the user."""
        ...

    async def list_for_user(self, user_id: uuid.UUID) -> list[Account]: ...

    async def get_default(self, user_id: uuid.UUID) -> Account | None: ...
