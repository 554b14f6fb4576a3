"""Numbers laid out by hand read exactly as Babel's format_decimal writes them."""

from __future__ import annotations

from decimal import Decimal, localcontext

from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.formatting import DISPLAY_PRECISION, number
from engine.common.money import strip_zeros
from engine.users.models import SUPPORTED_LANGUAGES

DECIMALS = st.decimals(
    allow_nan=False, allow_infinity=False, places=None, min_value=-(10**15), max_value=10**15
)
SCALED = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**20), 10**20),
    st.integers(-30, 8),
)


def babel(value: Decimal, locale: str, places: int | None) -> str:
    with localcontext() as context:
        context.prec = DISPLAY_PRECISION
        if places is None:
            return format_decimal(
                strip_zeros(value), "#,##0.##################", locale, decimal_quantization=False
            )
        pattern = "#,##0." + "0" * places if places else "#,##0"
        return format_decimal(value, pattern, locale)


@settings(max_examples=400, deadline=None)
@given(
    value=st.one_of(DECIMALS, SCALED),
    locale=st.sampled_from(SUPPORTED_LANGUAGES),
    places=st.sampled_from([None, 0, 2, 8]),
)
def test_number_matches_babel(value: Decimal, locale: str, places: int | None) -> None:
    assert number(value, locale, places) == babel(value, locale, places)


def test_number_edge_cases() -> None:
    cases = [
        Decimal("0"),
        Decimal("-0"),
        Decimal("-0.001"),
        Decimal("0.005"),
        Decimal("0.015"),
        Decimal("1234567.895"),
        Decimal("1E+3"),
        Decimal("1E-25"),
        Decimal("-999.9999"),
        Decimal("100"),
        Decimal("0.10"),
    ]
    for value in cases:
        for locale in SUPPORTED_LANGUAGES:
            for places in (None, 0, 2, 8):
                assert number(value, locale, places) == babel(value, locale, places), (value, locale, places)


def test_number_groups_in_russian() -> None:
    assert number(Decimal("1234567.5"), "ru", 2) == "1\xa0234\xa0567,50"


def test_infinite_numbers_show_as_infinity() -> None:
    # A position with no equity behind it has infinite figures (engine/risk/exposure.py).
    for locale in ("en", "ru"):
        for places in (None, 0, 2):
            assert number(Decimal("Infinity"), locale, places) == "∞"
            assert number(Decimal("-Infinity"), locale, places) == "-∞"
