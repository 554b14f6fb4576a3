"""SQL unit of work: one session, one transaction, every repository on it.

A read kept for the next one (``KeptRead``): the read-only unit of work that
loads the update's user can stay open, so the handler's first read-only unit of
work continues its transaction instead of starting another. Each unit of work
costs more than the reads in it (a session, a connection from the pool, and on
aiosqlite a hand-off for the ROLLBACK). The kept transaction ends with the next
unit of work of the same task. It also ends before a write unit of work starts,
before a Telegram request, and at the end of the update. The bot keeps it only
for handlers that read before any network call (the ``reads_first`` flag).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cached_property
from types import TracebackType
from typing import Self, cast

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.direct import DirectTransaction
from storage.repositories.analytics import SqlAnalyticsRepository
from storage.repositories.brackets import SqlBracketRepository
from storage.repositories.credentials import SqlCredentialRepository
from storage.repositories.drafts import SqlOrderDraftRepository
from storage.repositories.orders import SqlOrderRepository
from storage.repositories.outbox import SqlOutboxRepository
from storage.repositories.paper import SqlPaperLedger
from storage.repositories.pins import SqlPinRepository
from storage.repositories.portfolio import SqlPortfolioRepository
from storage.repositories.risk import SqlRiskRepository
from storage.repositories.twaps import SqlTwapRepository
from storage.repositories.users import SqlAccountRepository, SqlAuditRepository, SqlUserRepository

# Set while the current task holds the SQLite write lock: a nested write unit
# of work would wait for itself forever, so it fails loudly instead.
_holding_write_lock: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "holding_write_lock", default=False
)


class _Keeping:
    """One task's kept read: whether the next read-only unit of work stays open, and the one that did."""

    __slots__ = ("kept", "next", "task")

    def __init__(self) -> None:
        self.task = asyncio.current_task()
        self.next = False
        self.kept: SqlUnitOfWork | None = None


# Set by KeptRead.scope. Tasks started inside copy it, so each use checks it is the owner's.
_keeping: contextvars.ContextVar[_Keeping | None] = contextvars.ContextVar("keeping", default=None)


def _own_keeping() -> _Keeping | None:
    keeping = _keeping.get()
    return keeping if keeping is not None and keeping.task is asyncio.current_task() else None


class SqlUnitOfWork:
    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._lock_token: contextvars.Token[bool] | None = None
        self._direct: DirectTransaction | None = None

    async def __aenter__(self) -> Self:
        keeping = _own_keeping()
        if keeping is not None and keeping.kept is not None:
            kept, keeping.kept = keeping.kept, None
            if self._read_only:
                # The kept transaction goes on, and ends with this one.
                self.session, self._direct = kept.session, kept._direct
                return self
            await kept._close()  # so no write starts while this task keeps a read open
        return await self._begin()

    async def _begin(self) -> Self:
        lock = self._database.write_lock
        needs_lock = lock is not None and (not self._read_only or self._database.is_memory)
        if needs_lock and lock is not None:
            if _holding_write_lock.get():
                raise RuntimeError("nested write unit of work: commit the outer one first")
            await lock.acquire()
            self._lock_token = _holding_write_lock.set(True)

        try:
            if self._database.direct_transactions:
                self._direct = DirectTransaction(self._database, read_only=self._read_only)
                self.session = cast(AsyncSession, self._direct.session)
            else:
                self.session = self._database.session(read_only=self._read_only)
                # Starting the transaction sends nothing (the connection is taken at the first
                # statement), so it needs none of AsyncSession.begin's hand-off to a greenlet.
                self.session.sync_session.begin()
        except BaseException:
            self._release()
            raise

        return self

    # Repositories are built when first used: most units of work touch one or two of them.
    @cached_property
    def users(self) -> SqlUserRepository:
        return SqlUserRepository(self.session)

    @cached_property
    def accounts(self) -> SqlAccountRepository:
        return SqlAccountRepository(self.session)

    @cached_property
    def credentials(self) -> SqlCredentialRepository:
        return SqlCredentialRepository(self.session)

    @cached_property
    def orders(self) -> SqlOrderRepository:
        return SqlOrderRepository(self.session)

    @cached_property
    def drafts(self) -> SqlOrderDraftRepository:
        return SqlOrderDraftRepository(self.session)

    @cached_property
    def audit(self) -> SqlAuditRepository:
        return SqlAuditRepository(self.session)

    @cached_property
    def paper(self) -> SqlPaperLedger:
        return SqlPaperLedger(self.session)

    @cached_property
    def portfolio(self) -> SqlPortfolioRepository:
        return SqlPortfolioRepository(self.session)

    @cached_property
    def analytics(self) -> SqlAnalyticsRepository:
        return SqlAnalyticsRepository(self.session)

    @cached_property
    def risk(self) -> SqlRiskRepository:
        return SqlRiskRepository(self.session)

    @cached_property
    def outbox(self) -> SqlOutboxRepository:
        return SqlOutboxRepository(self.session)

    @cached_property
    def twaps(self) -> SqlTwapRepository:
        return SqlTwapRepository(self.session)

    @cached_property
    def brackets(self) -> SqlBracketRepository:
        return SqlBracketRepository(self.session)

    @cached_property
    def pins(self) -> SqlPinRepository:
        return SqlPinRepository(self.session)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        keeping = _own_keeping()
        # Kept only without the write lock (a read on a memory database takes it) and without an error.
        if keeping is not None and keeping.next and exc_type is None and self._lock_token is None:
            keeping.next, keeping.kept = False, self
            return
        await self._close()

    async def _close(self) -> None:
        try:
            # close() rolls back a transaction still open. Rolling back first would
            # make the pool roll back the returned connection a second time.
            await (self._direct.close() if self._direct is not None else self.session.close())
        finally:
            self._release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() in a read-only unit of work")
        await (self._direct.commit() if self._direct is not None else self.session.commit())
        self._database.committed()

    async def rollback(self) -> None:
        await (self._direct.rollback() if self._direct is not None else self.session.rollback())

    def _release(self) -> None:
        if self._lock_token is not None:
            _holding_write_lock.reset(self._lock_token)
            self._lock_token = None
            assert self._database.write_lock is not None
            self._database.write_lock.release()


class KeptRead:
    """Keeps the read-only unit of work of one step open for the task's next unit of work.

    ``async with kept.scope():`` around the handling of an update, ``with kept.next_read():``
    around the call whose read is kept, and ``await kept.end()`` before anything that may
    wait on the network (a Telegram request). ``scope`` ends what is still kept.
    """

    @staticmethod
    @asynccontextmanager
    async def scope() -> AsyncIterator[None]:
        token = _keeping.set(_Keeping())
        try:
            yield
        finally:
            await KeptRead.end()
            _keeping.reset(token)

    @staticmethod
    @contextmanager
    def next_read() -> Iterator[None]:
        keeping = _own_keeping()
        if keeping is not None:
            keeping.next = True
        try:
            yield
        finally:
            if keeping is not None:
                keeping.next = False

    @staticmethod
    async def end() -> None:
        keeping = _own_keeping()
        if keeping is not None and keeping.kept is not None:
            kept, keeping.kept = keeping.kept, None
            await kept._close()


class SqlUnitOfWorkFactory:
    """Creates units of work on one database; pass it where the engine wants a factory."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database, read_only=read_only)
