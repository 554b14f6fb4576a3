"""The VaR limit each risk profile allows, as a fraction of equity (VaR at 95 %, 24 hours).

These are the default profile limits, served by ``ProfileVarLimits`` where no
database is at hand. The bot passes ``engine.risk.service.RiskSettingsService``
instead, which returns the limit in force: the profile's as admins set it, or
the user's own tighter value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from engine.users.models import RiskProfile, User

LIMIT_CONFIDENCE = 0.95
LIMIT_HORIZON_HOURS = 24.0

DEFAULT_VAR95_24H: dict[RiskProfile, Decimal] = {
    RiskProfile.LOW: Decimal("0.02"),
    RiskProfile.MEDIUM: Decimal("0.05"),
    RiskProfile.HIGH: Decimal("0.10"),
    RiskProfile.ULTRA_HIGH: Decimal("0.20"),
}


class VarLimitLookup(Protocol):
    async def var_limit(self, user: User) -> Decimal:
        """Return the largest 95 % 24 h VaR the user may carry, as a fraction of equity."""
        ...


class ProfileVarLimits:
    """The default limit of the user's risk profile."""

    async def var_limit(self, user: User) -> Decimal:
        return DEFAULT_VAR95_24H[user.risk_profile]
