"""The lock beside a SQLite file: bots share it, a downgrade takes it alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database
from storage.in_use import DatabaseInUse, InUseLock


def test_bots_share_the_file(tmp_path: Path) -> None:
    first, second = InUseLock(str(tmp_path / "a.db")), InUseLock(str(tmp_path / "a.db"))
    first.share()
    second.share()
    first.release()

    # The second bot keeps its shared lock after the first one stopped.
    with pytest.raises(DatabaseInUse):
        InUseLock(str(tmp_path / "a.db")).take_alone()
    second.release()


def test_downgrade_refused_while_a_bot_shares(tmp_path: Path) -> None:
    bot, migration = InUseLock(str(tmp_path / "a.db")), InUseLock(str(tmp_path / "a.db"))
    bot.share()

    with pytest.raises(DatabaseInUse, match=r"a\.db is in use, because a PATRIOT process is running"):
        migration.take_alone()

    bot.release()
    migration.take_alone()
    migration.release()


def test_bot_refused_during_a_downgrade(tmp_path: Path) -> None:
    bot, migration = InUseLock(str(tmp_path / "a.db")), InUseLock(str(tmp_path / "a.db"))
    migration.take_alone()

    with pytest.raises(DatabaseInUse, match="downgrade"):
        bot.share()

    migration.release()


async def test_dispose_releases_the_lock(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    database.in_use.share()
    await database.dispose()

    alone = InUseLock(str(tmp_path / "a.db"))
    alone.take_alone()
    alone.release()


def test_memory_database_has_no_lock_file() -> None:
    assert Database("sqlite+aiosqlite://").in_use.path is None
