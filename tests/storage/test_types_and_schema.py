"""Exact Decimal and UTC columns, migrations and SQLite settings on a real database file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from engine.common.ids import new_id
from engine.exchanges.paper.ledger import PaperBalance
from storage.db import Database
from storage.migrate import head_revision, upgrade_to_head
from storage.models import PaperBalanceRow, UserRow
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import make_settings


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    await upgrade_to_head(db)
    yield db
    await db.dispose()


async def insert_account(db: Database) -> object:
    user_id, account_id = new_id(), new_id()
    now = datetime.now(UTC)
    async with db.session(read_only=False) as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO users (id, telegram_id, username, username_lower, first_name, language,"
                " risk_profile, status, timezone, permissions, created_at, updated_at)"
                " VALUES (:id, 1, 'u', 'u', '', 'en', 'MEDIUM', 'ACTIVE', 'UTC', 'trade', :now, :now)"
            ),
            {"id": user_id.hex, "now": now.replace(tzinfo=None)},
        )
        await session.execute(
            text(
                "INSERT INTO accounts (id, user_id, exchange, name, is_testnet, is_active, is_default,"
                " created_at, updated_at) VALUES (:id, :user, 'PAPER', 'Paper', 0, 1, 1, :now, :now)"
            ),
            {"id": account_id.hex, "user": user_id.hex, "now": now.replace(tzinfo=None)},
        )
    return account_id


VALUES = ["0", "0.1", "1E-18", "123456789012345.123456789012345678", "43472.87", "0.00000001", "1E+20"]


@pytest.mark.parametrize("value", VALUES)
async def test_decimal_round_trip_is_exact(database: Database, value: str) -> None:
    account_id = await insert_account(database)
    async with database.session(read_only=False) as session, session.begin():
        session.add(
            PaperBalanceRow(account_id=account_id, asset="USDT", free=Decimal(value), locked=Decimal(0))
        )
    async with database.session(read_only=True) as session:
        row = await session.get(PaperBalanceRow, (account_id, "USDT"))
        raw = (await session.execute(text("SELECT free FROM paper_balances"))).scalar_one()
    assert row is not None
    assert row.free == Decimal(value)
    assert isinstance(raw, str) and "E" not in raw


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e15"), max_value=Decimal("1e15"))
)
def test_decimal_round_trip_property(tmp_path_factory: pytest.TempPathFactory, value: Decimal) -> None:
    async def scenario() -> Decimal:
        db = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")
        await upgrade_to_head(db)
        account_id = await insert_account(db)
        async with db.session(read_only=False) as session, session.begin():
            session.add(PaperBalanceRow(account_id=account_id, asset="X", free=value, locked=Decimal(0)))
        async with db.session(read_only=True) as session:
            row = await session.get(PaperBalanceRow, (account_id, "X"))
        await db.dispose()
        assert row is not None
        return row.free

    assert asyncio.run(scenario()) == value


async def test_float_is_refused_by_decimal_column(database: Database) -> None:
    account_id = await insert_account(database)
    with pytest.raises(Exception, match="needs a Decimal"):
        async with database.session(read_only=False) as session, session.begin():
            session.add(PaperBalanceRow(account_id=account_id, asset="USDT", free=0.1, locked=Decimal(0)))


async def test_timestamps_come_back_utc_aware(database: Database) -> None:
    moscow = timezone(timedelta(hours=3))
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=moscow)
    user_id = new_id()
    async with database.session(read_only=False) as session, session.begin():
        session.add(_user_row(user_id, moment))
    async with database.session(read_only=True) as session:
        row = await session.get(UserRow, user_id)
    assert row is not None
    assert row.created_at == moment
    assert row.created_at.tzinfo is UTC
    assert row.created_at.hour == 9


async def test_naive_timestamp_is_refused(database: Database) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        async with database.session(read_only=False) as session, session.begin():
            session.add(_user_row(new_id(), datetime(2026, 3, 1, 12, 0)))


def _user_row(user_id: object, moment: datetime) -> UserRow:
    return UserRow(
        id=user_id,
        telegram_id=7,
        username="tz",
        username_lower="tz",
        first_name="",
        language="en",
        risk_profile="MEDIUM",
        status="ACTIVE",
        timezone="UTC",
        permissions="trade",
        created_at=moment,
        updated_at=moment,
    )


async def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(database: Database) -> None:
    # The inline writer waits for locks with asyncio sleeps, so SQLite's own timeout is 0 there.
    for engine, busy_timeout in ((database.write_engine, 0), (database.read_engine, 5000)):
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await connection.exec_driver_sql("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar() == busy_timeout


async def test_read_only_sessions_cannot_write(database: Database) -> None:
    with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
        async with database.session(read_only=True) as session:
            await session.execute(text("DELETE FROM users"))


async def test_upgrade_is_idempotent_and_reaches_head(database: Database) -> None:
    assert await upgrade_to_head(database) == head_revision()
    async with database.read_engine.connect() as connection:
        tables = {row[0] for row in await connection.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert {"users", "accounts", "orders", "fills", "order_drafts", "audit_log", "paper_balances"} <= tables


async def test_nested_write_unit_of_work_fails_loudly(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    db = Database(settings.database.database_url)
    await upgrade_to_head(db)
    uow = SqlUnitOfWorkFactory(db)
    with pytest.raises(RuntimeError, match="nested write unit of work"):
        async with uow(), uow():
            pass
    async with uow() as reusable:  # the lock was released
        await reusable.commit()
    await db.dispose()


async def test_concurrent_writers_never_see_database_is_locked(database: Database) -> None:
    uow = SqlUnitOfWorkFactory(database)
    account_id = await insert_account(database)

    async def deposit(index: int) -> None:
        async with uow() as unit:
            balances = await unit.paper.get_balances(account_id, for_update=True)
            current = balances.get("USDT")
            total = (current.free if current else Decimal(0)) + Decimal("0.01")
            await unit.paper.save_balance(account_id, PaperBalance("USDT", total))
            await unit.commit()

    async def read() -> None:
        async with uow(read_only=True) as unit:
            await unit.paper.get_balances(account_id)

    await asyncio.gather(*(deposit(i) for i in range(200)), *(read() for _ in range(200)))
    async with uow(read_only=True) as unit:
        balances = await unit.paper.get_balances(account_id)
    assert balances["USDT"].free == Decimal("2.00")


@pytest.mark.parametrize("value", [Decimal("Infinity"), Decimal("-Infinity")])
def test_decimal_text_infinity_only_where_allowed(value: Decimal) -> None:
    from sqlalchemy.dialects import sqlite

    from storage.types import DecimalText

    dialect = sqlite.dialect()
    with pytest.raises(ValueError, match="not a finite decimal"):
        DecimalText().process_bind_param(value, dialect)

    allowing = DecimalText(allow_infinite=True)
    stored = allowing.process_bind_param(value, dialect)
    assert allowing.process_result_value(stored, dialect) == value
    with pytest.raises(ValueError, match="not a finite decimal"):
        allowing.process_bind_param(Decimal("NaN"), dialect)
