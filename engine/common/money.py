"""Decimal parsing, step rounding and canonical text for money values.

Prices, quantities, balances and fees are ``decimal.Decimal`` from user input
to storage to the message. Floats never carry money.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation

from engine.errors import InvalidNumberError

# Plain decimal notation with ASCII digits only: no sign, no exponent, no
# thousands separators, and no other scripts' digits (Decimal would read "١٢" as 12).
_PLAIN_DECIMAL = re.compile(r"^([0-9]+)(?:\.([0-9]+))?$|^\.([0-9]+)$")

MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_PLACES = 18

ZERO = Decimal(0)
ONE = Decimal(1)


def parse_positive_decimal(text: str, *, field: str) -> Decimal:
    """Parse user text such as ``"0.01"`` into a Decimal greater than zero.

    Raises InvalidNumberError with a reason code (``not_a_number``,
    ``not_positive``, ``too_large``, ``too_many_decimals``, ``comma``) so the
    caller can tell the user what would work.
    """
    value = parse_decimal(text, field=field)
    if value <= ZERO:
        raise InvalidNumberError(field, text, "not_positive")
    return value


def parse_decimal(text: str, *, field: str) -> Decimal:
    """Parse non-negative plain decimal text; see ``parse_positive_decimal``."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise InvalidNumberError(field, text, "not_positive")

    if "," in cleaned and "." not in cleaned and re.fullmatch(r"[0-9]+,[0-9]+", cleaned):
        raise InvalidNumberError(field, text, "comma")

    match = _PLAIN_DECIMAL.match(cleaned)
    if match is None:
        raise InvalidNumberError(field, text, "not_a_number")

    integer_part = match.group(1) or ""
    fraction = match.group(2) or match.group(3) or ""
    if len(integer_part.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise InvalidNumberError(field, text, "too_large")
    if len(fraction) > MAX_DECIMAL_PLACES:
        raise InvalidNumberError(field, text, "too_many_decimals")

    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid text
        raise InvalidNumberError(field, text, "not_a_number") from exc


def decimal_places(value: Decimal) -> int:
    """Count the digits after the point in the value as written (``0.290`` has 3)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def is_multiple_of(value: Decimal, step: Decimal) -> bool:
    """Tell whether ``value`` is an exact multiple of ``step`` (no float division)."""
    return value % step == ZERO


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of step, keeping the step's exponent (0.29 on 0.01 stays 0.29)."""
    units = (value / step).to_integral_value(rounding=ROUND_DOWN)
    return (units * step).quantize(step)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round up to a multiple of step."""
    units = (value / step).to_integral_value(rounding=ROUND_UP)
    return (units * step).quantize(step)


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round half-even to a multiple of step (prices)."""
    units = (value / step).to_integral_value(rounding=ROUND_HALF_EVEN)
    return (units * step).quantize(step)


def to_canonical(value: Decimal) -> str:
    """Return the shortest exact plain text of a Decimal (``1.50`` -> ``1.5``, ``1E+2`` -> ``100``).

    Used for storage and logs. Unlike ``Decimal.normalize`` this never rounds
    to the context precision, so a 40-digit value keeps all its digits.
    Display formatting with grouping lives in the bot.
    """
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    if value == ZERO:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def strip_zeros(value: Decimal) -> Decimal:
    """Drop trailing zeros exactly (``0.2900`` -> ``0.29``), without rounding."""
    return Decimal(to_canonical(value))
