"""Risk limits: defaults per risk profile, admin overrides and a user's own tighter values.

Every limit except leverage is a fraction of equity (0.10 = 10 %); leverage is
a multiple (gross exposure divided by equity). A limit is broken when the value
is strictly greater than it, so an order that reaches a limit exactly passes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import StrEnum

from engine.common.money import parse_positive_decimal
from engine.errors import InvalidNumberError, ValidationError
from engine.users.models import RiskProfile


class LimitName(StrEnum):
    MAX_POSITION = "max_position"
    MAX_ORDER = "max_order"
    MAX_LEVERAGE = "max_leverage"
    MAX_DAILY_LOSS = "max_daily_loss"
    MAX_DRAWDOWN = "max_drawdown"
    MAX_VAR = "max_var"

    @property
    def is_multiple(self) -> bool:
        """Leverage is a multiple of equity; every other limit is a fraction of it."""
        return self is LimitName.MAX_LEVERAGE


# Short names accepted by /limits next to the full ones (``leverage=5``).
LIMIT_ALIASES: dict[str, LimitName] = {
    "position": LimitName.MAX_POSITION,
    "order": LimitName.MAX_ORDER,
    "leverage": LimitName.MAX_LEVERAGE,
    "daily_loss": LimitName.MAX_DAILY_LOSS,
    "drawdown": LimitName.MAX_DRAWDOWN,
    "var": LimitName.MAX_VAR,
    "var95": LimitName.MAX_VAR,
}

MAX_LEVERAGE_CEILING = Decimal(125)  # the highest leverage any supported exchange offers


@dataclass(frozen=True)
class RiskLimits:
    """One complete set of limits; ``max_var`` is the 95 % one-day (24 h) historical VaR."""

    max_position: Decimal
    max_order: Decimal
    max_leverage: Decimal
    max_daily_loss: Decimal
    max_drawdown: Decimal
    max_var: Decimal

    def get(self, name: LimitName) -> Decimal:
        value: Decimal = getattr(self, name.value)
        return value

    def with_value(self, name: LimitName, value: Decimal) -> RiskLimits:
        return replace(self, **{name.value: value})

    def tightened_by(self, personal: PersonalLimits | None) -> RiskLimits:
        """Take the stricter of this and the user's own value of each limit, so a user never loosens one."""
        if personal is None:
            return self
        values = {}
        for name in LimitName:
            own = personal.get(name)
            values[name.value] = min(self.get(name), own) if own is not None else self.get(name)
        return RiskLimits(**values)


@dataclass(frozen=True)
class PersonalLimits:
    """The limits a user tightened for themselves; None keeps the profile's value."""

    max_position: Decimal | None = None
    max_order: Decimal | None = None
    max_leverage: Decimal | None = None
    max_daily_loss: Decimal | None = None
    max_drawdown: Decimal | None = None
    max_var: Decimal | None = None

    def get(self, name: LimitName) -> Decimal | None:
        value: Decimal | None = getattr(self, name.value)
        return value

    def with_value(self, name: LimitName, value: Decimal | None) -> PersonalLimits:
        return replace(self, **{name.value: value})

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, item.name) is None for item in fields(self))


def _limits(position: str, order: str, leverage: str, daily: str, drawdown: str, var: str) -> RiskLimits:
    return RiskLimits(
        max_position=Decimal(position),
        max_order=Decimal(order),
        max_leverage=Decimal(leverage),
        max_daily_loss=Decimal(daily),
        max_drawdown=Decimal(drawdown),
        max_var=Decimal(var),
    )


DEFAULT_LIMITS: dict[RiskProfile, RiskLimits] = {
    RiskProfile.LOW: _limits("0.10", "0.05", "1", "0.02", "0.10", "0.02"),
    RiskProfile.MEDIUM: _limits("0.20", "0.10", "3", "0.05", "0.20", "0.05"),
    RiskProfile.HIGH: _limits("0.35", "0.20", "10", "0.10", "0.35", "0.10"),
    RiskProfile.ULTRA_HIGH: _limits("0.50", "0.35", "20", "0.20", "0.50", "0.20"),
}


def parse_limit_name(text: str) -> LimitName:
    """Accept ``max_position`` or its short form ``position``; raise LIMIT_UNKNOWN otherwise."""
    key = text.strip().lower()
    try:
        return LimitName(key)
    except ValueError:
        pass
    name = LIMIT_ALIASES.get(key)
    if name is None:
        raise ValidationError("LIMIT_UNKNOWN", value=text, known=[item.value for item in LimitName])
    return name


def parse_limit_value(name: LimitName, text: str) -> Decimal:
    """Parse a limit's value: a fraction in (0, 1], or a leverage multiple in [1, 125].

    Raises InvalidNumberError for text that is not a number and ValidationError
    LIMIT_OUT_OF_RANGE (with the range) for a number outside it.
    """
    try:
        value = parse_positive_decimal(text, field="limit")
    except InvalidNumberError as error:
        if error.reason != "not_positive":
            raise
        raise ValidationError(
            "LIMIT_OUT_OF_RANGE", limit=name.value, value=text, **limit_range(name)
        ) from error
    bounds = limit_range(name)
    if not bounds["minimum"] <= value <= bounds["maximum"]:
        raise ValidationError("LIMIT_OUT_OF_RANGE", limit=name.value, value=text, **bounds)
    return value


def limit_range(name: LimitName) -> dict[str, Decimal]:
    if name.is_multiple:
        return {"minimum": Decimal(1), "maximum": MAX_LEVERAGE_CEILING}
    return {"minimum": Decimal("0.0001"), "maximum": Decimal(1)}


def resolve_limits(
    profile: RiskProfile, stored: dict[RiskProfile, RiskLimits], personal: PersonalLimits | None
) -> RiskLimits:
    """Return the limits in force: the profile's (set by an admin, or the defaults) tightened by the user."""
    return stored.get(profile, DEFAULT_LIMITS[profile]).tightened_by(personal)
