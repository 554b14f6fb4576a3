"""The opt-in daily P&L report, sent once a day at the user's chosen local time."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from engine.common.clock import Clock
from engine.common.money import ZERO
from engine.notifications.models import Category, OutboxMessage, Priority
from engine.notifications.outbox import Outbox
from engine.risk.exposure import Exposure, ExposureReader
from engine.risk.models import AlertSettings, AlertState, DailyReport, EquityMarks
from engine.risk.ports import RiskRenderer
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class DailyReporter:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        exposures: ExposureReader,
        outbox: Outbox,
        renderer: RiskRenderer,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._exposures = exposures
        self._outbox = outbox
        self._renderer = renderer
        self._clock = clock

    async def send_due(self) -> int:
        """Queue the report of every ACTIVE user whose report time has come today; return how many."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            wanted = {
                user_id: s for user_id, s in (await uow.risk.all_alert_settings()).items() if s.report_enabled
            }
            if not wanted:
                return 0
            subjects = await uow.risk.active_users_with_accounts(list(wanted))
            due = [
                (user, accounts)
                for user, accounts in subjects
                if wanted[user.id].report_due(now, user.timezone)
            ]
            if not due:
                return 0
            marks = await uow.risk.all_marks()
            states = await uow.risk.alert_states()

        exposures = await self._exposures.read({user.id: accounts for user, accounts in due})
        messages: list[OutboxMessage] = []
        updated: list[AlertSettings] = []
        for user, _accounts in due:
            exposure = exposures.get(user.id)
            if exposure is None:
                continue  # an account could not be read; the next run tries again
            settings = wanted[user.id]
            open_alerts = [state for (owner, _type), state in states.items() if owner == user.id]
            report = _report(exposure, settings, marks.get(user.id), open_alerts)
            messages.append(
                self._outbox.message(
                    user.telegram_id,
                    self._renderer.daily_report(user, report),
                    priority=Priority.BULK,
                    category=Category.REPORT,
                    user_id=user.id,
                )
            )
            settings.last_report_on = now.astimezone(ZoneInfo(user.timezone)).date()
            settings.last_report_equity = exposure.equity
            settings.last_report_at = now
            updated.append(settings)

        async with self._uow() as uow:
            for settings in updated:
                await uow.risk.save_alert_settings(settings, now)
            await self._outbox.enqueue_in(uow, messages)
            await uow.commit()
        self._outbox.notify()
        logger.info("Queued %d daily reports", len(messages))
        return len(messages)


def _report(
    exposure: Exposure, settings: AlertSettings, marks: EquityMarks | None, open_alerts: list[AlertState]
) -> DailyReport:
    """Compare with the equity at the last report, or else with the start of the UTC day."""
    since: datetime | None = None
    previous: Decimal | None = None
    if settings.last_report_equity is not None:
        since, previous = settings.last_report_at, settings.last_report_equity
    elif marks is not None:
        previous = marks.day_start_equity

    change = fraction = None
    if previous is not None:
        change = exposure.equity - previous
        fraction = change / previous if previous > ZERO else None
    return DailyReport(
        equity=exposure.equity,
        change=change,
        change_fraction=fraction,
        since=since,
        positions=dict(exposure.positions),
        open_alerts=open_alerts,
    )
