"""What /portfolio, /orders and /alerts read in one hand-off equals what the separate reads return."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from bot.services import Services
from engine.accounts.models import Account, Exchange
from engine.common.clock import ManualClock
from engine.exchanges.models import BalanceEntry
from engine.exchanges.paper.ledger import PaperBalance
from engine.orders.models import Fill, Order, OrderSide, OrderStatus, OrderType
from engine.orders.ports import OrderFilter
from engine.portfolio.models import EquitySnapshot, Holding, StoredValuation
from engine.risk.models import AlertKind, AlertSettings, AlertState, AlertType, RiskAlert, Severity
from engine.users.models import User
from engine.users.service import Registration

STATUSES = (OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.PARTIALLY_FILLED)


def _order(user: User, account: Account, index: int, clock: ManualClock) -> Order:
    moment = clock.now() + timedelta(minutes=index)
    return Order(
        id=uuid.uuid4(),
        user_id=user.id,
        account_id=account.id,
        client_order_id=f"coid-{index}",
        symbol="BTC/USDT" if index % 3 else "ETH/USDT",
        side=OrderSide.BUY if index % 2 else OrderSide.SELL,
        type=OrderType.LIMIT,
        quantity=Decimal("0.125") + index,
        price=Decimal("50000.01"),
        status=STATUSES[index % len(STATUSES)],
        created_at=moment,
        updated_at=moment,
    )


def _fill(order: Order, number: int) -> Fill:
    return Fill(
        id=uuid.uuid4(),
        order_id=order.id,
        trade_id=f"{order.client_order_id}-{number}",
        price=Decimal("49999.5") + number,
        quantity=Decimal("0.0625"),
        fee=Decimal("0.00000001"),
        fee_asset="BTC",
        is_maker=bool(number % 2),
        executed_at=order.created_at + timedelta(seconds=number),
    )


async def _trader(services: Services, clock: ManualClock) -> tuple[User, Account, Account, list[Order]]:
    """A user with a PAPER account, a live one with a stored valuation, orders with fills and a snapshot."""
    user, _ = await services.users.register(Registration(7, "trader7", "T", "en"))
    other, _ = await services.users.register(Registration(8, "trader8", "T", "en"))
    now = clock.now()
    async with services.uow() as uow:
        paper = (await uow.accounts.list_for_user(user.id))[0]
        live = replace(paper, id=uuid.uuid4(), exchange=Exchange.BINANCE, name="Live", is_default=False)
        await uow.accounts.add(live)
        await uow.paper.save_balance(paper.id, PaperBalance("BTC", Decimal("0.5"), Decimal("0.25")))
        held = [Holding("ETH", Decimal("2"), Decimal("0"), Decimal("3000.5"), Decimal("6001"))]
        await uow.portfolio.save_valuation(StoredValuation(live.id, now, held))
        orders = [_order(user, paper if index % 4 else live, index, clock) for index in range(12)]
        orders.append(_order(other, paper, 99, clock))  # another user's order on the same account id
        for order in orders:
            await uow.orders.add(order)
            for number in range(index_fills(order)):
                await uow.orders.add_fill(_fill(order, number))
        for hours in (30, 25, 2):
            taken = now - timedelta(hours=hours)
            await uow.portfolio.add_snapshot(EquitySnapshot(user.id, taken, Decimal(hours), True, {}))
        await uow.commit()
    return user, paper, live, orders[:-1]


def index_fills(order: Order) -> int:
    return 2 if order.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED) else 0


async def test_summary_reads_match_reads(services: Services, clock: ManualClock) -> None:
    user, paper, live, _orders = await _trader(services, clock)
    moment = clock.now() - timedelta(hours=24)

    async with services.uow(read_only=True) as uow:
        together = await uow.portfolio.summary_reads(user.id, moment)
        accounts = await uow.accounts.list_for_user(user.id)
        stored = await uow.portfolio.get_valuations([account.id for account in accounts])
        balances = await uow.paper.get_balances(paper.id)
        fills = await uow.portfolio.list_fills(user.id)
        open_orders = await uow.portfolio.count_open_orders(user.id)
        past = await uow.portfolio.snapshot_at_or_before(user.id, moment)

    assert together.accounts == accounts == [paper, live]
    assert together.stored == stored
    assert list(together.stored) == [live.id]
    assert together.paper_balances == {
        paper.id: {asset: BalanceEntry(asset, entry.free, entry.locked) for asset, entry in balances.items()}
    }
    assert together.paper_balances[paper.id]["BTC"] == BalanceEntry("BTC", Decimal("0.5"), Decimal("0.25"))
    assert together.fills == fills
    assert len(fills) == 12
    assert together.open_orders == open_orders == 6
    assert together.past == past
    assert past is not None and past.equity == Decimal(25)


async def test_orders_page_matches_filter(services: Services, clock: ManualClock) -> None:
    user, paper, _live, orders = await _trader(services, clock)
    newest_first = sorted(orders, key=lambda order: order.created_at, reverse=True)
    open_statuses = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
    filters = [
        OrderFilter(),
        OrderFilter(statuses=open_statuses),
        OrderFilter(statuses=frozenset({OrderStatus.FILLED}), symbol="BTC/USDT"),
        OrderFilter(side=OrderSide.BUY, account_id=paper.id),
        OrderFilter(since=orders[3].created_at, until=orders[9].created_at),
    ]
    async with services.uow(read_only=True) as uow:
        for where in filters:
            expected = [order for order in newest_first if _matches(order, where)]
            page, total = await uow.orders.list_for_user(user.id, where=where, offset=1, limit=3)
            assert total == len(expected)
            assert [order.id for order in page] == [order.id for order in expected[1:4]]
            for order in page:
                assert [fill.trade_id for fill in order.fills] == [
                    f"{order.client_order_id}-{number}" for number in range(index_fills(order))
                ]
            past_end, total = await uow.orders.list_for_user(user.id, where=where, offset=50, limit=3)
            assert past_end == []
            assert total == len(expected)


def _matches(order: Order, where: OrderFilter) -> bool:
    return (
        (where.statuses is None or order.status in where.statuses)
        and (where.symbol is None or order.symbol == where.symbol)
        and (where.side is None or order.side is where.side)
        and (where.account_id is None or order.account_id == where.account_id)
        and (where.since is None or order.created_at >= where.since)
        and (where.until is None or order.created_at < where.until)
    )


async def test_orders_page_decodes_exact_values(services: Services, clock: ManualClock) -> None:
    user, _paper, _live, orders = await _trader(services, clock)
    async with services.uow(read_only=True) as uow:
        page, _total = await uow.orders.list_for_user(user.id, limit=100)
        one_by_one = [await uow.orders.get(order.id) for order in page]
    assert page == one_by_one
    assert {order.quantity for order in page} == {order.quantity for order in orders}


async def test_alerts_view_matches_reads(services: Services, clock: ManualClock) -> None:
    user, _, _, _ = await _trader(services, clock)
    now = clock.now()
    states = [
        AlertState(user.id, AlertType.DAILY_LOSS, Severity.HIGH, Decimal("0.031"), Decimal("0.03"), now, now),
        AlertState(
            user.id,
            AlertType.DRAWDOWN_LIMIT,
            Severity.LOW,
            Decimal("0.1"),
            Decimal("0.2"),
            now - timedelta(1),
            now,
        ),
    ]
    alerts = [
        RiskAlert(
            uuid.uuid4(),
            user.id,
            AlertType.DAILY_LOSS,
            AlertKind.RAISED,
            Severity.HIGH,
            Decimal("0.031"),
            Decimal("0.03"),
            now + timedelta(minutes=minute),
            delivered=bool(minute % 2),
        )
        for minute in range(4)
    ]
    settings = AlertSettings(user.id, frozenset({Severity.HIGH}), report_enabled=True)
    async with services.uow() as uow:
        await uow.risk.insert_alert_states(states)
        await uow.risk.add_alerts(alerts)
        await uow.risk.save_alert_settings(settings, now)
        await uow.commit()

    async with services.uow(read_only=True) as uow:
        together = await uow.risk.alerts_view(user.id, 3)
        separate = (
            await uow.risk.alert_settings(user.id),
            await uow.risk.open_alerts(user.id),
            await uow.risk.recent_alerts(user.id, 3),
        )
        nobody = await uow.risk.alerts_view(uuid.uuid4(), 3)

    assert together == separate
    assert together[0] == settings
    assert [state.type for state in together[1]] == [AlertType.DRAWDOWN_LIMIT, AlertType.DAILY_LOSS]
    assert [alert.id for alert in together[2]] == [alert.id for alert in reversed(alerts)][:3]
    assert nobody == (None, [], [])
