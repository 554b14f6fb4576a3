"""Column types that keep money exact and time zone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from engine.common.money import to_canonical


class DecimalText(TypeDecorator[Decimal]):
    """Decimal stored exactly: canonical TEXT on SQLite, NUMERIC on PostgreSQL.

    SQLite has no exact numeric type, so values are stored as their canonical
    string. Such columns compare as text in SQL: filter and sort them in Python,
    never with SQL comparison operators. Binding a float raises TypeError.
    ``allow_infinite`` admits positive and negative infinity (stored as
    ``Infinity``/``-Infinity``), for risk figures of positions with no equity behind them.
    """

    impl = Text
    cache_ok = True

    def __init__(self, *, allow_infinite: bool = False) -> None:
        super().__init__()
        self.allow_infinite = allow_infinite

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalText column needs a Decimal, got {type(value).__name__}")
        if dialect.name == "postgresql":
            return value
        if self.allow_infinite and value.is_infinite():
            return str(value)
        return to_canonical(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetime; a naive datetime is rejected on write.

    SQLite stores the UTC wall time without an offset and the value gets its
    UTC time zone back on read; PostgreSQL uses ``timestamp with time zone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"UTCDateTime needs a timezone-aware datetime, got {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
