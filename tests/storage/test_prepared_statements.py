"""Prepared statements: stored and read as through a session, queued writes in order, in their transaction."""

from __future__ import annotations

import gc
import uuid
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import Column, MetaData, String, Table, Uuid, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from storage.db import Database
from storage.prepared import PreparedRead, PreparedWrite, read_many, read_now, write_later
from storage.types import DecimalText, UTCDateTime

ACCOUNT = uuid.UUID(int=7)
AT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
BALANCES = Table(
    "balances",
    MetaData(),
    Column("account_id", Uuid, primary_key=True),
    Column("asset", String(16), primary_key=True),
    Column("free", DecimalText),
    Column("at", UTCDateTime),
)
INSERT = PreparedWrite(insert(BALANCES))
UPDATE = PreparedWrite(
    update(BALANCES).where(
        BALANCES.c.account_id == bindparam("key_account"), BALANCES.c.asset == bindparam("key_asset")
    )
)
SELECT = PreparedRead(
    select(BALANCES.c.asset, BALANCES.c.free, BALANCES.c.at, BALANCES.c.account_id)
    .where(BALANCES.c.account_id == bindparam("account_id"))
    .order_by(BALANCES.c.asset)
)
DRIVERS = ["aiosqlite", "inline"]


def row(asset: str, free: str) -> dict[str, Any]:
    return {"account_id": ACCOUNT, "asset": asset, "free": Decimal(free), "at": AT}


async def make_database(path: Path, driver: str) -> Database:
    database = Database(f"sqlite+aiosqlite:///{path}", sqlite_driver=driver)
    async with database.write_engine.begin() as connection:
        await connection.run_sync(BALANCES.metadata.create_all)
    return database


