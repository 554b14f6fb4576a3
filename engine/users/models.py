"""Users: identity, status, permissions and preferences."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"
    PENDING_VERIFICATION = "PENDING_VERIFICATION"


class RiskProfile(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    ULTRA_HIGH = "ULTRA_HIGH"


class Permission(StrEnum):
    TRADE = "trade"
    VIEW_PORTFOLIO = "view_portfolio"
    MANAGE_ACCOUNTS = "manage_accounts"
    # Granted by an admin only; Telegram ids in ADMIN_IDS have it implicitly.
    ADMIN = "admin"


DEFAULT_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.TRADE, Permission.VIEW_PORTFOLIO, Permission.MANAGE_ACCOUNTS}
)

# Largest expected price impact of a market order before PATRIOT suggests a TWAP split.
DEFAULT_MAX_SLIPPAGE = Decimal("0.005")
# The most a user may set as their maximum slippage (20 %).
MAX_SLIPPAGE_LIMIT = Decimal("0.2")

SUPPORTED_LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


@dataclass
class User:
    """A registered trader, identified by their Telegram user id."""

    id: uuid.UUID
    telegram_id: int
    username: str
    language: str
    risk_profile: RiskProfile
    status: UserStatus
    created_at: datetime
    updated_at: datetime
    email: str | None = None
    timezone: str = "UTC"
    first_name: str = ""
    permissions: frozenset[Permission] = field(default_factory=lambda: DEFAULT_PERMISSIONS)
    status_reason: str | None = None
    last_seen_at: datetime | None = None
    max_slippage: Decimal = DEFAULT_MAX_SLIPPAGE

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    def can(self, permission: Permission) -> bool:
        """Tell whether the user is active and holds the permission."""
        return self.is_active and permission in self.permissions
