"""Units of work without a session on the inline driver, and a late session in the same transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, Uuid, event, insert, select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError

from storage import direct
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.prepared import PreparedRead, PreparedWrite, read_now, write_later
from storage.types import DecimalText
from storage.uow import SqlUnitOfWork

ACCOUNT = uuid.UUID(int=7)
NOTES = Table(
    "direct_notes",
    MetaData(),
    Column("account_id", Uuid, primary_key=True),
    Column("asset", String(16), primary_key=True),
    Column("free", DecimalText),
)
INSERT = PreparedWrite(insert(NOTES))
SELECT = PreparedRead(select(NOTES.c.asset, NOTES.c.free).order_by(NOTES.c.asset))


def note(asset: str, free: str) -> dict[str, Any]:
    return {"account_id": ACCOUNT, "asset": asset, "free": Decimal(free)}


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}", sqlite_driver="inline")
    await upgrade_to_head(db)
    async with db.write_engine.begin() as connection:
        await connection.run_sync(NOTES.metadata.create_all)
    yield db
    await db.dispose()


async def stored(database: Database) -> list[tuple[str, Decimal]]:
    async with SqlUnitOfWork(database, read_only=True) as uow:
        return [(row.asset, row.free) for row in await read_now(uow.session, SELECT, {})]


def session_begins(database: Database) -> list[object]:
    """Record each transaction SQLAlchemy begins on either engine."""
    begins: list[object] = []
    for engine in (database.write_engine, database.read_engine):
        event.listen(engine.sync_engine, "begin", begins.append)
    return begins


async def test_prepared_statements_alone_begin_without_a_session(database: Database) -> None:
    begins = session_begins(database)
    before = direct.direct_begins[0]

    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("BTC", "1.5")])
        await uow.commit()

    assert await stored(database) == [("BTC", Decimal("1.5"))]
    assert direct.direct_begins[0] - before == 2
    assert begins == []


def test_inline_file_database_goes_direct(tmp_path: Path) -> None:
    assert Database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}").direct_transactions is True


def test_aiosqlite_driver_keeps_sessions(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", sqlite_driver="aiosqlite")
    assert db.direct_transactions is False


async def test_late_session_sees_the_queued_write(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("BTC", "1.5")])
        seen = (await uow.session.execute(text("SELECT free FROM direct_notes"))).scalar_one()
        await uow.session.execute(insert(NOTES).values(note("ETH", "2")))
        await uow.commit()

    assert seen == "1.5"
    assert await stored(database) == [("BTC", Decimal("1.5")), ("ETH", Decimal("2"))]


async def test_prepared_write_after_the_session_joins_its_transaction(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await uow.session.execute(insert(NOTES).values(note("ETH", "2")))
        await write_later(uow.session, INSERT, [note("BTC", "1.5")])
        await uow.commit()

    assert await stored(database) == [("BTC", Decimal("1.5")), ("ETH", Decimal("2"))]


async def test_write_after_session_commit_kept(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("BTC", "1")])
        await uow.session.execute(insert(NOTES).values(note("ETH", "2")))
        await uow.commit()
        await write_later(uow.session, INSERT, [note("SOL", "3")])
        await uow.commit()

    assert [asset for asset, _ in await stored(database)] == ["BTC", "ETH", "SOL"]


async def test_error_before_commit_keeps_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError, match="midway"):
        async with SqlUnitOfWork(database) as uow:
            await write_later(uow.session, INSERT, [note("BTC", "1")])
            await uow.session.execute(insert(NOTES).values(note("ETH", "2")))
            await write_later(uow.session, INSERT, [note("SOL", "3")])
            raise RuntimeError("midway")

    assert await stored(database) == []


async def test_next_unit_of_work_starts_clean(database: Database) -> None:
    with pytest.raises(RuntimeError, match="midway"):
        async with SqlUnitOfWork(database) as uow:
            await write_later(uow.session, INSERT, [note("BTC", "1")])
            await read_now(uow.session, SELECT, {})
            raise RuntimeError("midway")

    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("ETH", "2")])
        await uow.commit()

    assert await stored(database) == [("ETH", Decimal("2"))]


async def test_rollback_drops_prepared_and_session_writes(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("BTC", "1")])
        await uow.session.execute(insert(NOTES).values(note("ETH", "2")))
        await uow.rollback()
        await write_later(uow.session, INSERT, [note("SOL", "3")])
        await uow.commit()

    assert await stored(database) == [("SOL", Decimal("3"))]


async def test_queued_duplicate_fails_commit(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with SqlUnitOfWork(database) as uow:
            await write_later(uow.session, INSERT, [note("BTC", "1"), note("BTC", "2")])
            await uow.commit()

    assert await stored(database) == []


async def test_reads_wait_for_full_pool(database: Database) -> None:
    pool = database.read_engine.sync_engine.pool
    limit = pool.size() + pool._max_overflow  # type: ignore[attr-defined]
    release = asyncio.Event()
    inside = 0

    async def hold() -> int:
        nonlocal inside
        async with SqlUnitOfWork(database, read_only=True) as uow:
            rows = await read_now(uow.session, SELECT, {})
            inside += 1
            await release.wait()
        return len(rows)

    tasks = [asyncio.create_task(hold()) for _ in range(limit + 3)]
    while inside < limit:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    waiting = inside
    release.set()

    assert await asyncio.gather(*tasks) == [0] * (limit + 3)
    assert waiting == limit


async def test_invalidated_connection_fails_the_commit(database: Database) -> None:
    with pytest.raises(InvalidRequestError, match="invalidated"):
        async with SqlUnitOfWork(database) as uow:
            await write_later(uow.session, INSERT, [note("BTC", "1")])
            await read_now(uow.session, SELECT, {})
            uow.session.transaction._pooled.invalidate()  # as SQLAlchemy does after a lost connection
            await uow.commit()

    assert await stored(database) == []


async def test_rollback_after_invalidation_succeeds(database: Database) -> None:
    async with SqlUnitOfWork(database) as uow:
        await write_later(uow.session, INSERT, [note("BTC", "1")])
        await read_now(uow.session, SELECT, {})
        uow.session.transaction._pooled.invalidate()
        await uow.rollback()

    assert await stored(database) == []
