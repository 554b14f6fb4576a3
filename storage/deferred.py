"""Writes sent to SQLite together with the next statement of their transaction.

Most writes of the order path need nothing back: no rows, no row count. Each
one executed through SQLAlchemy costs its execution layers (about 100-190 µs
of Python on a 2-core machine) and, with aiosqlite, a hand-off to the driver's
thread. A ``PreparedWrite`` is compiled once per dialect; ``write_later``
converts its parameters with SQLAlchemy's own bind processors and queues it on
the driver connection (``storage.sqlite_one_hop``, ``storage.sqlite_inline``).
The queue runs, in order, just before the next statement of the transaction
or its COMMIT, in the same hand-off; a ROLLBACK drops it.

So a queued write runs before anything that could read what it wrote, and an
error it raises (a constraint) comes out of that next statement or the commit,
still inside the transaction. On other databases (PostgreSQL) ``write_later``
executes the statement at once through the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

_Encoder = Callable[[Mapping[str, Any]], tuple[Any, ...]]

# Counts queued statements for bench/order_overhead.py, which counts the others through SQLAlchemy.
queued_statements = [0]


class PreparedWrite:
    """An INSERT or UPDATE without RETURNING, compiled once per dialect and set of parameter names."""

    def __init__(self, statement: UpdateBase) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type[Dialect], tuple[str, ...]], tuple[str, _Encoder]] = {}

    def compiled_for(self, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, _Encoder]:
        """The SQL text and a function from parameters to the driver's positional values."""
        found = self._compiled.get((type(dialect), keys))
        if found is None:
            found = self._compiled[(type(dialect), keys)] = self._compile(dialect, keys)
        return found

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, _Encoder]:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        names = list(compiled.positiontup or ())
        # Every name passed must be bound, and nothing else: a column default would need
        # SQLAlchemy's execution context, and a dropped value would be lost silently.
        if sorted(names) != sorted(keys):
            raise ValueError(f"prepared write got {sorted(keys)}, its SQL binds {sorted(names)}")
        # NOTE: _bind_processors is SQLAlchemy's own per-parameter conversion (2.1), the one
        # session.execute applies; using it keeps the stored text identical on both paths.
        processors = compiled._bind_processors
        steps = [(name, processors.get(name)) for name in names]

        def encode(values: Mapping[str, Any]) -> tuple[Any, ...]:
            return tuple(
                process(values[name]) if process is not None else values[name] for name, process in steps
            )

        return compiled.string, encode


async def write_later(session: AsyncSession, write: PreparedWrite, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue the write for each row on SQLite; elsewhere execute it now."""
    connection = await session.connection()
    driver = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    defer = getattr(driver, "defer", None)
    if defer is None:
        await session.execute(write.statement, list(rows) if len(rows) > 1 else rows[0])
        return
    sql, encode = write.compiled_for(connection.dialect, tuple(rows[0]))
    defer(sql, [encode(row) for row in rows])
    queued_statements[0] += 1
