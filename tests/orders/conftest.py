"""Engine order services over real SQLite, talking to the fake live exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.app import build_services, close_services, start_services
from bot.services import Services
from bot.settings import Settings
from engine.accounts.models import Account, Exchange, KeyStatus
from engine.common.clock import ManualClock
from engine.common.ids import new_id
from engine.events import Event, EventBus
from engine.orders.service import OrderService
from engine.orders.sync import OrderSync
from engine.risk.pretrade import BalanceCheck, PreTradeChecker
from engine.users.models import User
from engine.users.service import Registration
from tests.fakes.fake_gateway import FakeGateway, FakeGatewayProvider

SYNC_INTERVAL = timedelta(seconds=15)
UNKNOWN_AFTER = timedelta(minutes=5)


async def no_wait(seconds: float) -> None:
    """Lookups retry at once in tests."""


@dataclass
class LiveExchange:
    services: Services
    gateway: FakeGateway
    user: User
    account: Account
    orders: OrderService = field(init=False)
    sync: OrderSync = field(init=False)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.restart()

    def restart(self, services: Services | None = None) -> None:
        """Build new engine services, over ``services`` when given (a new process on the same file)."""
        if services is not None:
            self.services = services
        bus = EventBus()

        async def capture(event: Event) -> None:
            self.events.append(event)

        bus.subscribe("*", capture)
        provider = FakeGatewayProvider(self.gateway)
        clock = self.services.clock
        checker = PreTradeChecker([BalanceCheck()])
        self.orders = OrderService(self.services.uow, provider, bus, clock, checker, sleep=no_wait)
        self.sync = OrderSync(
            self.services.uow,
            provider,
            self.orders,
            clock,
            interval=SYNC_INTERVAL,
            misses_before_reject=3,
            unknown_after=UNKNOWN_AFTER,
        )

    def event_names(self) -> list[str]:
        return [event.name for event in self.events]


async def live_exchange(services: Services, gateway: FakeGateway, telegram_id: int = 5) -> LiveExchange:
    user, _ = await services.users.register(Registration(telegram_id, f"live{telegram_id}", "L", "en"))
    now = services.clock.now()
    account = Account(
        id=new_id(),
        user_id=user.id,
        exchange=Exchange.BYBIT,
        name="Bybit",
        is_testnet=True,
        is_active=True,
        is_default=False,
        created_at=now,
        updated_at=now,
        key_status=KeyStatus.VALID,  # a linked account whose key passed its check
    )
    async with services.uow() as uow:
        await uow.accounts.add(account)
        await uow.commit()
    return LiveExchange(services, gateway, user, account)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
async def second_process(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    """Services with their own database connections over the test's database file."""
    built = build_services(settings, clock=clock)
    await start_services(built)
    try:
        yield built
    finally:
        await close_services(built)
