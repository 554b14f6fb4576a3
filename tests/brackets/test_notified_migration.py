"""Migration 0008 marks existing orders and brackets as notified, so an upgrade sends no old messages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sqlalchemy import text

from bot.scheduler import TELL_MISSED_WITHIN
from engine.common.clock import ManualClock
from storage.db import Database
from storage.migrate import downgrade_to, upgrade_to_head
from tests.brackets.conftest import ServicesFactory, at_candle, candle_start, run_until
from tests.brackets.test_paper_brackets import ENTRY_CANDLE, LAST_CANDLE, long_request, start_bracket


async def test_upgrade_backfills_records(make_services: ServicesFactory, clock: ManualClock) -> None:
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    await start_bracket(services, long_request())
    await run_until(services, clock, [candle_start(index) for index in range(154, LAST_CANDLE)])
    path = Path(services.settings.database.database_url.partition("///")[2])

    # Back to the schema before 0008, as a database written by the code before it.
    database = Database(f"sqlite+aiosqlite:///{path}")
    await downgrade_to(database, "0007")
    with sqlite3.connect(path) as raw:
        (reported,) = raw.execute("SELECT reported FROM brackets").fetchone()
        record = json.loads(reported)
        del record["steps"]
        raw.execute("UPDATE brackets SET reported = ?", (json.dumps(record),))

    await upgrade_to_head(database)
    await database.dispose()

    with sqlite3.connect(path) as raw:
        statuses = raw.execute("SELECT status, notified_status, filled_quantity, notified_filled FROM orders")
        rows = statuses.fetchall()
        (reported,) = raw.execute("SELECT reported FROM brackets").fetchone()
    assert len(rows) > 1
    assert all(status == notified for status, notified, _filled, _notified_filled in rows)
    assert all(filled == recorded for _status, _notified, filled, recorded in rows)
    assert json.loads(reported)["steps"] == ["end", "stop_moved"]

    # The first start after the upgrade finds nothing left to tell.
    restarted = await make_services()
    since = clock.now() - TELL_MISSED_WITHIN
    assert await restarted.brackets.keeper.tell_missed_ends(since) == 0
    assert await restarted.notifier.notify_missed_orders(since) == 0


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as raw:
        tables = ("orders", "fills")
        return {table: raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


async def test_downgrade_and_upgrade_keep_every_fill(
    make_services: ServicesFactory, clock: ManualClock
) -> None:
    """Going back to 0007 and up again keeps the orders and their fills (no table rebuild cascades)."""
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    await start_bracket(services, long_request())
    await run_until(services, clock, [candle_start(index) for index in range(154, LAST_CANDLE)])
    path = Path(services.settings.database.database_url.partition("///")[2])
    before = _counts(path)
    assert before["fills"] > 0

    database = Database(f"sqlite+aiosqlite:///{path}")
    await downgrade_to(database, "0007")
    downgraded = _counts(path)
    await upgrade_to_head(database)
    await database.dispose()

    assert downgraded == before
    assert _counts(path) == before
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        indexes = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_orders_updated_at" in indexes


async def test_older_downgrades_keep_every_row(make_services: ServicesFactory, clock: ManualClock) -> None:
    """Downgrades that rebuild tables run with foreign keys off, so no cascade deletes a row."""
    services = await make_services()
    at_candle(clock, ENTRY_CANDLE)
    await start_bracket(services, long_request())
    await run_until(services, clock, [candle_start(index) for index in range(154, LAST_CANDLE)])
    path = Path(services.settings.database.database_url.partition("///")[2])
    before = _counts(path)
    with sqlite3.connect(path) as raw:
        (accounts,) = raw.execute("SELECT count(*) FROM accounts").fetchone()

    database = Database(f"sqlite+aiosqlite:///{path}")
    assert await downgrade_to(database, "0004") == "0004"
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM accounts").fetchone() == (accounts,)
    assert _counts(path) == before

    await upgrade_to_head(database)
    async with database.write_engine.connect() as connection:
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
    await database.dispose()
    assert foreign_keys == 1  # the pooled connection has them back on
    assert _counts(path) == before
