"""Scheduled jobs (APScheduler 3), started and stopped with the bot.

Jobs run in the bot's event loop. Each job's errors are logged by the
scheduler and the job runs again at its next time. Texts built by jobs are
localized per recipient with ``bot.i18n.localized``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.memory import releasing_memory
from bot.services import Services

logger = logging.getLogger(__name__)

DRAFT_SWEEP_SECONDS = 60
# How far back start-up looks for order changes whose push a crash cut off.
TELL_MISSED_WITHIN = timedelta(hours=24)


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
    # NOTE: the scan runs in the bot's event loop; at 10,000 users its CPU part
    # (valuation and VaR) holds the loop for about a second per run.
    scheduler.add_job(
        releasing_memory(services.risk_scanner.scan),
        "interval",
        seconds=services.settings.risk.scan_interval_seconds,
        id="risk_scan",
    )
    scheduler.add_job(
        services.daily_reports.send_due,
        "interval",
        seconds=services.settings.risk.report_check_seconds,
        id="daily_reports",
    )
    scheduler.add_job(
        services.broadcaster.report_progress,
        "interval",
        seconds=services.settings.outbox.broadcast_progress_seconds,
        id="broadcast_progress",
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
    # Start-up reconciliation: every PENDING or open order is looked up once at once, then
    # every bracket is brought in line with what its legs did while the bot was down.
    scheduler.add_job(reconcile_at_start, args=[services], id="order_reconcile_at_start")
    scheduler.add_job(
        services.twaps.run_due,
        "interval",
        seconds=settings.orders.twap_check_seconds,
        id="twap_slices",
    )
    add_bracket_jobs(scheduler, services)


def add_bracket_jobs(scheduler: AsyncIOScheduler, services: Services) -> None:
    """A pass over every active bracket on an interval: watched exits and self-healing."""
    scheduler.add_job(
        services.brackets.keeper.watch,
        "interval",
        seconds=services.settings.brackets.bracket_watch_interval_seconds,
        id="bracket_watch",
    )


async def reconcile_at_start(services: Services) -> None:
    """Look up every PENDING or open order, record PAPER's fills, then run a pass over every bracket.

    In this order, so no bracket pass acts on legs whose fills happened while
    the bot was down but are not recorded yet. Last, it tells each bracket end
    and order change of the last day whose message a crash cut off (the pass
    over an active bracket tells its own steps).
    """
    changed = await services.order_sync.run(force=True)
    matched = await services.order_sync.match_paper()
    brackets = await services.brackets.keeper.watch()
    since = services.clock.now() - TELL_MISSED_WITHIN
    ended = await services.brackets.keeper.tell_missed_ends(since)
    notified = await services.notifier.notify_missed_orders(since)
    logger.info(
        "Start-up reconciliation: %d orders changed, %d PAPER orders matched, %d active brackets checked, "
        "%d ended brackets and %d orders sent after a missed message",
        changed,
        matched,
        brackets,
        ended,
        notified,
    )
