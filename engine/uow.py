"""The unit-of-work port: one transaction and the repositories that share it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from engine.accounts.ports import AccountRepository, CredentialRepository
from engine.admin.ports import AuditRepository
from engine.analytics.ports import AnalyticsRepository
from engine.brackets.ports import BracketRepository
from engine.exchanges.paper.ledger import PaperLedger
from engine.notifications.ports import OutboxRepository
from engine.orders.ports import OrderDraftRepository, OrderRepository, TwapRepository
from engine.portfolio.ports import PortfolioRepository
from engine.risk.ports import RiskRepository
from engine.security.ports import PinRepository
from engine.users.ports import UserRepository


class UnitOfWork(Protocol):
    """Used as ``async with uow_factory() as uow: ...; await uow.commit()``.

    Leaving the block without ``commit()`` rolls back. A read-only unit of work
    (``uow_factory(read_only=True)``) may not write and does not wait for writers.
    """

    users: UserRepository
    accounts: AccountRepository
    credentials: CredentialRepository
    orders: OrderRepository
    drafts: OrderDraftRepository
    audit: AuditRepository
    paper: PaperLedger
    portfolio: PortfolioRepository
    analytics: AnalyticsRepository
    risk: RiskRepository
    outbox: OutboxRepository
    twaps: TwapRepository
    pins: PinRepository
    brackets: BracketRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...
