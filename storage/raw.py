"""Decoding driver values of bulk reads, each distinct value once.

A bulk read (the risk scan reads every user, account, balance and mark)
selects columns with ``raw()`` so SQLAlchemy applies no result processor, and
decodes them here. Balances repeat a lot (every new PAPER account starts with
the same amount), so a Decimal is built once per distinct text. Ids are
decoded through a process-wide bounded cache: the same users and accounts are
read by every scan, and building a uuid.UUID from text costs about 10 µs on a
2-core machine (most of a scan's row decoding before the cache). SQLite returns text, and
PostgreSQL's driver returns Decimal, UUID and datetime objects, which pass
through unchanged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Result, String, type_coerce

# Rows decoded between two turns of the event loop (about 20 ms of work on a 2-core
# machine): a bulk read of 60,000 rows
# would otherwise hold the loop for most of a second.
CHUNK_ROWS = 1_000


async def chunks(result: Result[Any]) -> AsyncIterator[Sequence[Any]]:
    """Yield the result's rows in chunks, giving the event loop a turn before each chunk after the first."""
    for index, chunk in enumerate(result.partitions(CHUNK_ROWS)):
        if index:
            await asyncio.sleep(0)
        yield chunk


def raw(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as the driver returns it, labelled with its own name."""
    return type_coerce(column, String).label(column.key)  # type: ignore[attr-defined]


class RawDecoder:
    """Memoizing decoders for one bulk read; drop it afterwards so the memos go too."""

    def __init__(self) -> None:
        self._decimals: dict[Any, Decimal] = {}

    def decimal(self, value: Any) -> Decimal:
        found = self._decimals.get(value)
        if found is None:
            found = self._decimals[value] = value if isinstance(value, Decimal) else Decimal(value)
        return found

    def optional_decimal(self, value: Any) -> Decimal | None:
        return None if value is None else self.decimal(value)

    def uuid(self, value: Any) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else _uuid_from_hex(value)


def uuid_of(value: Any) -> uuid.UUID:
    """Decode an id without the cache, for a read whose ids need not outlive it.

    The risk scan reads every user's id each minute. Cached, those 10,000 ids
    would stay alive among the scan's short-lived objects and keep CPython's
    memory arenas from being returned (about 1 µs per id uncached).
    """
    return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value)


# About 10 MB at most: two ids (user and account) for each of 32,768 users.
@lru_cache(maxsize=65_536)
def _uuid_from_hex(text: str) -> uuid.UUID:
    return uuid.UUID(hex=text)


def utc(value: Any) -> datetime | None:
    """Return an aware UTC datetime from SQLite's ISO text (stored without offset) or a driver's datetime."""
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
