"""Risk limits and alert settings as admins and users change them."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from engine.admin.audit import AuditEntry
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.common.money import to_canonical
from engine.errors import ValidationError
from engine.risk.limits import DEFAULT_LIMITS, LimitName, PersonalLimits, RiskLimits, resolve_limits
from engine.risk.models import AlertSettings, AlertState, RiskAlert, Severity
from engine.uow import UnitOfWorkFactory
from engine.users.models import RiskProfile, User

logger = logging.getLogger(__name__)

_CLOCK_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
OFF_WORDS = frozenset({"off", "none", "no", "выкл", "нет"})


@dataclass(frozen=True)
class UserLimits:
    profile: RiskLimits  # the profile's limits as an admin set them
    personal: PersonalLimits  # what the user tightened
    effective: RiskLimits


@dataclass(frozen=True)
class AlertsOverview:
    """The alert settings, the limits broken now and the latest alerts that /alerts shows."""

    settings: AlertSettings
    open_alerts: list[AlertState]
    recent: list[RiskAlert]


class RiskSettingsService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    # -- limits per profile (admins) ---------------------------------------------------

    async def profile_limits(self) -> dict[RiskProfile, RiskLimits]:
        async with self._uow(read_only=True) as uow:
            stored = await uow.risk.profile_limits()
        return {profile: stored.get(profile, DEFAULT_LIMITS[profile]) for profile in RiskProfile}

    async def change_profile_limits(
        self, actor_telegram_id: int, profile: RiskProfile, changes: dict[LimitName, Decimal]
    ) -> tuple[RiskLimits, RiskLimits]:
        """Apply the changes and audit each one; return the limits before and after."""
        now = self._clock.now()
        async with self._uow() as uow:
            stored = await uow.risk.profile_limits()
            before = stored.get(profile, DEFAULT_LIMITS[profile])
            after = before
            for name, value in changes.items():
                after = after.with_value(name, value)
            await uow.risk.save_profile_limits(profile, after, now)
            details = {
                name.value: f"{to_canonical(before.get(name))} -> {to_canonical(after.get(name))}"
                for name in changes
            }
            await uow.audit.add(
                AuditEntry(
                    id=new_id(),
                    actor_telegram_id=actor_telegram_id,
                    action="risk.limits.change",
                    created_at=now,
                    details={"profile": profile.value, **details},
                )
            )
            await uow.commit()
        logger.info("Admin %s changed %s limits: %s", actor_telegram_id, profile, details)
        return before, after

    # -- a user's own limits -----------------------------------------------------------

    async def user_limits(self, user: User) -> UserLimits:
        async with self._uow(read_only=True) as uow:
            stored = await uow.risk.profile_limits()
            personal = await uow.risk.personal_limits(user.id) or PersonalLimits()
        profile = stored.get(user.risk_profile, DEFAULT_LIMITS[user.risk_profile])
        return UserLimits(profile, personal, resolve_limits(user.risk_profile, stored, personal))

    async def var_limit(self, user: User) -> Decimal:
        """Return the 95 % 24 h VaR limit in force for the user (the analytics' VarLimitLookup)."""
        return (await self.user_limits(user)).effective.max_var

    async def tighten(self, user: User, name: LimitName, value: Decimal) -> UserLimits:
        """Set the user's own value of one limit; it may not be looser than the profile's."""
        current = await self.user_limits(user)
        ceiling = current.profile.get(name)
        if value > ceiling:
            raise ValidationError("LIMIT_ABOVE_PROFILE", limit=name.value, value=value, maximum=ceiling)
        personal = current.personal.with_value(name, value)
        async with self._uow() as uow:
            await uow.risk.save_personal_limits(user.id, personal, self._clock.now())
            await uow.commit()
        logger.info("User %s set own %s to %s", user.telegram_id, name, value)
        return await self.user_limits(user)

    async def reset_personal(self, user: User) -> UserLimits:
        """Drop every limit the user tightened: the profile's limits apply again."""
        async with self._uow() as uow:
            await uow.risk.save_personal_limits(user.id, PersonalLimits(), self._clock.now())
            await uow.commit()
        return await self.user_limits(user)

    # -- alerts ------------------------------------------------------------------------

    async def alert_settings(self, user: User) -> AlertSettings:
        async with self._uow(read_only=True) as uow:
            return await uow.risk.alert_settings(user.id) or AlertSettings(user.id)

    async def recent_alerts(self, user: User, limit: int = 10) -> list[RiskAlert]:
        async with self._uow(read_only=True) as uow:
            return await uow.risk.recent_alerts(user.id, limit)

    async def open_alerts(self, user: User) -> list[AlertState]:
        async with self._uow(read_only=True) as uow:
            return await uow.risk.open_alerts(user.id)

    async def alerts_overview(self, user: User, recent_limit: int = 10) -> AlertsOverview:
        """Read the alert settings, the limits broken now and the latest alerts in one unit of work."""
        async with self._uow(read_only=True) as uow:
            settings, open_alerts, recent = await uow.risk.alerts_view(user.id, recent_limit)
        return AlertsOverview(settings or AlertSettings(user.id), open_alerts, recent)

    async def toggle_severity(self, user: User, severity: Severity) -> AlertSettings:
        """Switch one severity on or off; CRITICAL cannot be switched off."""
        settings = await self.alert_settings(user)
        if severity is not Severity.CRITICAL:
            settings.severities = settings.severities ^ {severity}
        return await self._save(settings)

    async def set_quiet_hours(self, user: User, text: str) -> AlertSettings:
        """``22:00-07:00`` in the user's time zone, or ``off``."""
        settings = await self.alert_settings(user)
        if text.strip().lower() in OFF_WORDS:
            settings.quiet_start = settings.quiet_end = None
            return await self._save(settings)
        parts = re.split(r"\s*[-–—]\s*", text.strip())
        if len(parts) != 2:
            raise ValidationError("QUIET_HOURS_INVALID", value=text)
        start, end = (parse_clock_time(part, code="QUIET_HOURS_INVALID", original=text) for part in parts)
        if start == end:
            raise ValidationError("QUIET_HOURS_INVALID", value=text)
        settings.quiet_start, settings.quiet_end = start, end
        return await self._save(settings)

    async def set_report(self, user: User, *, enabled: bool, at: str | None = None) -> AlertSettings:
        settings = await self.alert_settings(user)
        settings.report_enabled = enabled
        if at is not None:
            settings.report_time = parse_clock_time(at, code="REPORT_TIME_INVALID", original=at)
        return await self._save(settings)

    async def _save(self, settings: AlertSettings) -> AlertSettings:
        async with self._uow() as uow:
            await uow.risk.save_alert_settings(settings, self._clock.now())
            await uow.commit()
        return settings


def parse_clock_time(text: str, *, code: str, original: str) -> time:
    match = _CLOCK_TIME.fullmatch(text.strip())
    if match is None:
        raise ValidationError(code, value=original)
    return time(int(match.group(1)), int(match.group(2)))
