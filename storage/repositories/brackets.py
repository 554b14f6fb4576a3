"""Brackets."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.brackets.models import (
    ACTIVE_STATUSES,
    Bracket,
    BracketStatus,
    CloseReason,
    ExitMode,
    Target,
)
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
        reported_steps=frozenset(reported.get("steps", ())),
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


def _reported_json(bracket: Bracket) -> str:
    return json.dumps(
        {
            "entry": to_canonical(bracket.reported_entry),
            "exits": [to_canonical(value) for value in bracket.reported_exits],
            "cover": to_canonical(bracket.reported_cover),
            "steps": sorted(bracket.reported_steps),
        }
    )


class SqlBracketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, bracket: Bracket) -> None:
        row = BracketRow(id=bracket.id)
        _fill_row(row, bracket)
        row.reported = _reported_json(bracket)
        self._session.add(row)
        await self._session.flush()

    async def update(self, bracket: Bracket) -> None:
        """Store the bracket's plan and state; ``record_notified`` alone changes the notification record."""
        row = await self._session.get(BracketRow, bracket.id)
        if row is None:
            raise LookupError(f"bracket {bracket.id} does not exist")
        _fill_row(row, bracket)
        await self._session.flush()

    async def record_notified(
        self,
        bracket_id: uuid.UUID,
        *,
        entry: Decimal | None = None,
        target: tuple[int, Decimal] | None = None,
        cover: Decimal | None = None,
        step: str | None = None,
    ) -> bool:
        """Raise what the user was notified of to the given values; return False when none of them is higher.

        Only forward: a value at or below the stored one, or a step (``ONCE_STEPS``)
        recorded already, changes nothing, so what another pass or process notified
        is not sent again.
        """

        def raise_to(reported: dict[str, Any]) -> bool:
            changed = False
            if entry is not None and entry > Decimal(reported["entry"]):
                reported["entry"], changed = to_canonical(entry), True
            if target is not None:
                index, quantity = target
                if quantity > Decimal(reported["exits"][index - 1]):
                    reported["exits"][index - 1], changed = to_canonical(quantity), True
            if cover is not None and cover > Decimal(reported["cover"]):
                reported["cover"], changed = to_canonical(cover), True
            steps = reported.get("steps", [])
            if step is not None and step not in steps:
                reported["steps"], changed = sorted([*steps, step]), True
            return changed

        return await self._change_reported(bracket_id, raise_to)

    async def lower_cover(self, bracket_id: uuid.UUID, cover: Decimal) -> None:
        """Lower the cover last notified when the exits cover less, so a later rise is sent."""

        def lower(reported: dict[str, Any]) -> bool:
            if cover >= Decimal(reported["cover"]):
                return False
            reported["cover"] = to_canonical(cover)
            return True

        await self._change_reported(bracket_id, lower)

    async def _change_reported(self, bracket_id: uuid.UUID, change: Callable[[dict[str, Any]], bool]) -> bool:
        # Compare and set on the stored text: if another writer changed it meanwhile, this changes nothing.
        stored = await self._session.scalar(select(BracketRow.reported).where(BracketRow.id == bracket_id))
        if stored is None:
            return False
        reported = json.loads(stored)
        if not change(reported):
            return False
        result = await self._session.execute(
            update(BracketRow)
            .where(BracketRow.id == bracket_id, BracketRow.reported == stored)
            .values(reported=json.dumps(reported))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

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

    async def list_ended_since(self, since: datetime) -> list[Bracket]:
        """Return the brackets that ended (CLOSED or CANCELLED) at or after ``since``, oldest first."""
        rows = await self._session.scalars(
            select(BracketRow)
            .where(
                BracketRow.status.not_in([status.value for status in ACTIVE_STATUSES]),
                BracketRow.closed_at >= since,
            )
            .order_by(BracketRow.closed_at)
        )
        return [_bracket_from_row(row) for row in rows]

    async def list_active(self) -> list[Bracket]:
        rows = await self._session.scalars(
            select(BracketRow)
            .where(BracketRow.status.in_([status.value for status in ACTIVE_STATUSES]))
            .order_by(BracketRow.created_at)
        )
        return [_bracket_from_row(row) for row in rows]
