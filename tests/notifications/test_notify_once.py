"""An order's push and its notification record commit together, so a crash loses and repeats nothing.

The crash is played in the test process, as in tests/brackets/test_bracket_faults.py:
the crash point raises instead of ending the process, and the start-up
reconciliation (``bot.scheduler.reconcile_at_start``) plays the restart.
tests/e2e/test_order_faults.py kills the real process at the same point.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from bot.notifier import Notifier
from bot.scheduler import TELL_MISSED_WITHIN, reconcile_at_start
from bot.services import Services
from engine.common import crash_points
from engine.common.clock import ManualClock
from engine.orders.models import Order, OrderRequest, OrderSide, OrderStatus, OrderType
from engine.users.models import User, UserStatus
from engine.users.service import Registration
from tests.conftest import ADMIN_ID

TRADER = 7301
BOUGHT = "Bought 0.001 BTC"
MARKET_BUY = OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, D("0.001"))


class Crash(BaseException):
    """Stands for the process ending at a crash point (not an Exception, so no handler swallows it)."""


@pytest.fixture
def crash_at(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def arm(point: str) -> None:
        monkeypatch.setenv(crash_points.ENABLE_VARIABLE, "1")
        monkeypatch.setenv(crash_points.POINT_VARIABLE, point)

        def end(code: int) -> None:
            monkeypatch.delenv(crash_points.POINT_VARIABLE)
            raise Crash(point)

        monkeypatch.setattr(crash_points.os, "_exit", end)

    return arm


def database(services: Services) -> Path:
    return Path(services.settings.database.database_url.partition("///")[2])


def queued(services: Services, telegram_id: int = TRADER) -> list[str]:
    """Texts in the outbox for the chat, in queuing order."""
    with sqlite3.connect(database(services)) as connection:
        rows = connection.execute("SELECT text FROM outbox WHERE chat_id = ? ORDER BY id", (telegram_id,))
        return [text for (text,) in rows]


async def trader(services: Services, telegram_id: int = TRADER) -> User:
    user, _ = await services.users.register(Registration(telegram_id, "trader", "T", "en"))
    return user


async def place(services: Services, user: User, *, shown_inline: bool) -> Order:
    account = await services.orders.account(user, None)
    return await services.orders.place(user, account, MARKET_BUY, shown_inline=shown_inline)


async def stored(services: Services, order_id: object) -> Order:
    async with services.uow(read_only=True) as uow:
        order = await uow.orders.get(order_id)  # type: ignore[arg-type]
    assert order is not None
    return order


async def test_push_and_record_commit_together(services: Services) -> None:
    user = await trader(services)

    order = await place(services, user, shown_inline=False)

    assert sum(BOUGHT in text for text in queued(services)) == 1
    found = await stored(services, order.id)
    assert found.status is OrderStatus.FILLED
    assert (found.notified_status, found.notified_filled) == (OrderStatus.FILLED, D("0.001"))
    assert await services.notifier.notify_missed_orders(services.clock.now() - TELL_MISSED_WITHIN) == 0
    assert sum(BOUGHT in text for text in queued(services)) == 1, "a second pass repeats nothing"


async def test_crashed_push_sent_once(services: Services, crash_at) -> None:  # type: ignore[no-untyped-def]
    user = await trader(services)
    crash_at("event_before_notified")

    with pytest.raises(Crash):
        await place(services, user, shown_inline=False)

    assert not any(BOUGHT in text for text in queued(services)), "the crash came before the push"
    await reconcile_at_start(services)
    assert sum(BOUGHT in text for text in queued(services)) == 1

    # A second start, and a second process with its own notifier, tell nothing again.
    await reconcile_at_start(services)
    other = Notifier(services.outbox, services.i18n, services.uow)
    assert await other.notify_missed_orders(services.clock.now() - TELL_MISSED_WITHIN) == 0
    assert sum(BOUGHT in text for text in queued(services)) == 1


async def test_racing_notifiers_queue_once(services: Services, crash_at) -> None:  # type: ignore[no-untyped-def]
    user = await trader(services)
    crash_at("event_before_notified")
    with pytest.raises(Crash):
        await place(services, user, shown_inline=False)
    async with services.uow(read_only=True) as uow:
        (order,) = await uow.orders.list_unnotified(services.clock.now() - TELL_MISSED_WITHIN)

    other = Notifier(services.outbox, services.i18n, services.uow)
    results = await asyncio.gather(services.notifier.tell_order(order.id), other.tell_order(order.id))

    assert sorted(results) == [False, True]
    assert sum(BOUGHT in text for text in queued(services)) == 1


async def test_inline_order_not_pushed(services: Services) -> None:
    user = await trader(services)

    order = await place(services, user, shown_inline=True)

    found = await stored(services, order.id)
    assert found.is_notified, "the card shows the outcome, and the order's own transaction records it"
    await reconcile_at_start(services)
    assert not any(BOUGHT in text for text in queued(services))


async def test_suspended_user_gets_nothing_after_restart(services: Services, crash_at) -> None:  # type: ignore[no-untyped-def]
    user = await trader(services)
    crash_at("event_before_notified")
    with pytest.raises(Crash):
        await place(services, user, shown_inline=False)
    await services.admin.set_status(ADMIN_ID, TRADER, UserStatus.SUSPENDED, "test")
    before = queued(services)

    await reconcile_at_start(services)

    assert queued(services) == before, "nothing is pushed about orders to a suspended user"
    async with services.uow(read_only=True) as uow:
        assert await uow.orders.list_unnotified(services.clock.now() - TELL_MISSED_WITHIN) == []


async def test_old_changes_not_sent(services: Services, clock: ManualClock, crash_at) -> None:  # type: ignore[no-untyped-def]
    user = await trader(services)
    crash_at("event_before_notified")
    with pytest.raises(Crash):
        await place(services, user, shown_inline=False)

    clock.set(clock.now() + TELL_MISSED_WITHIN * 2)
    await services.notifier.notify_missed_orders(clock.now() - TELL_MISSED_WITHIN)

    assert not any(BOUGHT in text for text in queued(services)), "a change older than a day is not sent"


async def test_sent_partial_fills_leave_batch_room(
    services: Services, clock: ManualClock, crash_at
) -> None:  # type: ignore[no-untyped-def]
    """The start-up sweep reads a limited batch: orders already notified must not fill it."""
    user = await trader(services)
    notified = [await place(services, user, shown_inline=False) for _ in range(2)]
    with sqlite3.connect(database(services)) as connection:
        connection.executemany(
            "UPDATE orders SET status = 'PARTIALLY_FILLED', notified_status = 'PARTIALLY_FILLED' "
            "WHERE id = ?",
            [(order.id.hex,) for order in notified],
        )
    clock.set(clock.now() + timedelta(seconds=1))
    crash_at("event_before_notified")
    with pytest.raises(Crash):
        await place(services, user, shown_inline=False)
    with sqlite3.connect(database(services)) as connection:
        query = "SELECT id FROM orders WHERE notified_status IS NULL"
        (unnotified_id,) = connection.execute(query).fetchone()

    async with services.uow(read_only=True) as uow:
        found = await uow.orders.list_unnotified(clock.now() - TELL_MISSED_WITHIN, limit=2)

    assert [order.id.hex for order in found] == [unnotified_id]
