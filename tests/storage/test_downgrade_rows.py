"""Down to an older revision and back up: the tables that survive keep every row, and every key resolves."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import downgrade_to, upgrade_to_head
from tests.harness import BotHarness
from tests.security.support import build_victim, database_path


def row_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as raw:
        names = [
            name
            for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_") and name != "alembic_version"
        ]
        return {name: raw.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


@pytest.mark.parametrize("revision", ["0007", "0005", "0003", "0001"])
async def test_down_and_up_keep_the_rows_of_surviving_tables(harness: BotHarness, revision: str) -> None:
    await build_victim(harness)  # accounts, orders, fills, a TWAP, a bracket, a plan
    path = database_path(harness.services)
    await harness.services.database.dispose()
    before = row_counts(path)
    assert before["orders"] > 0
    assert before["fills"] > 0
    assert before["accounts"] > 0

    database = Database(f"sqlite+aiosqlite:///{path}")
    await downgrade_to(database, revision)
    kept = row_counts(path)
    await upgrade_to_head(database)
    await database.dispose()

    after = row_counts(path)
    assert {name: kept[name] for name in kept} == {name: before[name] for name in kept}
    assert {name: after[name] for name in kept} == {name: before[name] for name in kept}
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
