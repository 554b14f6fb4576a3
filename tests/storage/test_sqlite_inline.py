"""The inline SQLite dialect: the same results as aiosqlite, and waits for other processes off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

from engine.admin.audit import AuditEntry
from engine.common.ids import new_id
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.sqlite_inline import CHECKPOINT_EVERY_COMMITS
from storage.uow import SqlUnitOfWorkFactory


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}", busy_timeout_ms=2000, sqlite_driver="inline"
    )
    await upgrade_to_head(db)
    yield db
    await db.dispose()


async def count_users(db: Database) -> int:
    async with db.read_engine.connect() as connection:
        return int((await connection.exec_driver_sql("SELECT count(*) FROM users")).scalar_one())


@pytest.mark.parametrize("driver", ["inline", "aiosqlite"])
async def test_both_drivers_read_what_the_other_wrote(tmp_path: Path, driver: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    writer = Database(url, sqlite_driver=driver)
    reader = Database(url, sqlite_driver="aiosqlite" if driver == "inline" else "inline")
    await upgrade_to_head(writer)
    async with writer.session(read_only=False) as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO users (id, telegram_id, username, username_lower, first_name, language,"
                " risk_profile, status, timezone, permissions, created_at, updated_at) VALUES"
                " ('00000000000000000000000000000001', 7, 'u', 'u', '', 'en', 'MEDIUM', 'ACTIVE', 'UTC',"
                " 'trade', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    assert await count_users(reader) == 1
    await writer.dispose()
    await reader.dispose()


async def test_writer_waits_for_another_process_without_blocking_the_loop(database: Database) -> None:
    other = sqlite3.connect(str(database.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    started = time.monotonic()
    async with SqlUnitOfWorkFactory(database)() as uow:
        await uow.users.get_by_telegram_id(7)  # the first statement begins the transaction
        await uow.commit()
    waited = time.monotonic() - started
    ticker.cancel()
    other.close()

    assert waited >= 0.25  # it did wait for the lock
    assert ticks >= 10  # and the loop kept running meanwhile


async def test_writer_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}", busy_timeout_ms=100, sqlite_driver="inline"
    )
    await upgrade_to_head(db)
    other = sqlite3.connect(str(db.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Exception, match="database is locked"):
            async with SqlUnitOfWorkFactory(db)() as uow:
                await uow.users.get_by_telegram_id(7)
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.dispose()


async def test_inline_writer_leaves_waiting_to_begin_immediate(database: Database) -> None:
    # SQLite's busy handler would sleep on the loop's thread, so only the reader uses it.
    for engine, busy_timeout in ((database.write_engine, 0), (database.read_engine, 2000)):
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 0
            assert (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar() == busy_timeout


def test_inline_is_the_default_driver(tmp_path: Path) -> None:
    assert Database(f"sqlite+aiosqlite:///{tmp_path / 'default.db'}").is_inline is True


def test_aiosqlite_driver_on_request(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}", sqlite_driver="aiosqlite")

    assert db.is_inline is False
    assert db.checkpointer is None
    # aiosqlite, through the dialect that runs each statement in one call on its thread.
    assert db.write_engine.dialect.driver == "patriot_aiosqlite"
    assert isinstance(db.write_engine.dialect, SQLiteDialect_aiosqlite)


def test_unknown_driver_is_rejected() -> None:
    with pytest.raises(ValueError, match="sqlite_driver"):
        Database("sqlite+aiosqlite:///x.db", sqlite_driver="pysqlite")


async def test_checkpoint_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}", sqlite_driver="inline")
    await upgrade_to_head(db)
    assert db.checkpointer is not None
    uow = SqlUnitOfWorkFactory(db)
    for index in range(CHECKPOINT_EVERY_COMMITS):
        async with uow() as unit:
            await unit.audit.add(AuditEntry(new_id(), 1, f"bench.{index}", datetime.now(UTC)))
            await unit.commit()
    await db.checkpointer.close()  # waits for the checkpoint the last commit started

    # The database file alone, without its WAL, holds every row.
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "wal.db").read_bytes())
    reader = sqlite3.connect(copy)
    assert reader.execute("SELECT count(*) FROM audit_log").fetchone()[0] == CHECKPOINT_EVERY_COMMITS
    reader.close()
    await db.dispose()
