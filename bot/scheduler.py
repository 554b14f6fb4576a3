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
    scheduler.add_job(
        services.portfolio.snapshot_all,
        "interval",
        minutes=services.settings.analytics.snapshot_interval_minutes,
        id="equity_snapshots",
    )
    # Finds revoked or expired exchange keys between trades. A flagged account
    # is skipped until its owner re-checks it.
    scheduler.add_job(
        services.key_monitor.check_all,
        "interval",
        minutes=services.settings.exchanges.key_check_interval_minutes,
        id="check_exchange_keys",
    )
    return scheduler
