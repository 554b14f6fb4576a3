"""Database engines and sessions, with SQLite tuned for one writing process.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` and waits
for an in-process lock first: writers queue in Python instead of failing with
"database is locked", and a transaction that reads then writes cannot hit
SQLITE_BUSY on lock upgrade. Read-only sessions use a second engine whose
connections are ``query_only`` and never wait for writers (WAL mode).

SQLite statements run on the loop's thread (``storage.sqlite_inline``, the
default) or, with ``sqlite_driver="aiosqlite"`` (DATABASE_SQLITE_DRIVER), on
aiosqlite's worker thread in one call each (``storage.sqlite_one_hop``). The
inline driver is the default because a hand-off to the thread costs more than
the statement; the benchmarks compare the two.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolResetState, StaticPool
from sqlalchemy.util.concurrency import await_

from storage.in_use import InUseLock
from storage.sqlite_inline import WalCheckpointer, begin_immediate, inline_url
from storage.sqlite_one_hop import one_hop_url

logger = logging.getLogger(__name__)


class Database:
    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 5000,
        echo: bool = False,
        sqlite_driver: str = "inline",
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._busy_timeout_ms = busy_timeout_ms
        database = self.url.database or ""
        self.is_memory = self.is_sqlite and database in ("", ":memory:")
        if sqlite_driver not in ("inline", "aiosqlite"):
            raise ValueError(f"sqlite_driver must be 'aiosqlite' or 'inline', got {sqlite_driver!r}")
        self.is_inline = self.is_sqlite and sqlite_driver == "inline"
        self.checkpointer = WalCheckpointer(database) if self.is_inline and not self.is_memory else None
        # Units of work on a file through the inline driver start without a session (storage.direct).
        self.direct_transactions = self.is_inline and not self.is_memory
        self.in_use = InUseLock(database if self.is_sqlite and not self.is_memory else None)

        self.write_engine = self._create_engine(echo=echo, read_only=False)
        if self.is_sqlite and not self.is_memory:
            self.read_engine = self._create_engine(echo=echo, read_only=True)
        else:
            # One in-memory database exists per connection, so reads share it;
            # PostgreSQL needs no separate reader.
            self.read_engine = self.write_engine

        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    def _create_engine(self, *, echo: bool, read_only: bool) -> AsyncEngine:
        options: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            # The "reset" listener in _tune_sqlite rolls back only a connection
            # still in a transaction.
            options["pool_reset_on_return"] = None
        if self.is_memory:
            options["poolclass"] = StaticPool
            options["connect_args"] = {"check_same_thread": False}
        engine = create_async_engine(self._driver_url(), **options)
        if self.is_sqlite:
            self._tune_sqlite(engine, read_only=read_only)
        return engine

    def _driver_url(self) -> URL:
        if not self.is_sqlite:
            return self.url
        return inline_url(self.url) if self.is_inline else one_hop_url(self.url)

    def _tune_sqlite(self, engine: AsyncEngine, *, read_only: bool) -> None:
        # An inline writer must not wait in SQLite's busy handler, which would block
        # the loop: begin_immediate retries with asyncio sleeps instead.
        inline_writer = self.is_inline and not read_only
        busy_timeout = 0 if inline_writer else self._busy_timeout_ms
        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" hook issue BEGIN instead of the driver.
            dbapi_connection.isolation_level = None
            # A plain sqlite3 cursor on the inline driver: a unit of work may open a
            # connection outside SQLAlchemy's greenlet (storage.direct).
            cursor = dbapi_connection.cursor(sqlite3.Cursor) if self.is_inline else dbapi_connection.cursor()
            if not self.is_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                if self.checkpointer is not None:
                    cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "reset")
        def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
            # A session ends its transaction before it returns the connection, and
            # SQLAlchemy's default reset would roll back again. With aiosqlite that
            # no-op costs a round trip to the driver's thread on every unit of work.
            if state.terminate_only or not state.asyncio_safe:
                return
            driver_connection = getattr(dbapi_connection, "driver_connection", dbapi_connection)
            if driver_connection.in_transaction:
                dbapi_connection.rollback()
            # Nothing queued for the driver may reach the connection's next transaction.
            dbapi_connection.forget_queued()

        def _begin_inline(driver_connection: Any) -> None:
            try:
                if inline_writer:
                    await_(begin_immediate(driver_connection, self.busy_timeout_seconds))
                else:
                    driver_connection.execute(begin)
            except sqlite3.Error as error:
                # SQLAlchemy calls this hook outside its error handling, so wrap the error as it
                # wraps a statement's (OperationalError "database is locked"), as storage.direct does.
                raise DBAPIError.instance(begin, (), error, sqlite3.Error) from error

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            driver_connection = connection.connection.driver_connection
            if self.is_inline and driver_connection.in_transaction:
                return  # begun by a direct transaction (storage.direct) whose session came later
            if self.is_inline:
                driver_connection.forget_queued()
                _begin_inline(driver_connection)
            else:
                # Sent with the transaction's first statement, in the same hop to
                # aiosqlite's thread (storage.sqlite_one_hop).
                connection.connection.dbapi_connection.begin_later(begin)

    @property
    def busy_timeout_seconds(self) -> float:
        return self._busy_timeout_ms / 1000

    def session(self, *, read_only: bool) -> AsyncSession:
        return (self._read_sessions if read_only else self._write_sessions)()

    def committed(self) -> None:
        """Note a committed write transaction (the WAL checkpoints count them)."""
        if self.checkpointer is not None:
            self.checkpointer.committed()

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.close()
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
        self.in_use.release()
        logger.info("Database connections closed")
