"""PAPER's one-transaction order path: its statements, its fallback, and the balance writes it makes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.app import build_services, close_services, start_services
from bot.services import Services
from engine.common.clock import ManualClock
from engine.exchanges.paper.ledger import PaperBalance
from engine.orders.models import OrderRequest, OrderSide, OrderStatus, OrderType
from storage.sqlite_inline import InlineConnection
from storage.sqlite_one_hop import OneHopConnection
from tests.conftest import START, make_settings
from tests.paper.conftest import ServicesFactory, balances, trader


@dataclass
class StatementLog:
    """SQL that SQLite ran for the write and read engines, first word only (BEGIN, SELECT, COMMIT...)."""

    entries: list[tuple[str, str]] = field(default_factory=list)

    def write_transactions(self) -> int:
        return sum(1 for engine, text in self.entries if engine == "write" and text == "BEGIN")

    def read_transactions(self) -> int:
        return sum(1 for engine, text in self.entries if engine == "read" and text == "BEGIN")

    def after_last_commit(self) -> list[tuple[str, str]]:
        commits = [index for index, (_engine, text) in enumerate(self.entries) if text == "COMMIT"]
        return self.entries[commits[-1] + 1 :] if commits else list(self.entries)


@contextmanager
def logging_statements(services: Services) -> Iterator[StatementLog]:
    """Trace every statement on the inline driver's connections, with or without a session."""
    log = StatementLog()
    engines = {"write": services.database.write_engine, "read": services.database.read_engine}
    listeners: list[tuple[Any, str, Any]] = []
    for name, engine in engines.items():

        def checkout(dbapi_connection: Any, *_args: Any, name: str = name) -> None:
            dbapi_connection.set_trace_callback(lambda sql: log.entries.append((name, sql.split()[0])))

        def checkin(dbapi_connection: Any, *_args: Any) -> None:
            if dbapi_connection is not None:
                dbapi_connection.set_trace_callback(None)

        for event_name, listener in (("checkout", checkout), ("checkin", checkin)):
            event.listen(engine.sync_engine.pool, event_name, listener)
            listeners.append((engine.sync_engine.pool, event_name, listener))
    try:
        yield log
    finally:
        for target, event_name, listener in listeners:
            event.remove(target, event_name, listener)


async def test_market_order_writes_in_one_transaction(make_services: ServicesFactory) -> None:
    services = await make_services()
    if not services.database.is_inline:
        pytest.skip("the statement trace reads the inline driver's sqlite3 connections")
    user, account_id = await trader(services)
    account = await services.orders.account(user, account_id)
    request = OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.001"))

    with logging_statements(services) as log:
        order = await services.orders.place(user, account, request)

    assert order.status is OrderStatus.FILLED
    # The balance check and the risk checks read balances, accounts, limits and marks in one.
    assert log.read_transactions() == 1
    assert log.write_transactions() == 1
    # The event's subscribers see the order is outside any bracket and shown inline: nothing is read.
    assert log.after_last_commit() == []
    async with services.uow(read_only=True) as uow:
        stored = await uow.orders.get(order.id)
        paper = await uow.paper.get_order(account_id, client_order_id=order.client_order_id)
    assert stored is not None
    assert stored.status is OrderStatus.FILLED
    assert len(stored.fills) == 1
    assert paper is not None
    assert len(paper.trades) == 1


async def test_client_id_known_to_paper_is_looked_up(make_services: ServicesFactory) -> None:
    services = await make_services()
    user, account_id = await trader(services)
    account = await services.orders.account(user, account_id)
    request = OrderRequest(
        "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.001"), client_order_id="known-to-paper"
    )
    # The simulator has the id and PATRIOT does not, as after a lost answer on the PENDING-first path.
    await services.paper.create_order(account_id, request)
    after_first = await balances(services, account_id)

    order = await services.orders.place(user, account, request)

    assert order.status is OrderStatus.FILLED
    assert await balances(services, account_id) == after_first, "the order was placed a second time"
    async with services.uow(read_only=True) as uow:
        stored = await uow.orders.get_by_client_id_for_user(user.id, "known-to-paper")
        open_paper = await uow.paper.list_open_orders(account_id)
    assert stored is not None
    assert stored.id == order.id
    assert open_paper == []


