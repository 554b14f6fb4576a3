"""An asyncio SQLite dialect that runs each statement on the event loop's own thread.

aiosqlite runs every statement on a worker thread and hands the result back
(``storage.sqlite_one_hop`` makes that one hand-off per statement, where
SQLAlchemy's stock adapter makes three or four). On a 2-core machine one
hand-off costs about 130 µs, while an
indexed SELECT or a one-row write on a WAL database with synchronous=NORMAL
takes 10–40 µs in SQLite itself (``bench/order_overhead.py`` measures both).
So this dialect calls the standard ``sqlite3`` module directly inside
SQLAlchemy's asyncio greenlet: the SQL API stays async, and no thread is
involved.

What that costs: a statement blocks the event loop while SQLite runs it. That
is fine for the short statements of this application. Bulk reads (the risk
scan) yield to the loop between chunks. A writer of another process is never
waited for with SQLite's busy handler, which would block the loop: the write
engine uses ``BEGIN IMMEDIATE`` with no busy timeout and retries it with an
asyncio sleep until ``busy_timeout_ms`` has passed (see ``begin_immediate``).
Checkpoints, which fsync the WAL and the database file, run in a worker
thread (``WalCheckpointer``) instead of inside a commit on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util.concurrency import await_

logger = logging.getLogger(__name__)

DRIVER = "patriot_inline"
# About 1,000 pages of WAL at the ten or so pages an order writes: SQLite's own
# automatic checkpoint runs at 1,000 pages.
CHECKPOINT_EVERY_COMMITS = 100
_FIRST_RETRY_SECONDS = 0.001
_LONGEST_RETRY_SECONDS = 0.05


class InlineCursor(sqlite3.Cursor):
    """A ``sqlite3`` cursor that SQLAlchemy's asyncio layer accepts.

    ``AsyncConnection.execute`` requires that a statement awaited something, so
    it catches a sync driver used by mistake. Each execute therefore awaits a
    coroutine that is already done, which costs one greenlet switch and no
    loop iteration.
    """

    def execute(self, *args: Any) -> Any:
        await_(_done())
        self.connection.run_queued()
        return super().execute(*args)

    def executemany(self, *args: Any) -> Any:
        await_(_done())
        self.connection.run_queued()
        return super().executemany(*args)

    async def _async_soft_close(self) -> None:
        """Nothing to do: the rows are read from SQLite as the result is consumed, on this thread."""


class InlineConnection(sqlite3.Connection):
    """Runs writes queued with ``storage.prepared.write_later`` before the next statement or the COMMIT.

    Nothing is saved on hand-offs here, but prepared statements skip SQLAlchemy's
    execution layers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[tuple[str, Any, bool]] = []

    def cursor(self, factory: Any = InlineCursor) -> Any:
        return super().cursor(factory)

    def defer(self, sql: str, rows: list[Any]) -> None:
        if len(rows) == 1:
            self._queued.append((sql, rows[0], False))
        else:
            self._queued.append((sql, rows, True))

    async def fetch_now(self, sql: str, parameters: Any) -> list[Any]:
        """Run a SELECT after what is queued (``storage.prepared.read_now``)."""
        self.run_queued()
        return sqlite3.Connection.execute(self, sql, parameters).fetchall()

    async def fetch_many(self, statements: list[tuple[str, Any]]) -> list[list[Any]]:
        """Run several SELECTs after what is queued (``storage.prepared.read_many``)."""
        self.run_queued()
        execute = sqlite3.Connection.execute
        return [execute(self, sql, parameters).fetchall() for sql, parameters in statements]

    def run_queued(self) -> None:
        if not self._queued:
            return
        queued, self._queued = self._queued, []
        for sql, parameters, many in queued:
            if many:
                super().executemany(sql, parameters)
            else:
                super().execute(sql, parameters)

    def commit(self) -> None:
        self.run_queued()
        super().commit()

    def rollback(self) -> None:
        self._queued = []
        super().rollback()

    def forget_queued(self) -> None:
        """Drop what a transaction that never ended left queued (called as the next one begins)."""
        self._queued = []


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    """pysqlite with ``is_async`` set, so ``create_async_engine`` accepts it."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        # The asyncio queue waits for a free connection without blocking the loop.
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        # Used only from the loop's thread, but the pool may close it from another one at exit.
        kwargs.update(factory=InlineConnection, check_same_thread=False)
        return super().connect(*args, **kwargs)


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_inline")


async def _done() -> None:
    return None


async def begin_immediate(dbapi_connection: sqlite3.Connection, timeout_seconds: float) -> None:
    """Start a write transaction, retrying while another process holds the write lock.

    The connection has no busy timeout, so each attempt returns at once; between
    attempts the task sleeps and the loop goes on serving. A session's "begin" hook
    runs it with ``await_``. Raises ``sqlite3.OperationalError`` ("database is locked")
    after ``timeout_seconds``.
    """
    deadline = time.monotonic() + timeout_seconds
    delay = _FIRST_RETRY_SECONDS
    while True:
        try:
            sqlite3.Connection.execute(dbapi_connection, "BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, _LONGEST_RETRY_SECONDS)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def inline_url(url: URL) -> URL:
    """Return the URL of the same database through this dialect."""
    return url.set(drivername=f"sqlite+{DRIVER}")


class WalCheckpointer:
    """Copies the WAL into the database file from a worker thread every so many commits.

    The connections run with ``wal_autocheckpoint=0``: SQLite's automatic
    checkpoint would run inside a commit on the event loop and wait for two
    fsyncs (the p99 of an order was a checkpoint). A PASSIVE checkpoint never
    waits for readers or writers; what it cannot copy now is copied next time.
    """

    def __init__(self, path: str, every_commits: int = CHECKPOINT_EVERY_COMMITS) -> None:
        self._path = path
        self._every = every_commits
        self._commits = 0
        self._running: asyncio.Task[None] | None = None

    def committed(self) -> None:
        """Count a commit; start a checkpoint when enough have passed and none is running."""
        self._commits += 1
        if self._commits < self._every or (self._running is not None and not self._running.done()):
            return
        self._commits = 0
        self._running = asyncio.get_running_loop().create_task(asyncio.to_thread(self._checkpoint))

    async def close(self) -> None:
        """Wait for a checkpoint in progress; SQLite checkpoints the rest when the last connection closes."""
        if self._running is not None:
            await self._running
            self._running = None

    def _checkpoint(self) -> None:
        try:
            connection = sqlite3.connect(self._path, timeout=0)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except sqlite3.Error as exc:
            logger.warning("WAL checkpoint of %s failed: %s", self._path, exc)
