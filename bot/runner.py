"""``patriot run``: the bot, engine, scheduler and notifier in one process.

SIGTERM or SIGINT stops taking updates, lets the updates in progress finish
(up to SHUTDOWN_GRACE_SECONDS), acknowledges them to Telegram so they are not
delivered again, then closes exchange sessions and the database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError

from bot.app import (
    build_bot,
    build_delivery,
    build_dispatcher,
    build_services,
    close_services,
    start_services,
)
from bot.commands import publish_commands
from bot.logging_setup import redactor
from bot.middlewares.inflight import InFlightTracker
from bot.order_recovery import report_interrupted_orders
from bot.scheduler import build_scheduler
from bot.settings import Settings
from engine.accounts.sealing import check_master_key
from engine.errors import VaultError
from storage.in_use import DatabaseInUse

logger = logging.getLogger(__name__)

# The two waits at shutdown add up to 8 s, inside the 10 s a stop may take (and
# well inside systemd's TimeoutStopSec=20): updates in progress first, then the
# outbox's sends in flight.
SHUTDOWN_GRACE_SECONDS = 5.0
DELIVERY_STOP_SECONDS = 3.0
EXIT_CONFIG = 2
WEBHOOK_PATH = "/telegram/webhook"


async def run(settings: Settings) -> int:
    # Signal handlers first: a SIGTERM that arrives during start-up ends the
    # process cleanly as soon as the current step (a migration, say) is done.
    stop = _stop_event()
    services = build_services(settings)
    services.i18n.set_current(services.i18n)
    bot = build_bot(settings)
    scheduler = build_scheduler(services)
    delivery = build_delivery(services, bot)
    stop_delivery = asyncio.Event()
    delivery_task: asyncio.Task[None] | None = None

    try:
        try:
            await start_services(services)
            await check_master_key(services.uow, services.vault)
            await services.pins.check_sealing()
        except (VaultError, DatabaseInUse) as exc:
            logger.error("Refusing to start: %s", exc)
            return EXIT_CONFIG
        dispatcher = build_dispatcher(services, bot)
        if stop.is_set():
            return 0
        # Before the scheduler's first order sync, which reports what is still PENDING.
        await report_interrupted_orders(services)
        me = await bot.get_me()
        logger.info("Starting as @%s (id %s)", me.username, me.id)
        # Pushes queued before a restart go out while the commands are published.
        delivery_task = asyncio.create_task(delivery.run(stop_delivery))
        await publish_commands(bot, services.i18n, settings.telegram.admin_ids)
        scheduler.start()
        polling = not settings.telegram.webhook_url
        if polling:
            await _poll(bot, dispatcher, settings, stop)
        else:
            await _serve_webhook(bot, dispatcher, settings, stop)
        await _finish_in_flight(bot, dispatcher["inflight"], acknowledge=polling)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        # After the updates in progress: their pushes are in the outbox, and what
        # is not sent now is sent after the next start.
        stop_delivery.set()
        if delivery_task is not None:
            await _stop_delivery(delivery_task)
        await bot.session.close()
        await close_services(services)
        logger.info("Stopped")
    return 0


async def _stop_delivery(task: asyncio.Task[None]) -> None:
    try:
        await asyncio.wait_for(task, DELIVERY_STOP_SECONDS)
    except TimeoutError:
        logger.warning(
            "Outbox delivery did not stop within %.0f s; its sends in flight go again after the next start",
            DELIVERY_STOP_SECONDS,
        )
    except Exception:
        logger.exception("Outbox delivery failed")


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_signal, sig, stop)
    return stop


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    logger.info("Received %s; shutting down", sig.name)
    stop.set()


async def _poll(bot: Bot, dispatcher: Dispatcher, settings: Settings, stop: asyncio.Event) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            handle_signals=False,
            close_bot_session=False,
            polling_timeout=settings.telegram.polling_timeout_seconds,
        )
    )
    stopper = asyncio.create_task(stop.wait())
    done, _pending = await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if polling in done:
        stopper.cancel()
        await polling  # polling ended by itself: surface its error
        return
    await dispatcher.stop_polling()
    await polling


async def _serve_webhook(bot: Bot, dispatcher: Dispatcher, settings: Settings, stop: asyncio.Event) -> None:
    # Imported here: a bot that polls never needs aiohttp's server (about 25 ms at start).
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    telegram = settings.telegram
    secret = webhook_secret(settings)
    app = web.Application()
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(app, path=WEBHOOK_PATH)
    setup_application(app, dispatcher, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, telegram.webhook_host, telegram.webhook_port)
    await site.start()
    await bot.set_webhook(f"{telegram.webhook_url}{WEBHOOK_PATH}", secret_token=secret)
    logger.info("Webhook listening on %s:%s", telegram.webhook_host, telegram.webhook_port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def webhook_secret(settings: Settings) -> str:
    """Return WEBHOOK_SECRET, or a random one for this run when it is not set.

    Without a secret anyone who reaches the webhook port could post forged
    updates as any user, so the webhook is never served without one.
    """
    configured = settings.telegram.webhook_secret
    if configured is not None:
        return configured.get_secret_value()
    generated = secrets.token_urlsafe(32)
    redactor.add_secret(generated)
    logger.warning("WEBHOOK_SECRET is not set; using a random secret for this run")
    return generated


async def _finish_in_flight(bot: Bot, tracker: InFlightTracker, *, acknowledge: bool) -> None:
    if not await tracker.wait_idle(SHUTDOWN_GRACE_SECONDS):
        logger.warning(
            "%d updates still running after %.0f s; stopping anyway", tracker.active, SHUTDOWN_GRACE_SECONDS
        )
    if not acknowledge or tracker.last_update_id is None:
        return
    try:
        # Confirms every handled update, so a restart does not receive them again.
        await bot.get_updates(offset=tracker.last_update_id + 1, timeout=0, limit=1)
    except TelegramAPIError as exc:
        logger.warning("Could not acknowledge handled updates: %s", exc)
