"""Decimal parsing and step rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.common.money import (
    ceil_to_step,
    floor_to_step,
    is_multiple_of,
    parse_positive_decimal,
    to_canonical,
)
from engine.errors import InvalidNumberError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.01", "0.01"), (" 1 ", "1"), ("0.29", "0.29"), (".5", "0.5"), ("000123.4500", "123.4500")],
)
def test_parse_accepts_plain_decimals(text: str, expected: str) -> None:
    assert parse_positive_decimal(text, field="quantity") == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not_a_number"),
        ("abc", "not_a_number"),
        ("1e-3", "not_a_number"),
        ("1e309", "not_a_number"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("0x10", "not_a_number"),
        ("1 000", "not_a_number"),
        ("0.1+0.2", "not_a_number"),
        ("-1", "not_positive"),
        ("-0", "not_positive"),
        ("0", "not_positive"),
        ("0.000", "not_positive"),
        ("0,5", "comma"),
        ("1" + "0" * 30, "too_large"),
        ("0." + "1" * 100, "too_many_decimals"),
        ("١٢", "not_a_number"),  # Arabic-Indic digits are not accepted as numbers
    ],
)
def test_parse_rejects_with_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidNumberError) as caught:
        parse_positive_decimal(text, field="quantity")
    assert caught.value.reason == reason
    assert caught.value.text == text


@given(st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e12"), places=6, allow_nan=False))
def test_parse_round_trips_canonical_text(value: Decimal) -> None:
    assert parse_positive_decimal(to_canonical(value), field="price") == value


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_invalid_number(text: str) -> None:
    try:
        value = parse_positive_decimal(text, field="quantity")
    except InvalidNumberError:
        return
    assert value > 0 and value.is_finite()


def test_floor_to_step_keeps_exact_multiples() -> None:
    assert floor_to_step(Decimal("0.29"), Decimal("0.01")) == Decimal("0.29")
    assert floor_to_step(Decimal("0.299"), Decimal("0.01")) == Decimal("0.29")
    assert floor_to_step(Decimal("5"), Decimal("0.00001")) == Decimal("5.00000")
    assert ceil_to_step(Decimal("43472.86557"), Decimal("0.01")) == Decimal("43472.87")


@given(
    st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("100000"), places=8, allow_nan=False),
    st.sampled_from([Decimal("0.1"), Decimal("0.01"), Decimal("0.00001"), Decimal("1"), Decimal("0.001")]),
)
def test_floor_to_step_is_a_multiple_not_above_value(value: Decimal, step: Decimal) -> None:
    floored = floor_to_step(value, step)
    assert floored <= value
    assert value - floored < step
    assert is_multiple_of(floored, step)


@pytest.mark.parametrize(
    ("value", "text"),
    [("1.50", "1.5"), ("1E+2", "100"), ("0.00000001", "0.00000001"), ("-0", "0"), ("10", "10")],
)
def test_canonical_text(value: str, text: str) -> None:
    assert to_canonical(Decimal(value)) == text
