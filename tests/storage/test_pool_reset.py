"""Connections returned to the pool: rolled back only while a transaction is still open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.sqlite_inline import InlineConnection
from storage.sqlite_one_hop import OneHopConnection
from storage.uow import SqlUnitOfWork


def open_transaction_on_driver(sync_connection: Any) -> None:
    """Start a transaction SQLAlchemy does not know about, and write in it."""
    cursor = sync_connection.connection.dbapi_connection.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    cursor.execute("CREATE TABLE probe (x INTEGER)")
    cursor.close()


async def probe_exists(database: Database) -> bool:
    async with database.read_engine.connect() as connection:
        result = await connection.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'probe'")
        return bool(result.scalar_one())


@pytest.mark.parametrize("driver", ["aiosqlite", "inline"])
async def test_pool_rolls_back_open_transaction(tmp_path: Path, driver: str) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}", sqlite_driver=driver)
    try:
        async with database.write_engine.connect() as connection:
            await connection.run_sync(open_transaction_on_driver)

        assert not await probe_exists(database)
        # The same pooled connection again: BEGIN would fail if its transaction were still open.
        async with database.write_engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE after_reset (x INTEGER)")
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("driver", "connection_class"), [("aiosqlite", OneHopConnection), ("inline", InlineConnection)]
)
async def test_read_unit_of_work_rolls_back_once(
    tmp_path: Path, driver: str, connection_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}", sqlite_driver=driver)
    rollbacks = []
    original = connection_class.rollback

    def counted_rollback(self: Any) -> None:
        rollbacks.append(self)
        original(self)

    try:
        await upgrade_to_head(database)
        async with SqlUnitOfWork(database, read_only=True) as uow:
            await uow.users.get_by_telegram_id(1)  # the first connection, whose set-up rolls back once more
        monkeypatch.setattr(connection_class, "rollback", counted_rollback)
        for _ in range(3):
            async with SqlUnitOfWork(database, read_only=True) as uow:
                assert await uow.users.get_by_telegram_id(1) is None
        assert len(rollbacks) == 3
    finally:
        await database.dispose()
