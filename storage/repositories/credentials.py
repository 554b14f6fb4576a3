"""Encrypted API keys of accounts (vault tokens only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.accounts.models import SealedCredentials
from storage.models import AccountKeyRow


def _sealed(row: AccountKeyRow) -> SealedCredentials:
    return SealedCredentials(api_key=row.api_key, secret=row.secret, passphrase=row.passphrase)


class SqlCredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, account_id: uuid.UUID, sealed: SealedCredentials, *, now: datetime) -> None:
        row = await self._session.get(AccountKeyRow, account_id)
        if row is None:
            row = AccountKeyRow(account_id=account_id, created_at=now)
            self._session.add(row)
        row.api_key = sealed.api_key
        row.secret = sealed.secret
        row.passphrase = sealed.passphrase
        row.updated_at = now
        await self._session.flush()

    async def get(self, account_id: uuid.UUID) -> SealedCredentials | None:
        row = await self._session.get(AccountKeyRow, account_id)
        return _sealed(row) if row else None

    async def delete(self, account_id: uuid.UUID) -> bool:
        result = await self._session.execute(
            delete(AccountKeyRow).where(AccountKeyRow.account_id == account_id)
        )
        await self._session.flush()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def list_all(self) -> list[tuple[uuid.UUID, SealedCredentials]]:
        rows = await self._session.scalars(select(AccountKeyRow).order_by(AccountKeyRow.account_id))
        return [(row.account_id, _sealed(row)) for row in rows]
