"""The scheduled risk scan: every ACTIVE user's state against their limits, in batches.

The scan lists the ids of ACTIVE users, then works through them BATCH_USERS at
a time, so its memory is bounded by one batch rather than by the number of
users. For each batch, one read transaction loads users, accounts, limits,
equity marks, alert states and settings. Balances come in one read per
exchange kind (see ExposureReader), each symbol is priced once, and VaR is one
matrix product for the batch. One write transaction stores the batch's marks,
alerts and outbox messages together, so an alert is never recorded without its
message or the reverse.
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
from engine.risk.alerts import AlertChange, breaches, evaluate, stored_alert
from engine.risk.exposure import Exposure, ExposureReader
from engine.risk.limits import RiskLimits, resolve_limits
from engine.risk.models import (
    AlertKind,
    AlertSettings,
    AlertState,
    AlertType,
    EquityMarks,
    RiskAlert,
    Severity,
)
from engine.risk.ports import IdRange, RiskRenderer
from engine.risk.returns import ReturnsWindow
from engine.risk.var import historical_var_many
from engine.uow import UnitOfWorkFactory
from engine.users.models import RiskProfile, User

logger = logging.getLogger(__name__)

YIELD_EVERY = 500  # users checked between two turns of the event loop
# Users read, valued and written together. With 10,000 users, a batch of 1,000
# contains a tenth of the objects the scan built when it read everyone at once.
BATCH_USERS = 1_000


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
            user_ids = await uow.risk.active_user_ids()
            stored_limits = await uow.risk.profile_limits()

        summary = ScanSummary()
        for start in range(0, len(user_ids), BATCH_USERS):
            batch = user_ids[start : start + BATCH_USERS]
            await self._scan_batch((batch[0], batch[-1]), stored_limits, now, summary)

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
            subjects = await uow.risk.active_users_between(between)
            personal = await uow.risk.all_personal_limits(between)
            marks = await uow.risk.all_marks(between)
            states = await uow.risk.alert_states(between)
            settings = await uow.risk.all_alert_settings(between)

        exposures = await self._exposures.read({user.id: accounts for user, accounts in subjects})
        var_by_user = await asyncio.to_thread(self._value_at_risk, exposures)
        summary.users += len(subjects)
        writes = _Writes()

        for index, (user, _accounts) in enumerate(subjects):
            if index and index % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            exposure = exposures.get(user.id)
            if exposure is None:
                summary.unreadable += 1
                continue  # equity unknown: keep the marks and alert states as they are
            mark = self._advance_marks(user.id, marks.get(user.id), exposure.equity, now, writes)
            limits = resolve_limits(user.risk_profile, stored_limits, personal.get(user.id))
            found = breaches(exposure, mark, var_by_user.get(user.id, ZERO), limits, now)
            user_settings = settings.get(user.id) or AlertSettings(user.id)
            for alert_type in AlertType:
                state = states.get((user.id, alert_type))
                new_state, change = evaluate(user.id, alert_type, state, found.get(alert_type), now)
                if change is not None:
                    self._record(user, user_settings, state, new_state, change, now, writes)
                    summary.changes.append(change)

        await self._write(writes)
        summary.messages += len(writes.messages)

    def _value_at_risk(self, exposures: dict[uuid.UUID, Exposure | None]) -> dict[uuid.UUID, Decimal]:
        """VaR95 (one day) of every user with positions, in one batch."""
        table = self._returns.table()
        users = [
            (user_id, exposure)
            for user_id, exposure in exposures.items()
            if exposure is not None and exposure.has_positions
        ]
        found: dict[uuid.UUID, Decimal] = {}
        priced = [(user_id, exposure) for user_id, exposure in users if exposure.equity > ZERO]
        for user_id, exposure in users:
            if exposure.equity <= ZERO:
                found[user_id] = Decimal("Infinity")  # positions with no equity behind them
        if not priced or len(table.returns) == 0:
            return found
        weights = np.vstack(
            [table.weights(exposure.positions, exposure.equity) for _user, exposure in priced]
        )
        values = historical_var_many(table.returns, weights)
        for (user_id, _exposure), value in zip(priced, values, strict=True):
            found[user_id] = Decimal(str(round(float(value), 10)))
        return found

    def _advance_marks(
        self, user_id: uuid.UUID, mark: EquityMarks | None, equity: Decimal, now: datetime, writes: _Writes
    ) -> EquityMarks:
        if mark is None:
            first = EquityMarks.first(user_id, equity, now)
            writes.new_marks.append(first)
            return first
        advanced = mark.advanced(equity, now)
        if advanced is None:
            return mark
        writes.changed_marks.append(advanced)
        return advanced

    def _record(
        self,
        user: User,
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
            writes.messages.append(self._message(user, settings, change, now))
        writes.alerts.append(stored_alert(change, deliver, now))

        if new_state is None:
            writes.ended_states.append((user.id, change.type))
        elif state is None:
            new_state.notified = deliver
            writes.new_states.append(new_state)
        else:
            new_state.notified = state.notified or deliver
            writes.changed_states.append(new_state)

    def _message(
        self, user: User, settings: AlertSettings, change: AlertChange, now: datetime
    ) -> OutboxMessage:
        critical = change.severity is Severity.CRITICAL
        # CRITICAL alerts ignore quiet hours; others wait until the quiet hours end.
        not_before = None if critical else settings.quiet_until(now, user.timezone)
        return self._outbox.message(
            user.telegram_id,
            self._renderer.alert(user, change),
            priority=Priority.URGENT if critical else Priority.NORMAL,
            category=Category.ALERT,
            user_id=user.id,
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
