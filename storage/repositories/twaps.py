"""TWAP executions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.orders.models import OrderSide
from engine.orders.twap_models import Twap, TwapStatus
from storage.models import TwapRow

_FIELDS = (
    "user_id",
    "account_id",
    "symbol",
    "total_quantity",
    "slices",
    "interval_seconds",
    "slices_sent",
    "reason",
    "next_run_at",
    "created_at",
    "updated_at",
)


def _twap_from_row(row: TwapRow) -> Twap:
    values = {name: getattr(row, name) for name in _FIELDS}
    return Twap(id=row.id, side=OrderSide(row.side), status=TwapStatus(row.status), **values)


def _fill_row(row: TwapRow, twap: Twap) -> None:
    for name in _FIELDS:
        setattr(row, name, getattr(twap, name))
    row.side = twap.side.value
    row.status = twap.status.value


class SqlTwapRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, twap: Twap) -> None:
        row = TwapRow(id=twap.id)
        _fill_row(row, twap)
        self._session.add(row)
        await self._session.flush()

    async def update(self, twap: Twap) -> None:
        row = await self._session.get(TwapRow, twap.id)
        if row is None:
            raise LookupError(f"twap {twap.id} does not exist")
        _fill_row(row, twap)
        await self._session.flush()

    async def get_for_user(self, user_id: uuid.UUID, twap_id: uuid.UUID) -> Twap | None:
        row = await self._session.scalar(
            select(TwapRow).where(TwapRow.id == twap_id, TwapRow.user_id == user_id)
        )
        return _twap_from_row(row) if row else None

    async def list_due(self, now: datetime) -> list[Twap]:
        rows = await self._session.scalars(
            select(TwapRow)
            .where(TwapRow.status == TwapStatus.ACTIVE.value, TwapRow.next_run_at <= now)
            .order_by(TwapRow.next_run_at)
        )
        return [_twap_from_row(row) for row in rows]

    async def list_for_user(self, user_id: uuid.UUID, statuses: Iterable[TwapStatus]) -> list[Twap]:
        rows = await self._session.scalars(
            select(TwapRow)
            .where(TwapRow.user_id == user_id, TwapRow.status.in_([s.value for s in statuses]))
            .order_by(TwapRow.created_at.desc())
        )
        return [_twap_from_row(row) for row in rows]