@pytest.fixture(params=DRIVERS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    db = await make_database(tmp_path / "deferred.db", request.param)
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


async def stored_text(database: Database) -> list[tuple[Any, ...]]:
    """The rows as SQLite stores them, without SQLAlchemy's result processing."""
    async with database.read_engine.connect() as connection:
        result = await connection.exec_driver_sql(
            "SELECT account_id, asset, free, at FROM balances ORDER BY asset"
        )
        return [tuple(item) for item in result.all()]


async def test_queued_writes_are_seen_and_committed(database: Database) -> None:
    async with database.session(read_only=False) as session, session.begin():
        await write_later(session, INSERT, [row("BTC", "0.10000001"), row("USDT", "1000.5")])
        change = {"key_account": ACCOUNT, "key_asset": "BTC", "free": Decimal("2")}
        await write_later(session, UPDATE, [change])
        seen = (await session.execute(select(BALANCES.c.asset, BALANCES.c.free).order_by("asset"))).all()

    assert seen == [("BTC", Decimal("2")), ("USDT", Decimal("1000.5"))]
    assert [item[2] for item in await stored_text(database)] == ["2", "1000.5"]


async def test_rollback_drops_queued_writes(database: Database) -> None:
    async with database.session(read_only=False) as session:
        async with session.begin():
            await write_later(session, INSERT, [row("BTC", "1")])
            await session.rollback()
        # The same pooled connection runs the next transaction: the dropped write must not come back.
        async with session.begin():
            await write_later(session, INSERT, [row("ETH", "3")])

    assert [item[1] for item in await stored_text(database)] == ["ETH"]


async def test_constraint_error_ends_the_transaction(database: Database) -> None:
    async with database.session(read_only=False) as session, session.begin():
        await write_later(session, INSERT, [row("BTC", "1")])

    with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
        async with database.session(read_only=False) as session, session.begin():
            await write_later(session, INSERT, [row("ETH", "2")])
            await write_later(session, INSERT, [row("BTC", "5")])  # fails only when sent, at the commit

    assert [(item[1], item[2]) for item in await stored_text(database)] == [("BTC", "1")]


async def test_stored_as_session_execute_stores(tmp_path: Path) -> None:
    # The stock aiosqlite dialect has no queue, as PostgreSQL's drivers have none:
    # write_later executes at once there, through SQLAlchemy.
    queued = await make_database(tmp_path / "queued.db", "aiosqlite")
    stock_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    async with stock_engine.begin() as connection:
        await connection.run_sync(BALANCES.metadata.create_all)
    try:
        for target in (queued.write_engine, stock_engine):
            async with async_sessionmaker(target)() as session, session.begin():
                await write_later(session, INSERT, [row("BTC", "0.000000010"), row("USDT", "-12.5E+3")])
        async with stock_engine.connect() as connection:
            stock = (await connection.exec_driver_sql("SELECT * FROM balances ORDER BY asset")).all()

        assert await stored_text(queued) == [tuple(item) for item in stock]
        assert stock[0][2] == "0.00000001"
    finally:
        await stock_engine.dispose()
        await queued.dispose()


async def test_hops_of_write_transaction(
    tmp_path: Path, worker_calls: list[str]
) -> None:
    database = await make_database(tmp_path / "hops.db", "aiosqlite")
    try:
        async with database.session(read_only=False) as session, session.begin():
            worker_calls.clear()
            await write_later(session, INSERT, [row("BTC", "1")])
            await session.execute(select(BALANCES.c.asset))  # BEGIN, the insert and the read: one call
            await write_later(session, INSERT, [row("ETH", "2")])
        write_calls = list(worker_calls)

        async with database.session(read_only=True) as session:
            worker_calls.clear()
            async with session.begin():
                pass  # nothing executed: neither BEGIN nor ROLLBACK is sent
            empty_calls = list(worker_calls)

        assert write_calls == ["_run", "_commit"]
        assert empty_calls == []
        assert [item[1] for item in await stored_text(database)] == ["BTC", "ETH"]
    finally:
        await database.dispose()


async def test_streamed_read_sees_queued_writes(database: Database) -> None:
    async with database.session(read_only=False) as session, session.begin():
        await write_later(session, INSERT, [row("BTC", "1")])
        result = await session.stream(select(BALANCES.c.asset))
        assets = [item async for item in result.scalars()]

    assert assets == ["BTC"]


async def test_prepared_write_refuses_unbound_names(database: Database) -> None:
    async with database.session(read_only=False) as session, session.begin():
        with pytest.raises(ValueError, match="binds"):
            await write_later(session, UPDATE, [{"key_account": ACCOUNT, "key_asset": "BTC", "nope": 1}])


async def test_read_decodes_as_session_does(database: Database) -> None:
    async with database.session(read_only=False) as session, session.begin():
        await session.execute(insert(BALANCES), [row("BTC", "0.00000001"), row("USDT", "-12.5")])

    async with database.session(read_only=True) as session, session.begin():
        prepared = await read_now(session, SELECT, {"account_id": ACCOUNT})
        result = await session.execute(SELECT.statement, {"account_id": ACCOUNT})
        through_session = [tuple(item) for item in result]
        nobody = await read_now(session, SELECT, {"account_id": uuid.UUID(int=8)})

    assert prepared == through_session
    assert prepared[0] == ("BTC", Decimal("0.00000001"), AT, ACCOUNT)
    assert nobody == []


async def test_read_sees_queued_writes_first(database: Database) -> None:
    async with database.session(read_only=False) as session, session.begin():
        await write_later(session, INSERT, [row("BTC", "1")])
        change = {"key_account": ACCOUNT, "key_asset": "BTC", "free": Decimal("4")}
        await write_later(session, UPDATE, [change])
        seen = await read_now(session, SELECT, {"account_id": ACCOUNT})

    assert [(asset, free) for asset, free, _at, _account in seen] == [("BTC", Decimal("4"))]


async def test_read_error_is_sqlalchemy_error(database: Database) -> None:
    async with database.session(read_only=False) as session, session.begin():
        await write_later(session, INSERT, [row("BTC", "1")])
        await write_later(session, INSERT, [row("BTC", "2")])
        with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
            await read_now(session, SELECT, {"account_id": ACCOUNT})


async def test_read_without_driver_support_goes_through_session(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(BALANCES.metadata.create_all)
        async with async_sessionmaker(engine)() as session, session.begin():
            await write_later(session, INSERT, [row("ETH", "2.50")])
            rows = await read_now(session, SELECT, {"account_id": ACCOUNT})

        assert rows == [("ETH", Decimal("2.5"), AT, ACCOUNT)]
    finally:
        await engine.dispose()


async def test_read_many_after_queued_writes(database: Database) -> None:
    other = uuid.UUID(int=8)
    async with database.session(read_only=False) as session, session.begin():
        await write_later(session, INSERT, [row("BTC", "1"), {**row("ETH", "2"), "account_id": other}])
        mine, theirs, nobody = await read_many(
            session,
            [
                (SELECT, {"account_id": ACCOUNT}),
                (SELECT, {"account_id": other}),
                (SELECT, {"account_id": uuid.UUID(int=9)}),
            ],
        )

    assert mine == [("BTC", Decimal("1"), AT, ACCOUNT)]
    assert theirs == [("ETH", Decimal("2"), AT, other)]
    assert nobody == []


async def test_read_many_is_one_worker_call(tmp_path: Path, worker_calls: list[str]) -> None:
    database = await make_database(tmp_path / "many.db", "aiosqlite")
    try:
        async with database.session(read_only=True) as session, session.begin():
            await read_now(session, SELECT, {"account_id": ACCOUNT})  # opens the read connection
        async with database.session(read_only=True) as session, session.begin():
            worker_calls.clear()
            results = await read_many(session, [(SELECT, {"account_id": ACCOUNT})] * 3)
            calls = list(worker_calls)

        assert results == [[], [], []]
        assert calls == ["_fetch_many"]
    finally:
        await database.dispose()


async def test_read_many_without_driver_support(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(BALANCES.metadata.create_all)
        async with async_sessionmaker(engine)() as session, session.begin():
            await write_later(session, INSERT, [row("ETH", "2.50")])
            first, second = await read_many(session, [(SELECT, {"account_id": ACCOUNT})] * 2)

        assert first == second == [("ETH", Decimal("2.5"), AT, ACCOUNT)]
    finally:
        await engine.dispose()


async def test_session_freed_without_collector(database: Database) -> None:
    # A cycle through the session would keep every unit of work alive until a full garbage
    # collection, which then takes about a tenth of a second with thousands of them.
    gc.collect()
    gc.disable()
    try:
        session = database.session(read_only=False)
        async with session, session.begin():
            await write_later(session, INSERT, [row("BTC", "1")])
            await read_now(session, SELECT, {"account_id": ACCOUNT})
        freed = weakref.ref(session.sync_session)
        del session

        assert freed() is None
    finally:
        gc.enable()