async def test_save_balances_updates_and_inserts(make_services: ServicesFactory) -> None:
    services = await make_services()
    _user, account_id = await trader(services)

    async with services.uow() as uow:
        read = await uow.paper.get_balances(account_id, for_update=True)
        usdt = read["USDT"]
        await uow.paper.save_balances(
            account_id,
            [
                PaperBalance("USDT", usdt.free - Decimal("0.00000001"), Decimal("0.00000001")),
                PaperBalance("DOGE", Decimal("12.345678901234567890"), Decimal(0)),
            ],
        )
        await uow.commit()

    after = await balances(services, account_id)
    assert after["USDT"] == (usdt.free - Decimal("0.00000001"), Decimal("0.00000001"))
    assert after["DOGE"] == (Decimal("12.345678901234567890"), Decimal(0))


async def test_save_balances_of_a_fresh_ledger(make_services: ServicesFactory) -> None:
    services = await make_services()
    _user, account_id = await trader(services)

    # No read first: the ledger does not know which rows exist, so each is checked.
    async with services.uow() as uow:
        await uow.paper.save_balances(
            account_id,
            [PaperBalance("USDT", Decimal("5"), Decimal("1")), PaperBalance("ETH", Decimal("2"), Decimal(0))],
        )
        await uow.commit()

    after = await balances(services, account_id)
    assert after["USDT"] == (Decimal("5"), Decimal("1"))
    assert after["ETH"] == (Decimal("2"), Decimal(0))


ROWS = {
    "orders": "status, side, quantity, filled_quantity, average_price, fee, fee_asset, checks, "
    "notified_status",
    "fills": "price, quantity, fee, fee_asset, is_maker, executed_at",
    "account_holdings": "asset, quantity",
    "paper_balances": "asset, free, locked",
    "paper_orders": "state, side, quantity, filled_quantity, average_price, fee, locked, created_at",
    "paper_trades": "side, price, quantity, fee, fee_asset, executed_at",
}


async def stored_rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the order path writes, as SQLite stores it, without the random ids."""
    rows = {}
    async with services.database.read_engine.connect() as connection:
        for table, columns in ROWS.items():
            result = await connection.exec_driver_sql(f"SELECT {columns} FROM {table} ORDER BY {columns}")
            rows[table] = [tuple(item) for item in result.all()]
    return rows


async def place_three(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    user, account_id = await trader(services)
    account = await services.orders.account(user, account_id)
    for side, quantity in ((OrderSide.BUY, "0.01"), (OrderSide.SELL, "0.004"), (OrderSide.BUY, "0.002")):
        request = OrderRequest("BTC/USDT", side, OrderType.MARKET, Decimal(quantity))
        assert (await services.orders.place(user, account, request)).status is OrderStatus.FILLED
    return await stored_rows(services)


async def test_queued_writes_store_what_direct_writes_store(
    tmp_path: Path, migrated_database: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = []
    for name, queue in (("queued", True), ("direct", False)):
        if not queue:
            # Without a queue on the driver connection, as on PostgreSQL, every write runs at once
            # through the session, which joins the transaction the prepared reads began.
            monkeypatch.delattr(InlineConnection, "defer")
            monkeypatch.delattr(OneHopConnection, "defer")
        (tmp_path / name).mkdir()
        shutil.copy(migrated_database, tmp_path / name / "test.db")
        clock.set(START)
        services = build_services(make_settings(tmp_path / name), clock=clock)
        await start_services(services)
        try:
            stored.append(await place_three(services))
        finally:
            await close_services(services)

    queued, direct = stored
    assert len(queued["paper_trades"]) == 3
    assert queued["account_holdings"] == [("BTC", "0.008")]
    assert queued == direct
