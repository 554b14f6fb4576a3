"""Localized names of enum values shown to users."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from engine.orders.models import OrderSide, OrderStatus
from engine.users.models import RiskProfile, UserStatus

# Each language's own name for itself, not translated on purpose.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def risk_profile_name(profile: RiskProfile) -> str:
    return {
        RiskProfile.LOW: _("Low"),
        RiskProfile.MEDIUM: _("Medium"),
        RiskProfile.HIGH: _("High"),
        RiskProfile.ULTRA_HIGH: _("Ultra high"),
    }[profile]


def user_status_name(status: UserStatus) -> str:
    return {
        UserStatus.ACTIVE: _("active"),
        UserStatus.SUSPENDED: _("suspended"),
        UserStatus.CLOSED: _("closed"),
        UserStatus.PENDING_VERIFICATION: _("pending verification"),
    }[status]


def side_name(side: OrderSide) -> str:
    return {OrderSide.BUY: _("Buy"), OrderSide.SELL: _("Sell")}[side]


def order_status_name(status: OrderStatus) -> str:
    return {
        OrderStatus.PENDING: _("pending"),
        OrderStatus.NEW: _("open"),
        OrderStatus.PARTIALLY_FILLED: _("partially filled"),
        OrderStatus.FILLED: _("filled"),
        OrderStatus.CANCELLED: _("cancelled"),
        OrderStatus.REJECTED: _("rejected"),
    }[status]
