"""Transactions on the inline SQLite driver that create no SQLAlchemy session unless one is used.

The units of work on the hot paths (a PAPER order, the user load of each update,
the read commands) run only prepared statements (``storage.prepared``), which go
to the driver connection directly. For them the AsyncSession around the
transaction cost more than the statements. Creating it, taking the connection,
the commit and the close came to about 75 µs of CPU per unit of work on a 2-core
AMD EPYC, and the statement took 5-20 µs.

A ``DirectTransaction`` takes a connection from the engine's own pool, so the
pool's hooks apply as before (PRAGMAs on connect, rollback on return), and
starts the transaction itself: ``BEGIN``, or ``BEGIN IMMEDIATE`` with the same
retries as a session's. Repositories get a ``LazySession`` in place of the
session. Prepared statements ask it for the driver connection; anything else
(an ORM query, ``add``, ``flush``) creates the real AsyncSession at its first
use. That session joins the transaction already started on the connection, or,
when no statement has run yet, takes a connection as usual.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util.concurrency import greenlet_spawn

from storage.sqlite_inline import begin_immediate

if TYPE_CHECKING:
    from storage.db import Database

# Transactions begun here, for the benchmarks: they count a session's through SQLAlchemy's "begin" event.
direct_begins = [0]


class DirectTransaction:
    """One unit of work's transaction on a pooled driver connection, with a session only on demand."""

    def __init__(self, database: Database, *, read_only: bool) -> None:
        self._database = database
        self._read_only = read_only
        self._engine = database.read_engine if read_only else database.write_engine
        self._pooled: PoolProxiedConnection | None = None
        self._session: AsyncSession | None = None
        self._connection: AsyncConnection | None = None
        self.session = LazySession(self)

    async def driver(self) -> tuple[Any, Dialect] | None:
        """Return the driver connection, inside the transaction, and its dialect.

        None when a session took its own connection first: prepared statements then go through it.
        """
        if self._session is not None and self._pooled is None:
            return None
        if self._pooled is None:
            self._pooled = await self._checkout()
        driver = self._live_driver()
        if not driver.in_transaction:
            await self._begin(driver)
        return driver, self._engine.dialect

    def real_session(self) -> AsyncSession:
        """Return the unit of work's AsyncSession, creating it at the first call."""
        if self._session is None:
            self._session = self._new_session()
            self._session.sync_session.begin()
        return self._session

    def _new_session(self) -> AsyncSession:
        if self._pooled is None:
            return self._database.session(read_only=self._read_only)
        # The Connection finds the transaction open, so the "begin" hook sends no second BEGIN.
        self._connection = AsyncConnection(self._engine, Connection(self._engine.sync_engine, self._pooled))
        return AsyncSession(bind=self._connection, expire_on_commit=False)

    async def commit(self) -> None:
        if self._session is not None:
            await self._session.commit()
        driver = self._open_driver()
        if driver is None:
            return
        try:
            # Nothing the session ran, or prepared statements after its last commit.
            _run(driver.commit, "COMMIT")
        except BaseException:
            # A failed queued write stops the COMMIT with the writes before it still in SQLite's
            # open transaction. Roll them back, so that a later commit cannot keep them.
            driver.rollback()
            raise

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
        # An invalidated connection has nothing left to roll back.
        driver = self._pooled.driver_connection if self._pooled is not None else None
        if driver is not None and driver.in_transaction:
            _run(driver.rollback, "ROLLBACK")

    async def close(self) -> None:
        """End the transaction and give the connection back; the pool's reset hook rolls back what is open."""
        try:
            if self._session is not None:
                await self._session.close()
        finally:
            pooled, connection = self._pooled, self._connection
            self._pooled = self._connection = self._session = None
            if connection is not None:
                await connection.close()
            elif pooled is not None:
                pooled.close()

    def _open_driver(self) -> Any:
        if self._pooled is None:
            return None
        driver = self._live_driver()
        return driver if driver.in_transaction else None

    def _live_driver(self) -> Any:
        assert self._pooled is not None
        driver = self._pooled.driver_connection
        if driver is None:
            # What the transaction wrote went with the connection, so nothing may go on as if it had not.
            raise InvalidRequestError("the unit of work's connection was invalidated: leave the unit of work")
        return driver

    async def _checkout(self) -> PoolProxiedConnection:
        pool = self._engine.sync_engine.pool
        try:
            if pool.checkedin():
                return pool.connect()  # a free connection is handed over without waiting
            # Opening one runs the engine's "connect" hook, and a full pool waits: both in the greenlet.
            return await greenlet_spawn(pool.connect)
        except sqlite3.Error as error:
            raise DBAPIError.instance(None, None, error, sqlite3.Error) from error

    async def _begin(self, driver: Any) -> None:
        driver.forget_queued()
        try:
            if self._read_only:
                sqlite3.Connection.execute(driver, "BEGIN")
            else:
                await begin_immediate(driver, self._database.busy_timeout_seconds)
        except sqlite3.Error as error:
            raise DBAPIError.instance("BEGIN", (), error, sqlite3.Error) from error
        direct_begins[0] += 1


class LazySession:
    """Stands in for a unit of work's AsyncSession; any use but a prepared statement creates the session."""

    __slots__ = ("transaction",)

    def __init__(self, transaction: DirectTransaction) -> None:
        self.transaction = transaction

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transaction.real_session(), name)


def _run(step: Any, sql: str) -> None:
    try:
        step()
    except sqlite3.Error as error:
        # The same exception classes as through a session (IntegrityError from a queued write...).
        raise DBAPIError.instance(sql, (), error, sqlite3.Error) from error
