"""Repository port of the risk engine, and the renderer that turns its events into texts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from engine.accounts.models import Account
from engine.risk.limits import PersonalLimits, RiskLimits
from engine.risk.models import (
    AlertSettings,
    AlertState,
    AlertType,
    DailyReport,
    EquityMarks,
    PreTradeInputs,
    RiskAlert,
)
from engine.risk.scan_inputs import ScanSubject
from engine.users.models import RiskProfile, User

IdRange = tuple[uuid.UUID, uuid.UUID]  # first and last user id, both included

if TYPE_CHECKING:  # the alert rules import the exposure model, which needs the unit of work
    from engine.risk.alerts import AlertChange


class RiskRepository(Protocol):
    # -- limits --------------------------------------------------------------------
    async def profile_limits(self) -> dict[RiskProfile, RiskLimits]:
        """Limits an admin has set; a profile missing here uses the defaults."""
        ...

    async def save_profile_limits(self, profile: RiskProfile, limits: RiskLimits, at: datetime) -> None: ...

    async def personal_limits(self, user_id: uuid.UUID) -> PersonalLimits | None: ...

    async def all_personal_limits(self, between: IdRange | None = None) -> dict[uuid.UUID, PersonalLimits]:
        """Personal limits of every user, or of the users whose id is within ``between``."""
        ...

    async def save_personal_limits(self, user_id: uuid.UUID, limits: PersonalLimits, at: datetime) -> None:
        """Store the user's own limits; empty limits delete the record."""
        ...

    # -- equity marks --------------------------------------------------------------
    async def marks(self, user_id: uuid.UUID) -> EquityMarks | None: ...

    async def pretrade_inputs(self, user_id: uuid.UUID) -> PreTradeInputs:
        """Read the user's accounts (as ``accounts.list_for_user``), the limits and the marks together."""
        ...

    async def all_marks(self, between: IdRange | None = None) -> dict[uuid.UUID, EquityMarks]:
        """Equity marks of every user, or of the users whose id is within ``between``."""
        ...

    async def insert_marks(self, marks: Sequence[EquityMarks]) -> None: ...

    async def update_marks(self, marks: Sequence[EquityMarks]) -> None: ...

    # -- alerts --------------------------------------------------------------------
    async def alert_states(
        self, between: IdRange | None = None
    ) -> dict[tuple[uuid.UUID, AlertType], AlertState]:
        """Open alert states of every user, or of the users whose id is within ``between``."""
        ...

    async def open_alerts(self, user_id: uuid.UUID) -> list[AlertState]: ...

    async def insert_alert_states(self, states: Sequence[AlertState]) -> None: ...

    async def update_alert_states(self, states: Sequence[AlertState]) -> None: ...

    async def delete_alert_states(self, keys: Sequence[tuple[uuid.UUID, AlertType]]) -> None: ...

    async def add_alerts(self, alerts: Sequence[RiskAlert]) -> None: ...

    async def recent_alerts(self, user_id: uuid.UUID, limit: int) -> list[RiskAlert]: ...

    async def alerts_view(
        self, user_id: uuid.UUID, recent_limit: int
    ) -> tuple[AlertSettings | None, list[AlertState], list[RiskAlert]]:
        """Read ``alert_settings``, ``open_alerts`` and ``recent_alerts`` together."""
        ...

    # -- alert settings ------------------------------------------------------------
    async def alert_settings(self, user_id: uuid.UUID) -> AlertSettings | None: ...

    async def all_alert_settings(self, between: IdRange | None = None) -> dict[uuid.UUID, AlertSettings]:
        """Alert settings saved by every user, or by the users whose id is within ``between``."""
        ...

    async def save_alert_settings(self, settings: AlertSettings, at: datetime) -> None: ...

    # -- who is scanned ------------------------------------------------------------
    async def active_id_ranges(self, size: int) -> list[IdRange]:
        """Return the ids of every ACTIVE user in id order, cut into ranges of ``size`` users."""
        ...

    async def active_users_with_accounts(
        self, user_ids: Sequence[uuid.UUID] | None = None
    ) -> list[tuple[User, list[Account]]]:
        """ACTIVE users (all, or those listed) with their active accounts, in a few queries."""
        ...

    async def scan_subjects(self, between: IdRange) -> list[ScanSubject]:
        """ACTIVE users whose id is within ``between`` (both ends included), as the scan reads them."""
        ...


class Recipient(Protocol):
    """Whom an alert is written for: a User, or the scan's lighter ScanSubject."""

    @property
    def language(self) -> str: ...


class RiskRenderer(Protocol):
    """Texts of risk pushes, in the recipient's language (implemented by the bot)."""

    def alert(self, user: Recipient, change: AlertChange) -> str: ...

    def daily_report(self, user: User, report: DailyReport) -> str: ...
