"""Schema upgrades with Alembic, run at start-up and by ``patriot db upgrade``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade_to_head(database: Database) -> str | None:
    """Apply every pending migration and return the revision the database is now at."""
    async with database.write_engine.connect() as connection:
        before = await connection.run_sync(_current_revision)
        await connection.run_sync(_upgrade)
        await connection.commit()
        after = await connection.run_sync(_current_revision)
    if before != after:
        logger.info("Database schema upgraded from %s to %s", before or "empty", after)
    return after


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current_revision(connection: Connection) -> Any:
    return MigrationContext.configure(connection).get_current_revision()
