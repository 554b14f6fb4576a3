"""SQL unit of work: one session, one transaction, every repository on it."""

from __future__ import annotations

import contextvars
from types import TracebackType
from typing import Self

from storage.db import Database
from storage.repositories.analytics import SqlAnalyticsRepository
from storage.repositories.credentials import SqlCredentialRepository
from storage.repositories.drafts import SqlOrderDraftRepository
from storage.repositories.orders import SqlOrderRepository
from storage.repositories.outbox import SqlOutboxRepository
from storage.repositories.paper import SqlPaperLedger
from storage.repositories.portfolio import SqlPortfolioRepository
from storage.repositories.risk import SqlRiskRepository
from storage.repositories.twaps import SqlTwapRepository
from storage.repositories.users import SqlAccountRepository, SqlAuditRepository, SqlUserRepository

# Set while the current task holds the SQLite write lock: a nested write unit
# of work would wait for itself forever, so it fails loudly instead.
_holding_write_lock: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "holding_write_lock", default=False
)


class SqlUnitOfWork:
    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._lock_token: contextvars.Token[bool] | None = None

    async def __aenter__(self) -> Self:
        lock = self._database.write_lock
        needs_lock = lock is not None and (not self._read_only or self._database.is_memory)
        if needs_lock and lock is not None:
            if _holding_write_lock.get():
                raise RuntimeError("nested write unit of work: commit the outer one first")
            await lock.acquire()
            self._lock_token = _holding_write_lock.set(True)

        try:
            self.session = self._database.session(read_only=self._read_only)
            await self.session.begin()
        except BaseException:
            self._release()
            raise

        self.users = SqlUserRepository(self.session)
        self.accounts = SqlAccountRepository(self.session)
        self.credentials = SqlCredentialRepository(self.session)
        self.orders = SqlOrderRepository(self.session)
        self.drafts = SqlOrderDraftRepository(self.session)
        self.audit = SqlAuditRepository(self.session)
        self.paper = SqlPaperLedger(self.session)
        self.portfolio = SqlPortfolioRepository(self.session)
        self.analytics = SqlAnalyticsRepository(self.session)
        self.risk = SqlRiskRepository(self.session)
        self.outbox = SqlOutboxRepository(self.session)
        self.twaps = SqlTwapRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
            await self.session.close()
        finally:
            self._release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() in a read-only unit of work")
        await self.session.commit()
        self._database.committed()

    async def rollback(self) -> None:
        await self.session.rollback()

    def _release(self) -> None:
        if self._lock_token is not None:
            _holding_write_lock.reset(self._lock_token)
            self._lock_token = None
            assert self._database.write_lock is not None
            self._database.write_lock.release()


class SqlUnitOfWorkFactory:
    """Creates units of work on one database; pass it where the engine wants a factory."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database, read_only=read_only)
