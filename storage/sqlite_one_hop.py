"""aiosqlite with one hand-off to its worker thread per statement instead of three or four.

SQLAlchemy's aiosqlite adapter (SQLAlchemy 2.1) awaits the worker thread for
each step of a statement: creating the cursor, executing, fetching the rows and
closing the cursor. Each hand-off queues a call to aiosqlite's thread and waits
for the event loop to be woken with the result, which costs far more CPU than
SQLite takes for the indexed one-row statements of the order path. This
dialect's cursor runs all four steps in one function on the worker thread and
keeps the description, row count and rows it returns.

Two more hand-offs per transaction are saved. The BEGIN that the database's
"begin" hook asks for (``begin_later``) is sent with the transaction's first
statement, and a transaction that executes nothing sends neither BEGIN nor
ROLLBACK. Writes queued with ``storage.prepared.write_later`` go with the next
statement or with the COMMIT, and ``storage.prepared.read_now`` sends a SELECT
with no SQLAlchemy execution around it.

Statements still run off the event loop, on aiosqlite's thread, as with the
stock dialect. Server-side cursors (streamed reads) keep the stock adapter.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import URL
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "patriot_aiosqlite"

_Outcome = tuple[Any, list[Any] | None, int, int | None]
# A statement sent ahead of the next one: SQL, parameters (None for none), and whether they are many.
_Queued = tuple[str, Any, bool]


def _run_queued(connection: sqlite3.Connection, queued: list[_Queued]) -> None:
    for sql, parameters, many in queued:
        if many:
            connection.executemany(sql, parameters)
        elif parameters is None:
            connection.execute(sql)
        else:
            connection.execute(sql, parameters)


def _commit(connection: sqlite3.Connection, queued: list[_Queued]) -> None:
    _run_queued(connection, queued)
    connection.commit()


def _fetch(connection: sqlite3.Connection, queued: list[_Queued], sql: str, parameters: Any) -> list[Any]:
    _run_queued(connection, queued)
    cursor = connection.execute(sql, parameters)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _fetch_many(
    connection: sqlite3.Connection, queued: list[_Queued], statements: list[tuple[str, Any]]
) -> list[list[Any]]:
    _run_queued(connection, queued)
    results = []
    for sql, parameters in statements:
        cursor = connection.execute(sql, parameters)
        try:
            results.append(cursor.fetchall())
        finally:
            cursor.close()
    return results


def _run(
    connection: sqlite3.Connection, queued: list[_Queued], operation: str, parameters: Any, many: bool
) -> _Outcome:
    """Execute one statement on aiosqlite's thread and return its description, rows, rowcount, lastrowid.

    The queued statements (a BEGIN, queued writes) run first, in the same call.
    """
    _run_queued(connection, queued)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else None
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose execute is one call on aiosqlite's worker thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is created here: _run makes and closes its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing to close: the statement's cursor was closed on the worker thread."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._hop(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return self._hop(operation, seq_of_parameters, many=True)

    def _hop(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        queued = self._adapt_connection.take_queued()  # type: ignore[attr-defined]
        try:
            # NOTE: Connection._execute and ._conn are aiosqlite internals (0.22);
            # SQLAlchemy's own adapter uses ._conn and ._tx the same way.
            outcome = await_(
                connection._execute(_run, connection._conn, queued, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows is not None else collections.deque()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """Keeps what goes ahead of the next statement: the transaction's BEGIN and queued writes."""

    __slots__ = ("_begin", "_queued")

    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        self._queued: list[_Queued] = []

    def begin_later(self, sql: str) -> None:
        """Start a transaction with ``sql`` when its first statement is sent."""
        self._begin = sql
        self._queued = []

    def defer(self, sql: str, rows: list[Any]) -> None:
        """Queue a write whose row count is never read (``storage.prepared``)."""
        if len(rows) == 1:
            self._queued.append((sql, rows[0], False))
        else:
            self._queued.append((sql, rows, True))

    async def fetch_now(self, sql: str, parameters: Any) -> list[Any]:
        """Run a SELECT, after what is queued, in one hop; awaited directly, with no greenlet."""
        connection = self._connection
        return await connection._execute(_fetch, connection._conn, self.take_queued(), sql, parameters)

    async def fetch_many(self, statements: list[tuple[str, Any]]) -> list[list[Any]]:
        """Run several SELECTs, after what is queued, in one hop."""
        connection = self._connection
        return await connection._execute(_fetch_many, connection._conn, self.take_queued(), statements)

    def forget_queued(self) -> None:
        """Drop a BEGIN and writes never sent (called as the connection goes back to the pool)."""
        self._begin, self._queued = None, []

    def take_queued(self) -> list[_Queued]:
        queued = self._queued
        if self._begin is not None:
            queued.insert(0, (self._begin, None, False))
            self._begin = None
        self._queued = []
        return queued

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and (self._begin is not None or self._queued):
            self._send_queued()  # the stock server-side cursor does not send the queue
        return super().cursor(server_side)

    def commit(self) -> None:
        if self._begin is not None and not self._queued:
            self._begin = None  # nothing was sent, so there is nothing to commit
            return
        queued = self.take_queued()
        connection = self._connection
        if not queued or not connection._connection:
            super().commit()
            return
        try:
            await_(connection._execute(_commit, connection._conn, queued))
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        begun = self._begin is None
        self._begin, self._queued = None, []
        if begun:
            super().rollback()

    def _send_queued(self) -> None:
        connection = self._connection
        try:
            await_(connection._execute(_run_queued, connection._conn, self.take_queued()))
        except Exception as error:
            self._handle_exception(error)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        stock = super().connect(*arg, **kw)
        return OneHopConnection(self, stock._connection)


class SQLiteDialect_one_hop(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:
        return OneHopDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_one_hop")


def one_hop_url(url: URL) -> URL:
    """Return the URL of the same database through this dialect."""
    return url.set(drivername=f"sqlite+{DRIVER}")
