"""Trading PIN records (sealed hashes only)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.security.pin import PinRecord, ScryptCost
from storage.models import UserPinRow


def _record(row: UserPinRow) -> PinRecord:
    return PinRecord(
        user_id=row.user_id,
        sealed_hash=row.sealed_hash,
        salt=bytes.fromhex(row.salt),
        cost=ScryptCost(n=row.scrypt_n, r=row.scrypt_r, p=row.scrypt_p),
        created_at=row.created_at,
        updated_at=row.updated_at,
        failed_attempts=row.failed_attempts,
        locked_until=row.locked_until,
        confirmed_until=row.confirmed_until,
    )


class SqlPinRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: uuid.UUID) -> PinRecord | None:
        row = await self._session.get(UserPinRow, user_id)
        return _record(row) if row else None

    async def save(self, record: PinRecord) -> None:
        row = await self._session.get(UserPinRow, record.user_id)
        if row is None:
            row = UserPinRow(user_id=record.user_id)
            self._session.add(row)
        row.sealed_hash = record.sealed_hash
        row.salt = record.salt.hex()
        row.scrypt_n, row.scrypt_r, row.scrypt_p = record.cost.n, record.cost.r, record.cost.p
        row.failed_attempts = record.failed_attempts
        row.locked_until = record.locked_until
        row.confirmed_until = record.confirmed_until
        row.created_at = record.created_at
        row.updated_at = record.updated_at
        await self._session.flush()

    async def delete(self, user_id: uuid.UUID) -> bool:
        result = await self._session.execute(delete(UserPinRow).where(UserPinRow.user_id == user_id))
        return bool(result.rowcount)

    async def list_all(self) -> list[PinRecord]:
        rows = await self._session.scalars(select(UserPinRow).order_by(UserPinRow.user_id))
        return [_record(row) for row in rows]
