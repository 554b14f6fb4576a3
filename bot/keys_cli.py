"""``patriot keys generate`` and ``patriot keys rotate``: the master key of the key vault."""

from __future__ import annotations

import asyncio
import sys

from bot.app import build_vault
from bot.settings import Settings
from engine.accounts.sealing import rotate_all
from engine.common.clock import SystemClock
from engine.errors import VaultError
from engine.security.service import PinService
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWorkFactory
from storage.vault import KeyVault, MasterKeyError, generate_master_key

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


def generate() -> int:
    """Print a new key on stdout and how to use it on stderr, so ``> file`` captures the key alone."""
    print(generate_master_key())
    print(
        "Set it as MASTER_KEY, or write it to a file only the service user can read "
        "(chmod 600) and set MASTER_KEY_FILE. To replace a key, list the new one first: "
        "MASTER_KEY=new,old, run `patriot keys rotate`, then drop the old one.",
        file=sys.stderr,
    )
    return EXIT_OK


def rotate(settings: Settings) -> int:
    """Re-encrypt every stored API key under the newest master key."""
    try:
        vault = build_vault(settings)
    except MasterKeyError as exc:
        print(f"Invalid settings:\n  - {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(_rotate(settings, vault))


async def _rotate(settings: Settings, vault: KeyVault) -> int:
    database = Database(
        settings.database.database_url,
        busy_timeout_ms=settings.database.db_busy_timeout_ms,
        sqlite_driver=settings.database.database_sqlite_driver,
    )
    try:
        await upgrade_to_head(database)
        uow = SqlUnitOfWorkFactory(database)
        # Both check every token before writing, so a failure changes nothing.
        await PinService(uow, vault, SystemClock()).check_sealing()
        count = await rotate_all(uow, vault, SystemClock())
        pins = await PinService(uow, vault, SystemClock()).reseal_all()
    except VaultError as exc:
        print(f"Rotation stopped, nothing was changed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await database.dispose()
    print(
        f"Re-encrypted the API keys of {count} accounts and {pins} trading PIN hashes "
        "under the first key in MASTER_KEY."
    )
    return EXIT_OK
