"""The scheduled risk scan: every ACTIVE user's state against their limits, in batches.

The scan lists the ids of ACTIVE users, then works through them BATCH_USERS at
a time, so its memory is bounded by one batch rather than by the number of
users. For each batch, one read transaction loads what the scan uses of each
user (``ScanSubject``: no User or Account objects, no timestamps): PAPER
holdings, limits, equity marks, alert states and settings. Accounts on real
exchanges are read through their gateways (ExposureReader), each symbol is
priced once, and VaR is one matrix product for the batch. One write
transaction stores the batch's marks, alerts and outbox messages together, so
an alert is never recorded without its message or the reverse.

Every figure compared with a limit, stored or shown is an exact Decimal; only
VaR is computed in float64, as it is everywhere in PATRIOT.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from engine.common.clock import Clock
from engine.common.money import ZERO
from engine.notifications.models import Category, OutboxMessage, Priority
from engine.notifications.outbox import Outbox
from engine.portfolio.service import USD_STABLE
from engine.risk.alerts import AlertChange, Breach, RiskFigures, breaches, evaluate, stored_alert
from engine.risk.exposure import INFINITE, ExposureReader, position_figures, value_paper
from engine.risk.limits import RiskLimits, resolve_limits
from engine.risk.models import (
    AlertKind,
    AlertSettings,
    AlertState,
    AlertType,
    EquityMarks,
    RiskAlert,
    Severity,
    daily_loss_fraction,
    drawdown_fraction,
)
from engine.risk.ports import IdRange, RiskRenderer
from engine.risk.returns import ReturnsWindow
from engine.risk.scan_inputs import ScanSubject
from engine.risk.var import historical_var_many
from engine.uow import UnitOfWorkFactory
from engine.users.models import RiskProfile

logger = logging.getLogger(__name__)

YIELD_EVERY = 500  # users checked between two turns of the event loop
# Users read, valued and written together. CPython returns a 1 MiB memory arena to
# the system only once every object in it is freed, so a smaller batch leaves fewer
# arenas behind. Batches of 500 left about 2 MiB less resident after a scan than
# batches of 1,000, at the same CPU time (10,000 users, measured in one process).
BATCH_USERS = 500

Valued = tuple[Decimal, dict[str, Decimal]]  # equity and position values in USDT


@dataclass
class ScanSummary:
    users: int = 0
    unreadable: int = 0
    changes: list[AlertChange] = field(default_factory=list)
    messages: int = 0


@dataclass
class _Writes:
    new_marks: list[EquityMarks] = field(default_factory=list)
    changed_marks: list[EquityMarks] = field(default_factory=list)
    new_states: list[AlertState] = field(default_factory=list)
    changed_states: list[AlertState] = field(default_factory=list)
    ended_states: list[tuple[uuid.UUID, AlertType]] = field(default_factory=list)
    alerts: list[RiskAlert] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)


class RiskScanner:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        exposures: ExposureReader,
        returns: ReturnsWindow,
        outbox: Outbox,
        renderer: RiskRenderer,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._exposures = exposures
        self._returns = returns
        self._outbox = outbox
        self._renderer = renderer
        self._clock = clock

    async def scan(self) -> ScanSummary:
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            ranges = await uow.risk.active_id_ranges(BATCH_USERS)
            stored_limits = await uow.risk.profile_limits()

        summary = ScanSummary()
        for between in ranges:
            await self._scan_batch(between, stored_limits, now, summary)

        logger.info(
            "Risk scan: %d users, %d unreadable, %d alert changes, %d messages queued",
            summary.users,
            summary.unreadable,
            len(summary.changes),
            summary.messages,
        )
        return summary

    async def _scan_batch(
        self,
        between: IdRange,
        stored_limits: dict[RiskProfile, RiskLimits],
        now: datetime,
        summary: ScanSummary,
    ) -> None:
        """Read, value, check and write the ACTIVE users whose id is within ``between``.

        Counts and alert changes are added to ``summary``. The batch is read by id
        range: a user suspended or closed since the ids were listed is left out, and
        a user activated since then is scanned only if the id falls inside a batch.
        """
        async with self._uow(read_only=True) as uow:
            subjects = await uow.risk.scan_subjects(between)
        summary.users += len(subjects)

        valued = await self._value(subjects)
        var = self._value_at_risk(valued)
        # Limits of users who kept their profile's, resolved once per profile.
        by_profile = {profile: resolve_limits(profile, stored_limits, None) for profile in RiskProfile}
        writes = _Writes()

        for index, subject in enumerate(subjects):
            if index and index % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            if valued[index] is None:
                summary.unreadable += 1
                continue  # equity unknown: keep the marks and alert states as they are
            equity, positions = valued[index]  # type: ignore[misc]
            start, peak = self._advance_marks(subject, equity, now, writes)
            symbol, largest, leverage = position_figures(positions, equity)
            figures = RiskFigures(
                drawdown_fraction(peak, equity),
                daily_loss_fraction(start, equity),
                largest,
                symbol,
                leverage,
                var[index],
            )
            limits = (
                by_profile[subject.risk_profile]
                if subject.personal is None
                else resolve_limits(subject.risk_profile, stored_limits, subject.personal)
            )
            # Positions with no equity behind them give infinite figures, stored as such.
            found = breaches(figures, limits)
            if found or subject.states:
                self._check(subject, found, now, writes, summary)

        await self._write(writes)
        summary.messages += len(writes.messages)

    async def _value(self, subjects: list[ScanSubject]) -> list[Valued | None]:
        """Equity and positions of each subject, in order; None where an account could not be read."""
        assets = {
            asset
            for subject in subjects
            for asset, total in subject.paper
            if total != ZERO and asset not in USD_STABLE
        }
        prices = await self._exposures.paper_prices(sorted(assets))
        live_accounts = {subject.id: subject.live for subject in subjects if subject.live}
        live = await self._exposures.read(live_accounts) if live_accounts else {}

        valued: list[Valued | None] = []
        for subject in subjects:
            equity, positions = value_paper(subject.paper, prices)
            if subject.live:
                elsewhere = live.get(subject.id)
                if elsewhere is None:
                    valued.append(None)
                    continue
                equity += elsewhere.equity
                for symbol, value in elsewhere.positions.items():
                    positions[symbol] = positions.get(symbol, ZERO) + value
            valued.append((equity, positions))
        return valued

    def _value_at_risk(self, valued: list[Valued | None]) -> list[Decimal]:
        """VaR95 (one day) of each subject, in order: one matrix product for the batch.

        0 without positions, infinite for positions with no equity behind them.
        """
        found = [ZERO] * len(valued)
        priced: list[tuple[int, Decimal, dict[str, Decimal]]] = []
        for index, item in enumerate(valued):
            if item is None or not any(item[1].values()):
                continue
            equity, positions = item
            if equity <= ZERO:
                found[index] = INFINITE
            else:
                priced.append((index, equity, positions))
        table = self._returns.table()
        if not priced or len(table.returns) == 0:
            return found

        weights = np.zeros((len(priced), len(table.symbols)))
        for row, (_index, equity, positions) in enumerate(priced):
            for symbol, value in positions.items():
                weights[row, table.column(symbol)] += float(value / equity)
        values = historical_var_many(table.returns, weights)
        for (index, _equity, _positions), value in zip(priced, values.tolist(), strict=True):
            found[index] = Decimal(str(round(value, 10)))
        return found

    def _advance_marks(
        self, subject: ScanSubject, equity: Decimal, now: datetime, writes: _Writes
    ) -> tuple[Decimal, Decimal]:
        """Move the subject's marks on with ``equity`` (queued for writing if they change).

        Returns the day's starting equity and the peak after the move.
        """
        marks, today = subject.marks, now.date()
        if marks is None:
            writes.new_marks.append(EquityMarks.first(subject.id, equity, now))
            return equity, equity
        new_day, higher = marks.day != today, equity > marks.peak_equity
        start = equity if new_day else marks.day_start_equity
        peak = equity if higher else marks.peak_equity
        if new_day or higher:
            writes.changed_marks.append(EquityMarks(subject.id, today, start, peak, now))
        return start, peak

    def _check(
        self,
        subject: ScanSubject,
        found: dict[AlertType, Breach],
        now: datetime,
        writes: _Writes,
        summary: ScanSummary,
    ) -> None:
        """Compare each alert condition with its stored state and record what changed."""
        settings = subject.settings or AlertSettings(subject.id)
        for alert_type in AlertType:
            state = subject.states.get(alert_type)
            new_state, change = evaluate(subject.id, alert_type, state, found.get(alert_type), now)
            if change is not None:
                self._record(subject, settings, state, new_state, change, now, writes)
                summary.changes.append(change)

    def _record(
        self,
        subject: ScanSubject,
        settings: AlertSettings,
        state: AlertState | None,
        new_state: AlertState | None,
        change: AlertChange,
        now: datetime,
        writes: _Writes,
    ) -> None:
        if change.kind is AlertKind.CLEARED:
            deliver = state is not None and state.notified
        else:
            deliver = settings.receives(change.severity)
        if deliver:
            writes.messages.append(self._message(subject, settings, change, now))
        writes.alerts.append(stored_alert(change, deliver, now))

        if new_state is None:
            writes.ended_states.append((subject.id, change.type))
        elif state is None:
            new_state.notified = deliver
            writes.new_states.append(new_state)
        else:
            new_state.notified = state.notified or deliver
            writes.changed_states.append(new_state)

    def _message(
        self, subject: ScanSubject, settings: AlertSettings, change: AlertChange, now: datetime
    ) -> OutboxMessage:
        critical = change.severity is Severity.CRITICAL
        # CRITICAL alerts ignore quiet hours; others wait until the quiet hours end.
        not_before = None if critical else settings.quiet_until(now, subject.timezone)
        return self._outbox.message(
            subject.telegram_id,
            self._renderer.alert(subject, change),
            priority=Priority.URGENT if critical else Priority.NORMAL,
            category=Category.ALERT,
            user_id=subject.id,
            not_before=not_before,
        )

    async def _write(self, writes: _Writes) -> None:
        async with self._uow() as uow:
            await uow.risk.insert_marks(writes.new_marks)
            await uow.risk.update_marks(writes.changed_marks)
            await uow.risk.insert_alert_states(writes.new_states)
            await uow.risk.update_alert_states(writes.changed_states)
            await uow.risk.delete_alert_states(writes.ended_states)
            await uow.risk.add_alerts(writes.alerts)
            await self._outbox.enqueue_in(uow, writes.messages)
            await uow.commit()
        if writes.messages:
            self._outbox.notify()
