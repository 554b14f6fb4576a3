"""Arguments of /performance and /risk: periods, benchmarks, confidence and horizon.

Each parser raises ``ValidationError`` with the value and the allowed range,
so the message can name both.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

from engine.errors import ValidationError

MIN_CONFIDENCE, MAX_CONFIDENCE = 0.90, 0.99
MIN_HORIZON_HOURS, MAX_HORIZON_HOURS = 1, 720
BENCHMARKS = {"BTC": "BTC/USDT", "ETH": "ETH/USDT"}
_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?%?$")


class Period(StrEnum):
    H1 = "1H"
    H4 = "4H"
    D1 = "1D"
    D7 = "7D"
    D30 = "30D"
    D90 = "90D"
    Y1 = "1Y"
    ALL = "ALL"

    @property
    def length(self) -> timedelta | None:
        """The window's length, or None for the whole history."""
        return {
            Period.H1: timedelta(hours=1),
            Period.H4: timedelta(hours=4),
            Period.D1: timedelta(days=1),
            Period.D7: timedelta(days=7),
            Period.D30: timedelta(days=30),
            Period.D90: timedelta(days=90),
            Period.Y1: timedelta(days=365),
        }.get(self)


def parse_period(text: str) -> Period:
    try:
        return Period(text.strip().upper())
    except ValueError:
        raise ValidationError("PERIOD_INVALID", value=text, allowed=[p.value for p in Period]) from None


def parse_benchmark(text: str) -> str:
    """Return the benchmark's symbol for ``BTC`` or ``ETH`` (any case, USDT suffix allowed)."""
    key = text.strip().upper().removesuffix("USDT").removesuffix("/")
    symbol = BENCHMARKS.get(key)
    if symbol is None:
        raise ValidationError("BENCHMARK_INVALID", value=text, allowed=sorted(BENCHMARKS))
    return symbol


def parse_confidence(text: str) -> float:
    """Parse ``0.95``, ``95`` or ``95%`` into 0.95; raise CONFIDENCE_INVALID outside 0.90-0.99."""
    cleaned = text.strip()
    if not _NUMBER.match(cleaned):
        raise ValidationError(
            "CONFIDENCE_INVALID", value=text, minimum=MIN_CONFIDENCE, maximum=MAX_CONFIDENCE
        )
    number = float(cleaned.rstrip("%"))
    value = number / 100 if cleaned.endswith("%") or number > 1 else number
    if not MIN_CONFIDENCE <= round(value, 10) <= MAX_CONFIDENCE:
        raise ValidationError(
            "CONFIDENCE_INVALID", value=text, minimum=MIN_CONFIDENCE, maximum=MAX_CONFIDENCE
        )
    return round(value, 10)


def parse_horizon(text: str) -> float:
    """Parse a whole number of hours; raise HORIZON_INVALID outside 1-720."""
    cleaned = text.strip().lower().removesuffix("h")
    if not cleaned.isascii() or not cleaned.isdigit():
        raise ValidationError(
            "HORIZON_INVALID", value=text, minimum=MIN_HORIZON_HOURS, maximum=MAX_HORIZON_HOURS
        )
    hours = int(cleaned)
    if not MIN_HORIZON_HOURS <= hours <= MAX_HORIZON_HOURS:
        raise ValidationError(
            "HORIZON_INVALID", value=text, minimum=MIN_HORIZON_HOURS, maximum=MAX_HORIZON_HOURS
        )
    return float(hours)
