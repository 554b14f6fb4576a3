"""The ``patriot`` command line: run, chat, db upgrade and downgrade, keys generate and keys rotate."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys

from bot.logging_setup import configure_logging
from bot.memory import gc_paused, limit_malloc_arenas, limit_sqlite_memory
from bot.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

EXIT_CONFIG = 2
EXIT_FAILURE = 1


def _revision(text: str) -> str:
    """Check a revision name for ``db downgrade``.

    Alembic fails with an AssertionError on "", "@" or "base@", so those are rejected here.
    """
    if any(not part.strip() for part in text.split("@")):
        raise argparse.ArgumentTypeError(f"{text!r}: name a revision, such as 0007 or base")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patriot", description="PATRIOT trading bot")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)")

    chat = commands.add_parser("chat", help="talk to the bot in this terminal; needs no token or network")
    chat.add_argument("--user-id", type=int, default=100_001, help="Telegram user id to act as")
    chat.add_argument("--language", default="en", help="Telegram language_code to send (en, ru, ...)")
    chat.add_argument("--username", default="trader", help="Telegram username to send ('' for none)")
    chat.add_argument("--first-name", default="Trader", help="Telegram first name to send")
    chat.add_argument(
        "--database-url",
        default=None,
        help="database to use (default: DATABASE_URL, or a temporary database when it is not set)",
    )

    analytics = commands.add_parser(
        "analytics", help="performance and risk figures of a static portfolio from candle files, as JSON"
    )
    analytics.add_argument(
        "--prices",
        nargs="+",
        required=True,
        metavar="FILE",
        help="candle CSV files (timestamp_ms,open,high,low,close,volume); the symbol comes from a name "
        "like BTC_USDT-1d.csv, or write SYMBOL=FILE",
    )
    analytics.add_argument(
        "--weights",
        nargs="+",
        default=None,
        metavar="SYMBOL=W",
        help="fraction of the portfolio in each symbol (default: equal weights); what is left to 1 is cash",
    )
    analytics.add_argument("--confidence", default="0.95", help="VaR confidence, 0.90-0.99 (default 0.95)")
    analytics.add_argument("--horizon-hours", default="24", help="VaR horizon in hours, 1-720 (default 24)")
    analytics.add_argument(
        "--periods-per-year",
        type=float,
        default=None,
        help="candles per year for annualising (default: 365 for daily candles, scaled for other intervals)",
    )
    analytics.add_argument(
        "--benchmark", default=None, help="symbol of one of the files to compare with (alpha, beta)"
    )

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration")
    downgrade = db_commands.add_parser("downgrade", help="undo migrations down to a revision")
    downgrade.add_argument("revision", type=_revision, help="the revision to go back to, such as 0007")

    keys = commands.add_parser("keys", help="the master key that encrypts exchange API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    key_commands.add_parser("generate", help="print a new master key (set it as MASTER_KEY)")
    key_commands.add_parser(
        "rotate", help="re-encrypt every stored API key under the first key listed in MASTER_KEY"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "analytics":
        # Reads only the files it is given: no settings, database or network.
        from bot.analytics_cli import run_analytics

        return run_analytics(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    # The terminal chat prints the conversation on stdout; keep only problems on stderr.
    level = "WARNING" if args.command == "chat" else settings.logging.log_level
    configure_logging(level, settings.logging.log_format)

    if args.command == "run":
        return _run(settings)
    if args.command == "chat":
        from bot.chat import run_chat
        from storage.vault import MasterKeyError

        try:
            return asyncio.run(run_chat(settings, args))
        except MasterKeyError as exc:
            print(f"Invalid settings:\n  - {exc}", file=sys.stderr)
            return EXIT_CONFIG
    if args.command == "db":
        return asyncio.run(_db_migrate(settings, getattr(args, "revision", None)))
    if args.command == "keys":
        from bot.keys_cli import generate, rotate

        return generate() if args.keys_command == "generate" else rotate(settings)
    return EXIT_CONFIG


def _run(settings: Settings) -> int:
    if settings.telegram.bot_token is None:
        print("Invalid settings:\n  - BOT_TOKEN: missing; get a token from @BotFather", file=sys.stderr)
        return EXIT_CONFIG
    # Both before any thread or connection starts: they hold for the whole process.
    limit_malloc_arenas()
    limit_sqlite_memory()
    with gc_paused():
        from bot.app import build_vault
        from bot.runner import run
        from storage.vault import MasterKeyError
    # The modules, classes and functions just imported live as long as the process,
    # so they are frozen: later full collections, such as the one after each risk
    # scan, skip them. The garbage the imports left (about 2,000 objects in cycles)
    # is frozen with them and never freed.
    gc.freeze()

    try:
        build_vault(settings)
    except MasterKeyError as exc:
        print(f"Invalid settings:\n  - {exc}", file=sys.stderr)
        return EXIT_CONFIG

    try:
        return asyncio.run(run(settings))
    except Exception:
        # Logged rather than printed by Python, so the redactor masks the bot
        # token in URLs that aiohttp errors quote.
        logger.critical("PATRIOT stopped after an unexpected error", exc_info=True)
        return EXIT_FAILURE


async def _db_migrate(settings: Settings, downgrade_to_revision: str | None) -> int:
    from alembic.util import CommandError

    from storage.db import Database
    from storage.in_use import DatabaseInUse
    from storage.migrate import downgrade_to, upgrade_to_head

    database = Database(
        settings.database.database_url,
        busy_timeout_ms=settings.database.db_busy_timeout_ms,
        sqlite_driver=settings.database.database_sqlite_driver,
    )
    try:
        if downgrade_to_revision is None:
            revision = await upgrade_to_head(database)
        else:
            # A running bot would go on writing what the downgrade deletes.
            database.in_use.take_alone()
            revision = await downgrade_to(database, downgrade_to_revision)
    except (CommandError, DatabaseInUse) as exc:
        print(f"Cannot migrate to {downgrade_to_revision or 'head'}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await database.dispose()
    print(f"Database is at revision {revision}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
