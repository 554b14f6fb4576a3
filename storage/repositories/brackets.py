"""Brackets."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.brackets.models import ACTIVE_STATUSES, Bracket, BracketStatus, CloseReason, ExitMode, Target
from engine.common.money import to_canonical
from engine.orders.models import OrderSide
from storage.models import BracketRow

_FIELDS = (
    "user_id",
    "account_id",
    "symbol",
    "quantity",
    "entry_price",
    "stop_price",
    "active_stop",
    "breakeven",
    "fallback_reason",
    "stop_moved",
    "created_at",
    "updated_at",
    "closed_at",
)


def _bracket_from_row(row: BracketRow) -> Bracket:
    values = {name: getattr(row, name) for name in _FIELDS}
    reported = json.loads(row.reported)
    targets = tuple(Target(Decimal(price), Decimal(quantity)) for price, quantity in json.loads(row.targets))
    return Bracket(
        id=row.id,
        side=OrderSide(row.side),
        targets=targets,
        exit_mode=ExitMode(row.exit_mode),
        status=BracketStatus(row.status),
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
        reported_entry=Decimal(reported["entry"]),
        reported_exits=tuple(Decimal(value) for value in reported["exits"]),
        reported_cover=Decimal(reported["cover"]),
        **values,
    )


def _fill_row(row: BracketRow, bracket: Bracket) -> None:
    for name in _FIELDS:
        setattr(row, name, getattr(bracket, name))
    row.side = bracket.side.value
    row.targets = json.dumps(
        [[to_canonical(target.price), to_canonical(target.quantity)] for target in bracket.targets]
    )
    row.exit_mode = bracket.exit_mode.value
    row.status = bracket.status.value
    row.close_reason = bracket.close_reason.value if bracket.close_reason else None
    row.reported = json.dumps(
        {
            "entry": to_canonical(bracket.reported_entry),
            "exits": [to_canonical(value) for value in bracket.reported_exits],
            "cover": to_canonical(bracket.reported_cover),
        }
    )


class SqlBracketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, bracket: Bracket) -> None:
        row = BracketRow(id=bracket.id)
        _fill_row(row, bracket)
        self._session.add(row)
        await self._session.flush()

    async def update(self, bracket: Bracket) -> None:
        row = await self._session.get(BracketRow, bracket.id)
        if row is None:
            raise LookupError(f"bracket {bracket.id} does not exist")
        _fill_row(row, bracket)
        await self._session.flush()

    async def get(self, bracket_id: uuid.UUID) -> Bracket | None:
        row = await self._session.get(BracketRow, bracket_id)
        return _bracket_from_row(row) if row else None

    async def get_for_user(self, user_id: uuid.UUID, bracket_id: uuid.UUID) -> Bracket | None:
        row = await self._session.scalar(
            select(BracketRow).where(BracketRow.id == bracket_id, BracketRow.user_id == user_id)
        )
        return _bracket_from_row(row) if row else None

    async def list_for_user(
        self, user_id: uuid.UUID, statuses: Iterable[BracketStatus] | None = None, limit: int = 20
    ) -> list[Bracket]:
        statement = select(BracketRow).where(BracketRow.user_id == user_id)
        if statuses is not None:
            statement = statement.where(BracketRow.status.in_([status.value for status in statuses]))
        rows = await self._session.scalars(
            statement.order_by(BracketRow.created_at.desc(), BracketRow.id).limit(limit)
        )
        return [_bracket_from_row(row) for row in rows]

    async def list_active(self) -> list[Bracket]:
        rows = await self._session.scalars(
            select(BracketRow)
            .where(BracketRow.status.in_([status.value for status in ACTIVE_STATUSES]))
            .order_by(BracketRow.created_at)
        )
        return [_bracket_from_row(row) for row in rows]
