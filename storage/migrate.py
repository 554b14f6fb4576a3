"""Schema upgrades with Alembic, run at start-up and by ``patriot db upgrade``.

Alembic (about 11 MB resident, and the import of every migration script) is
loaded only when the database is not already at the newest revision. A
restart of an up-to-date bot compares the stored revision with the newest
one read from the migration files and stops there.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision(?:\s*:[^=]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def head_from_files() -> str | None:
    """Return the newest revision named in the migration files, or None unless exactly one is a head.

    Reads ``revision`` and ``down_revision`` as text, without Alembic. None
    (several heads, or a file this cannot read) sends the caller to Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down_revision = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down_revision is None:
            if path.name != "__init__.py":
                return None
            continue
        revisions.add(revision.group(1))
        parents.update(_QUOTED.findall(down_revision.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def upgrade_to_head(database: Database) -> str | None:
    """Apply every pending migration and return the revision the database is now at."""
    async with database.write_engine.connect() as connection:
        before = await connection.run_sync(_stored_revision)
        await connection.rollback()
        head = head_from_files()
        if head is not None and before == head:
            return before
        after = await connection.run_sync(_migrate, "upgrade", "head")
    if before != after:
        logger.info("Database schema upgraded from %s to %s", before or "empty", after)
    return after


async def downgrade_to(database: Database, revision: str) -> str | None:
    """Undo migrations down to ``revision`` and return the revision the database is now at."""
    async with database.write_engine.connect() as connection:
        before = await connection.run_sync(_stored_revision)
        await connection.rollback()
        after = await connection.run_sync(_migrate, "downgrade", revision)
    if before != after:
        logger.info("Database schema downgraded from %s to %s", before or "empty", after)
    return after


def _migrate(connection: Connection, direction: str, revision: str) -> Any:
    """Run Alembic's upgrade or downgrade in one transaction, with SQLite's foreign keys off.

    A batch operation rebuilds a table by copying it and dropping the old one. With foreign
    keys on, that drop would delete every row pointing at the table through ON DELETE CASCADE.
    SQLite ignores the pragma inside a transaction, so it is set before the transaction begins.
    """
    from alembic import command

    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        connection.begin()  # Alembic then runs every step in this transaction instead of one each
        getattr(command, direction)(alembic_config(connection), revision)
        if sqlite:
            _require_consistent_keys(connection)
        revision_now = _current_revision(connection)
        connection.commit()
        return revision_now
    finally:
        if sqlite:
            connection.rollback()
            _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, statement: str) -> None:
    # Straight to the driver: SQLAlchemy would begin a transaction first.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _require_consistent_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"migration failed: rows with missing foreign key targets in {', '.join(tables)}")


def _stored_revision(connection: Connection) -> str | None:
    """Return the revision in ``alembic_version``, or None for a database without that table."""
    try:
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError) as error:
        connection.rollback()
        # Only a missing table means no revision yet, so another error ("database is locked") is raised.
        if "alembic_version" not in str(error.orig):
            raise
        return None
    return rows[0] if len(rows) == 1 else None


def _current_revision(connection: Connection) -> Any:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
