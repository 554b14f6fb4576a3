"""Ports for exchange accounts: their repository, the key store, the vault and the key checker."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from engine.accounts.models import Account, ApiCredentials, Exchange, KeyCheck, SealedCredentials
from engine.common.secrets import Secret


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def update(self, account: Account) -> None: ...

    async def get(self, account_id: uuid.UUID) -> Account | None:
        """Return the account regardless of its owner, removed ones included (for jobs)."""
        ...

    async def get_for_user(self, user_id: uuid.UUID, account_id: uuid.UUID) -> Account | None:
        """Return the account only when it belongs to the user and is not removed."""
        ...

    async def list_for_user(self, user_id: uuid.UUID) -> list[Account]:
        """Return the user's accounts that are not removed, oldest first."""
        ...

    async def get_default(self, user_id: uuid.UUID) -> Account | None: ...

    async def list_live(self) -> list[Account]:
        """Return every account on a live exchange that is active and not removed."""
        ...


class CredentialRepository(Protocol):
    """Encrypted API keys, one set per account."""

    async def save(self, account_id: uuid.UUID, sealed: SealedCredentials, *, now: datetime) -> None:
        """Insert or replace the account's keys."""
        ...

    async def get(self, account_id: uuid.UUID) -> SealedCredentials | None: ...

    async def delete(self, account_id: uuid.UUID) -> bool:
        """Erase the account's keys; return whether there were any."""
        ...

    async def list_all(self) -> list[tuple[uuid.UUID, SealedCredentials]]: ...


class SecretBox(Protocol):
    """Encrypts secrets for storage (the vault)."""

    def seal(self, secret: Secret) -> str:
        """Return a token that only this vault's keys can open."""
        ...

    def open(self, token: str) -> Secret:
        """Return the secret, or raise VaultError when no configured key opens the token."""
        ...

    def reseal(self, token: str) -> str:
        """Return the token encrypted under the newest key."""
        ...


class KeyChecker(Protocol):
    async def check(self, exchange: Exchange, credentials: ApiCredentials, *, testnet: bool) -> KeyCheck:
        """Make an authenticated balance call (and permission query) with fresh connections."""
        ...
