"""Formatting analytics figures: floats from numpy become Decimal and are rounded for display only."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.formatting import money, number
from engine.common.money import ZERO
from engine.portfolio.models import VALUATION_ASSET


def to_decimal(value: float | Decimal) -> Decimal:
    """Return the exact Decimal of a float (its shortest repr), or the Decimal itself."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def not_enough_data() -> str:
    return _("not enough data")


def is_shown(value: float | Decimal | None) -> bool:
    return value is not None and (isinstance(value, Decimal) or math.isfinite(value))


def pct(value: float | Decimal | None, locale: str, places: int = 2, signed: bool = False) -> str:
    """A fraction as a percentage (``0.1234`` -> ``12.34 %``); "not enough data" when undefined."""
    if not is_shown(value):
        return not_enough_data()
    assert value is not None
    amount = to_decimal(value) * 100
    text = number(amount, locale, places=places)
    return f"{'+' if signed and amount > ZERO else ''}{text} %"


def ratio(value: float | Decimal | None, locale: str) -> str:
    if not is_shown(value):
        return not_enough_data()
    assert value is not None
    return number(to_decimal(value), locale, places=2)


def usdt(value: Decimal | float, locale: str, signed: bool = False) -> str:
    """An amount in USDT rounded to cents, with ``+`` on gains when ``signed``."""
    amount = to_decimal(value)
    return f"{'+' if signed and amount > ZERO else ''}{money(amount, VALUATION_ASSET, locale)}"


def duration(delta: timedelta) -> str:
    """A time span as days and hours, or hours and minutes under a day."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("{days} d {hours} h").format(days=days, hours=hours)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
