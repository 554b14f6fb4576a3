"""Statements of the order path that bypass SQLAlchemy's execution layers on SQLite.

Every PAPER order runs the same few indexed statements. Each one executed
through a session costs SQLAlchemy's execution layers, about 100-190 µs of
Python (profiled with ``bench/order_overhead.py --profile`` on a 2-core AMD
EPYC), more than SQLite takes to run it. A prepared
statement is compiled once per dialect and runs on the driver connection
(``storage.sqlite_one_hop``, ``storage.sqlite_inline``), with SQLAlchemy's own
bind and result processors, so values are stored and read back exactly as
through a session.

- ``write_later`` queues an INSERT or UPDATE whose row count is never read. The
  queue runs, in order, just before the next statement of the transaction or
  its COMMIT, in the same hand-off to aiosqlite's thread. A ROLLBACK drops it.
  So a queued write runs before anything that could read what it wrote, and
  an error it raises (a constraint) comes out of that next statement or the
  commit, still inside the transaction.
- ``read_now`` runs a SELECT at once (with the queue ahead of it) and returns
  its rows as named tuples, whose fields are read like a SQLAlchemy row's.
  ``read_many`` runs several SELECTs that do not depend on each other in one
  hand-off.

On other databases (PostgreSQL) all three go through the session as usual.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

from storage.direct import LazySession

_Encoder = Callable[[Mapping[str, Any]], list[Any]]
_Decoder = Callable[[Sequence[Any]], tuple[Any, ...]]

# The driver connection and dialect of each open transaction, found by _driver. The keys are weak
# because a reference from the session to its own transaction would make a cycle, and sessions
# would then wait for the garbage collector's slow full passes.
_DRIVERS: weakref.WeakKeyDictionary[SessionTransaction, tuple[Any, Dialect]] = weakref.WeakKeyDictionary()

# Counts statements run here, for bench/order_overhead.py, which counts the others through SQLAlchemy.
prepared_statements = [0]


def _encoder(compiled: SQLCompiler, keys: tuple[str, ...]) -> _Encoder:
    names = list(compiled.positiontup or ())
    # Every name passed must be bound, and nothing else: a column default would need
    # SQLAlchemy's execution context, and a dropped value would be lost silently.
    if sorted(names) != sorted(keys):
        raise ValueError(f"prepared statement got {sorted(keys)}, its SQL binds {sorted(names)}")
    # NOTE: _bind_processors is SQLAlchemy's own per-parameter conversion (2.1), the one
    # session.execute applies; using it keeps the stored text identical on both paths.
    processors = compiled._bind_processors
    converted = [(index, processors[name]) for index, name in enumerate(names) if name in processors]

    def encode(values: Mapping[str, Any]) -> list[Any]:
        row = [values[name] for name in names]
        for index, process in converted:
            row[index] = process(row[index])
        return row

    return encode


class PreparedWrite:
    """An INSERT or UPDATE without RETURNING, compiled once per dialect and set of parameter names."""

    def __init__(self, statement: UpdateBase) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type[Dialect], tuple[str, ...]], tuple[str, _Encoder]] = {}

    def compiled_for(self, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, _Encoder]:
        """The SQL text and a function from parameters to the driver's positional values."""
        found = self._compiled.get((type(dialect), keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            found = self._compiled[(type(dialect), keys)] = (compiled.string, _encoder(compiled, keys))
        return found


class PreparedRead:
    """A SELECT whose parameters are all bound by name, compiled once per dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type[Dialect], tuple[str, ...]], tuple[str, _Encoder, _Decoder]] = {}

    def compiled_for(self, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, _Encoder, _Decoder]:
        """Return the SQL text, the parameters' encoder and a decoder of one row."""
        found = self._compiled.get((type(dialect), keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            found = self._compiled[(type(dialect), keys)] = (
                compiled.string,
                _encoder(compiled, keys),
                _decoder(compiled, dialect),
            )
        return found


def _decoder(compiled: SQLCompiler, dialect: Dialect) -> _Decoder:
    # NOTE: _result_columns and _cached_result_processor are how SQLAlchemy (2.1) finds
    # each column's name and its conversion from the driver's value.
    columns = compiled._result_columns
    make = namedtuple("PreparedRow", [entry.keyname for entry in columns], rename=True)._make  # type: ignore[misc]
    processors = [entry.type._cached_result_processor(dialect, None) for entry in columns]
    converted = [(index, process) for index, process in enumerate(processors) if process is not None]

    def decode(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for index, process in converted:
            values[index] = process(values[index])
        return make(values)

    return decode


async def _driver(session: AsyncSession) -> tuple[Any, Dialect]:
    """Return the driver connection of the session's transaction and its dialect.

    Asking the session costs a greenlet switch, so the result is kept for the transaction's lifetime.
    A unit of work without a session yet (``storage.direct``) hands over its own connection.
    """
    if type(session) is LazySession:
        found = await session.transaction.driver()
        if found is not None:
            return found
        session = session.transaction.real_session()
    transaction = session.sync_session.get_transaction()
    cached = _DRIVERS.get(transaction) if transaction is not None else None
    if cached is not None:
        return cached
    connection = await session.connection()
    driver = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    found = driver, connection.dialect
    _DRIVERS[session.sync_session.get_transaction()] = found
    return found


async def write_later(session: AsyncSession, write: PreparedWrite, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue the write for each row on SQLite; elsewhere execute it now."""
    driver, dialect = await _driver(session)
    defer = getattr(driver, "defer", None)
    if defer is None:
        await session.execute(write.statement, list(rows) if len(rows) > 1 else rows[0])
        return
    sql, encode = write.compiled_for(dialect, tuple(rows[0]))
    defer(sql, [encode(row) for row in rows])
    prepared_statements[0] += 1


async def read_now(
    session: AsyncSession, read: PreparedRead, parameters: Mapping[str, Any]
) -> list[Any]:
    """Run the SELECT in the session's transaction and return its rows, decoded."""
    driver, dialect = await _driver(session)
    fetch = getattr(driver, "fetch_now", None)
    if fetch is None:
        return list((await session.execute(read.statement, parameters)).all())
    sql, encode, decode = read.compiled_for(dialect, tuple(parameters))
    values = encode(parameters)
    try:
        rows = await fetch(sql, values)
    except sqlite3.Error as error:
        # The same exception classes as through a session (OperationalError, IntegrityError...).
        raise DBAPIError.instance(sql, values, error, sqlite3.Error) from error
    prepared_statements[0] += 1
    return [decode(row) for row in rows]


async def read_many(
    session: AsyncSession, reads: Sequence[tuple[PreparedRead, Mapping[str, Any]]]
) -> list[list[Any]]:
    """Run several SELECTs in the session's transaction, in one hand-off on SQLite; return each one's rows."""
    driver, dialect = await _driver(session)
    fetch_many = getattr(driver, "fetch_many", None)
    if fetch_many is None:
        return [list((await session.execute(read.statement, values)).all()) for read, values in reads]
    statements = []
    decoders = []
    for read, values in reads:
        sql, encode, decode = read.compiled_for(dialect, tuple(values))
        statements.append((sql, encode(values)))
        decoders.append(decode)
    try:
        results = await fetch_many(statements)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statements[0][0], statements[0][1], error, sqlite3.Error) from error
    prepared_statements[0] += len(statements)
    return [[decode(row) for row in rows] for decode, rows in zip(decoders, results, strict=True)]
