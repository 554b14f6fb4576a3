"""A database already at the newest revision is recognised without Alembic."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text

from storage.db import Database
from storage.migrate import head_from_files, head_revision, upgrade_to_head

REPOSITORY = Path(__file__).resolve().parents[2]


def test_head_from_files_matches_alembic() -> None:
    assert head_from_files() is not None
    assert head_from_files() == head_revision()


async def test_upgrade_from_empty_then_at_head(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'fast.db'}")
    try:
        assert await upgrade_to_head(database) == head_revision()
        assert await upgrade_to_head(database) == head_revision()
    finally:
        await database.dispose()


async def test_unknown_revision_goes_to_alembic(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade_to_head(database)
        async with database.write_engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'stale'"))

        # An unknown stored revision is not the head, so Alembic is asked and reports it.
        try:
            await upgrade_to_head(database)
        except Exception as exc:
            assert "stale" in str(exc)
        else:
            raise AssertionError("an unknown revision went unnoticed")
    finally:
        await database.dispose()


def test_restart_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    check = textwrap.dedent(
        f"""
        import asyncio, sys
        from storage.db import Database
        from storage.migrate import upgrade_to_head

        async def main():
            database = Database("sqlite+aiosqlite:///{path}")
            await upgrade_to_head(database)
            await database.dispose()

        asyncio.run(main())
        print("alembic" in sys.modules)
        """
    )
    run = [sys.executable, "-c", check]
    first = subprocess.run(run, cwd=REPOSITORY, capture_output=True, text=True, timeout=120, check=False)
    second = subprocess.run(run, cwd=REPOSITORY, capture_output=True, text=True, timeout=120, check=False)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "True"  # an empty database needs every migration
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "False"
