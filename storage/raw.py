"""Decoding driver values of bulk reads, each distinct value once.

A bulk read (the risk scan reads every user, account, balance and mark)
selects columns with ``raw()`` so SQLAlchemy applies no result processor, and
decodes them here. Balances repeat a lot (every new PAPER account starts with
the same amount), so a Decimal is built once per distinct text; an account id
is decoded once however many balance rows carry it. SQLite returns text, and
PostgreSQL's driver returns Decimal, UUID and datetime objects, which pass
through unchanged.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, type_coerce


def raw(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as the driver returns it, labelled with its own name."""
    return type_coerce(column, String).label(column.key)  # type: ignore[attr-defined]


class RawDecoder:
    """Memoizing decoders for one bulk read; drop it afterwards so the memos go too."""

    def __init__(self) -> None:
        self._decimals: dict[Any, Decimal] = {}
        self._uuids: dict[Any, uuid.UUID] = {}

    def decimal(self, value: Any) -> Decimal:
        found = self._decimals.get(value)
        if found is None:
            found = self._decimals[value] = value if isinstance(value, Decimal) else Decimal(value)
        return found

    def optional_decimal(self, value: Any) -> Decimal | None:
        return None if value is None else self.decimal(value)

    def uuid(self, value: Any) -> uuid.UUID:
        found = self._uuids.get(value)
        if found is None:
            found = self._uuids[value] = value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value)
        return found


def utc(value: Any) -> datetime | None:
    """An aware UTC datetime from SQLite's ISO text (stored without offset) or a driver's datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def flag(value: Any) -> bool:
    """SQLite stores booleans as 0 and 1."""
    return bool(value)
