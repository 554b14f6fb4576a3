"""Scheduled jobs (APScheduler 3), started and stopped with the bot.

Jobs run in the bot's event loop. Each job's errors are logged by the
scheduler and the job runs again at its next time.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services

logger = logging.getLogger(__name__)

DRAFT_SWEEP_SECONDS = 60


def build_scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        services.orders.expire_stale_drafts,
        "interval",
        seconds=DRAFT_SWEEP_SECONDS,
        id="expire_order_drafts",
    )
    add_order_jobs(scheduler, services)
    return scheduler


def add_order_jobs(scheduler: AsyncIOScheduler, services: Services) -> None:
    """PAPER matching, order sync with the exchanges (first run at start-up, forced), and TWAP slices."""
    settings = services.settings
    scheduler.add_job(
        services.order_sync.match_paper,
        "interval",
        seconds=settings.paper_matching.match_interval_seconds,
        id="paper_matching",
    )
    scheduler.add_job(
        services.order_sync.run,
        "interval",
        seconds=settings.orders.sync_interval_seconds,
        id="order_sync",
    )
    # Start-up reconciliation: every PENDING or open order is looked up once at once.
    scheduler.add_job(services.order_sync.run, kwargs={"force": True}, id="order_reconcile_at_start")
    scheduler.add_job(
        services.twaps.run_due,
        "interval",
        seconds=settings.orders.twap_check_seconds,
        id="twap_slices",
    )
