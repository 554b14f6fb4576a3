"""The one-hop aiosqlite dialect: the stock adapter's results with one worker-thread call per statement."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiosqlite.core
import pytest
from sqlalchemy import Column, MetaData, String, Table, Uuid, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.types import DecimalText

ACCOUNT = uuid.UUID(int=7)
BALANCES = Table(
    "balances",
    MetaData(),
    Column("account_id", Uuid, primary_key=True),
    Column("asset", String(16), primary_key=True),
    Column("free", DecimalText),
    Column("locked", DecimalText),
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}", sqlite_driver="aiosqlite")
    async with db.write_engine.begin() as connection:
        await connection.run_sync(BALANCES.metadata.create_all)
        await connection.execute(
            insert(BALANCES),
            [
                {"account_id": ACCOUNT, "asset": "BTC", "free": Decimal("0.10000001"), "locked": Decimal(0)},
                {"account_id": ACCOUNT, "asset": "USDT", "free": Decimal("1000.5"), "locked": Decimal(1)},
            ],
        )
    yield db
    await db.dispose()


@pytest.fixture
def worker_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions handed to aiosqlite's worker thread."""
    calls: list[str] = []
    original = aiosqlite.core.Connection._execute

    async def counting(self: aiosqlite.core.Connection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return calls


async def test_select_returns_exact_decimals(database: Database) -> None:
    statement = select(BALANCES.c.asset, BALANCES.c.free).order_by(BALANCES.c.asset)

    async with database.read_engine.connect() as connection:
        rows = (await connection.execute(statement)).all()

    assert rows == [("BTC", Decimal("0.10000001")), ("USDT", Decimal("1000.5"))]


async def test_select_is_one_worker_call(database: Database, worker_calls: list[str]) -> None:
    async with database.read_engine.connect() as connection:
        await connection.execute(select(BALANCES.c.asset))
        worker_calls.clear()
        rows = (await connection.execute(select(BALANCES.c.asset))).all()
        statement_calls = list(worker_calls)

    assert len(rows) == 2
    assert statement_calls == ["_run"]


async def test_update_reports_rowcount(database: Database) -> None:
    key = BALANCES.c.asset == bindparam("key")
    statement = update(BALANCES).where(key).values(locked=bindparam("locked"))

    async with database.write_engine.begin() as connection:
        one = await connection.execute(statement, {"key": "BTC", "locked": Decimal("0.5")})
        none = await connection.execute(statement, {"key": "ETH", "locked": Decimal("0.5")})

    assert one.rowcount == 1
    assert none.rowcount == 0


async def test_executemany_updates_every_row(database: Database, worker_calls: list[str]) -> None:
    statement = update(BALANCES).where(BALANCES.c.asset == bindparam("key")).values(free=bindparam("free"))

    async with database.write_engine.begin() as connection:
        worker_calls.clear()
        await connection.execute(
            statement, [{"key": "BTC", "free": Decimal("1.5")}, {"key": "USDT", "free": Decimal("2.25")}]
        )
        statement_calls = list(worker_calls)

    async with database.read_engine.connect() as connection:
        rows = dict((await connection.execute(select(BALANCES.c.asset, BALANCES.c.free))).all())
    assert statement_calls == ["_run"]
    assert rows == {"BTC": Decimal("1.5"), "USDT": Decimal("2.25")}


async def test_constraint_error_is_sqlalchemy_integrity_error(database: Database) -> None:
    duplicate = {"account_id": ACCOUNT, "asset": "BTC", "free": Decimal(0), "locked": Decimal(0)}

    async with database.write_engine.begin() as connection:
        with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
            await connection.execute(insert(BALANCES), duplicate)


async def test_driver_sql_without_parameters(database: Database) -> None:
    async with database.read_engine.connect() as connection:
        count = (await connection.exec_driver_sql("SELECT count(*) FROM balances")).scalar_one()
        names = (await connection.execute(text("SELECT asset FROM balances ORDER BY asset"))).scalars()

        assert count == 2
        assert list(names) == ["BTC", "USDT"]
