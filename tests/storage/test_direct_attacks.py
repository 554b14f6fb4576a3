"""Direct transactions under faults: failed commits, cancellation, a busy database, a full pool.

After each fault the next unit of work must find the pool clean: the write lock free, no
connection left in a transaction, and nothing of the failed unit of work stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.db import Database
from storage.migrate import _stored_revision, head_revision, upgrade_to_head
from storage.prepared import read_now, write_later
from storage.uow import KeptRead, SqlUnitOfWork
from tests.storage.test_direct_transactions import INSERT, NOTES, SELECT, note, stored


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'attacks.db'}"
    db = Database(url, sqlite_driver="inline", busy_timeout_ms=300)
    await upgrade_to_head(db)
    async with db.write_engine.begin() as connection:
        await connection.run_sync(NOTES.metadata.create_all)
    yield db
    await db.dispose()


def other_writer(database: Database) -> sqlite3.Connection:
    """Another process's connection holding SQLite's write lock."""
    other = sqlite3.connect(str(database.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def assert_pool_clean(database: Database) -> None:
    assert database.write_lock is not None
    assert not database.write_lock.locked()
    for engine in (database.write_engine, database.read_engine):
        pool = engine.sync_engine.pool
        assert pool.checkedout() == 0
        # Take every free connection (no wait) and check that none is still in a transaction.
        free_connections = [pool.connect() for _ in range(pool.checkedin())]
        open_ones = [pooled for pooled in free_connections if pooled.driver_connection.in_transaction]
        for pooled in free_connections:
            pooled.close()
        assert open_ones == []


async def assert_next_write_works(database: Database, committed: list[str]) -> None:
    assert_pool_clean(database)
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("NEXT", "9")])
        await uow.commit()
    assert [asset for asset, _ in await stored(database)] == sorted([*committed, "NEXT"])


async def test_commit_after_failed_commit_keeps_nothing(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("BTC", "1")])
        await write_later(uow.session, INSERT, [note("BTC", "2")])
        with pytest.raises(IntegrityError):
            await uow.commit()
        await uow.commit()  # a caller that goes on after the error

    await assert_next_write_works(database, [])


async def test_session_after_failed_commit_starts_afresh(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("BTC", "1")])
        await write_later(uow.session, INSERT, [note("BTC", "2")])
        with pytest.raises(IntegrityError):
            await uow.commit()
        await uow.session.execute(insert(NOTES).values(note("ETH", "3")))
        await uow.commit()

    await assert_next_write_works(database, ["ETH"])


async def test_failed_session_commit_keeps_nothing(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with SqlUnitOfWork(database) as uow:
            await write_later(uow.session, INSERT, [note("BTC", "1")])
            await uow.session.execute(text("SELECT 1"))
            await write_later(uow.session, INSERT, [note("ETH", "1"), note("ETH", "2")])
            await uow.commit()

    await assert_next_write_works(database, [])


async def write_prepared(uow: SqlUnitOfWork) -> None:
    await write_later(uow.session, INSERT, [note("BTC", "1")])


async def write_orm(uow: SqlUnitOfWork) -> None:
    await uow.session.execute(insert(NOTES).values(note("BTC", "1")))


FIRST_WRITES = [pytest.param(write_prepared, id="prepared"), pytest.param(write_orm, id="session")]


@pytest.mark.parametrize("first_write", FIRST_WRITES)
async def test_busy_database_raises_operational_error(
    database: Database, first_write: Callable[[SqlUnitOfWork], Awaitable[None]]
) -> None:
    other = other_writer(database)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            async with SqlUnitOfWork(database) as uow:
                await first_write(uow)
    finally:
        other.rollback()
        other.close()

    await assert_next_write_works(database, [])


@pytest.mark.parametrize("first_write", FIRST_WRITES)
async def test_cancel_during_busy_retries(
    database: Database, first_write: Callable[[SqlUnitOfWork], Awaitable[None]]
) -> None:
    other = other_writer(database)
    entered = asyncio.Event()

    async def write() -> None:
        async with SqlUnitOfWork(database) as uow:
            entered.set()
            await first_write(uow)
            await uow.commit()

    task = asyncio.create_task(write())
    await entered.wait()
    await asyncio.sleep(0.05)  # inside begin_immediate's retries
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other.rollback()
    other.close()

    await assert_next_write_works(database, [])


async def test_cancel_during_late_session_begin(database: Database) -> None:
    other = sqlite3.connect(str(database.url.database), isolation_level=None)
    waiting = asyncio.Event()

    async def write() -> None:
        async with SqlUnitOfWork(database) as uow:
            await write_later(uow.session, INSERT, [note("BTC", "1")])
            await uow.commit()
            other.execute("BEGIN IMMEDIATE")
            waiting.set()
            await uow.session.execute(insert(NOTES).values(note("ETH", "2")))
            await uow.commit()

    task = asyncio.create_task(write())
    await waiting.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other.rollback()
    other.close()

    await assert_next_write_works(database, ["BTC"])


async def hold_read(database: Database, release: asyncio.Event, inside: list[int]) -> None:
    """Keep a read unit of work, and its connection, until release is set."""
    async with SqlUnitOfWork(database, read_only=True) as uow:
        await read_now(uow.session, SELECT, {})
        inside.append(1)
        await release.wait()


async def hold_reads(database: Database, count: int, release: asyncio.Event) -> list[asyncio.Task[None]]:
    inside: list[int] = []
    tasks = [asyncio.create_task(hold_read(database, release, inside)) for _ in range(count)]
    while len(inside) < count:
        await asyncio.sleep(0.01)
    return tasks


async def test_cancel_while_waiting_for_pool(database: Database) -> None:
    pool = database.read_engine.sync_engine.pool
    release = asyncio.Event()
    holders = await hold_reads(database, pool.size() + pool._max_overflow, release)  # type: ignore[attr-defined]
    waiter = asyncio.create_task(hold_read(database, asyncio.Event(), []))
    await asyncio.sleep(0.05)  # waiting in the pool's queue

    waiter.cancel()
    release.set()
    await asyncio.gather(*holders)
    with pytest.raises(asyncio.CancelledError):
        await waiter

    await assert_next_write_works(database, [])


async def test_read_after_full_pool_frees_one(database: Database) -> None:
    # With every overflow connection taken, the pool's get blocks: a free connection must
    # still come without an await, as DirectTransaction._checkout expects.
    pool = database.read_engine.sync_engine.pool
    release = asyncio.Event()
    holders = await hold_reads(database, pool.size() + pool._max_overflow - 1, release)  # type: ignore[attr-defined]
    last = asyncio.Event()
    holders += await hold_reads(database, 1, last)
    last.set()
    await holders[-1]

    async with SqlUnitOfWork(database, read_only=True) as uow:
        assert await read_now(uow.session, SELECT, {}) == []
    release.set()
    await asyncio.gather(*holders)

    await assert_next_write_works(database, [])


async def test_prepared_and_session_interleaved(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("A", "1")])
        await uow.session.execute(insert(NOTES).values(note("B", "2")))
        assert [row.asset for row in await read_now(uow.session, SELECT, {})] == ["A", "B"]
        await uow.rollback()
        await write_later(uow.session, INSERT, [note("C", "3")])
        assert (await uow.session.execute(text("SELECT count(*) FROM direct_notes"))).scalar_one() == 1
        await uow.commit()
        await uow.session.execute(insert(NOTES).values(note("D", "4")))
        await write_later(uow.session, INSERT, [note("E", "5")])
        await uow.commit()
        await uow.commit()
        await write_later(uow.session, INSERT, [note("F", "6")])
        await uow.rollback()
        await uow.session.execute(insert(NOTES).values(note("G", "7")))  # never committed

    await assert_next_write_works(database, ["C", "D", "E"])


async def test_kept_read_ends_before_write(database: Database) -> None:
    async with KeptRead.scope():
        with KeptRead.next_read():
            async with SqlUnitOfWork(database, read_only=True) as kept:
                await read_now(kept.session, SELECT, {})
                await kept.session.execute(text("SELECT 1"))
        async with SqlUnitOfWork(database, read_only=True) as uow:
            assert uow.session is kept.session
            assert await read_now(uow.session, SELECT, {}) == []
        with KeptRead.next_read():
            async with SqlUnitOfWork(database, read_only=True) as kept:
                await read_now(kept.session, SELECT, {})
        async with SqlUnitOfWork(database) as uow:
            await write_later(uow.session, INSERT, [note("A", "1")])
            await uow.commit()
        assert database.read_engine.sync_engine.pool.checkedout() == 0

    await assert_next_write_works(database, ["A"])


async def test_dispose_with_open_unit_of_work(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("A", "1")])
        await uow.session.execute(text("SELECT 1"))
        await database.dispose()
        await uow.commit()

    await assert_next_write_works(database, ["A"])


async def test_locked_database_is_not_unversioned(database: Database) -> None:
    other = other_writer(database)
    try:
        async with database.write_engine.connect() as connection:
            with pytest.raises(OperationalError, match="database is locked"):
                await connection.run_sync(_stored_revision)
    finally:
        other.rollback()
        other.close()

    assert await upgrade_to_head(database) == head_revision()
