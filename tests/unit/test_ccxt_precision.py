"""Steps and rounding from ccxt precision, exact in both TICK_SIZE and DECIMAL_PLACES modes."""

from __future__ import annotations

import copy
import decimal
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.exchanges.ccxt.markets import market_from_ccxt
from engine.exchanges.ccxt.precision import amount_text, decimal_from_number, price_text, step_from_precision
from tests.fakes.ccxt_http import recorded_markets

D = Decimal


@pytest.mark.parametrize(
    ("value", "mode", "step"),
    [
        (0.01, TICK_SIZE, D("0.01")),
        (1e-05, TICK_SIZE, D("0.00001")),
        (1e-08, TICK_SIZE, D("0.00000001")),
        (5, TICK_SIZE, D("5")),
        (0.5, TICK_SIZE, D("0.5")),
        (2, DECIMAL_PLACES, D("0.01")),
        (5, DECIMAL_PLACES, D("0.00001")),
        (5.0, DECIMAL_PLACES, D("0.00001")),
        (0, DECIMAL_PLACES, D("1")),
        (None, TICK_SIZE, None),
    ],
)
def test_step_from_precision(value: object, mode: int, step: Decimal | None) -> None:
    assert step_from_precision(value, mode) == step


def test_significant_digits_and_nonsense_are_refused() -> None:
    with pytest.raises(ValueError, match="no fixed step"):
        step_from_precision(4, SIGNIFICANT_DIGITS)
    with pytest.raises(ValueError, match="whole number"):
        step_from_precision(2.5, DECIMAL_PLACES)
    with pytest.raises(ValueError, match="step of 0"):
        step_from_precision(0, TICK_SIZE)


def as_tick_sizes(market: dict) -> dict:
    """The same market with DECIMAL_PLACES precision rewritten as tick sizes."""
    converted = copy.deepcopy(market)
    for key in ("amount", "price"):
        converted["precision"][key] = float(D(1).scaleb(-int(market["precision"][key])))
    return converted


@pytest.mark.parametrize("symbol", ["BTC/USDT", "ETH/USDT", "ADA/USDT", "LTC/USDT", "XRP/USDT", "DOGE/USDT"])
def test_decimal_places_market_equals_its_tick_size_twin(symbol: str) -> None:
    recorded = recorded_markets("binance")[symbol]
    by_places = market_from_ccxt(recorded, DECIMAL_PLACES)
    by_ticks = market_from_ccxt(as_tick_sizes(recorded), TICK_SIZE)
    assert by_places is not None
    assert by_places == by_ticks


def test_binance_recorded_steps_match_its_exchange_filters() -> None:
    recorded = recorded_markets("binance")["BTC/USDT"]
    filters = {f["filterType"]: f for f in recorded["info"]["filters"]}
    market = market_from_ccxt(recorded, DECIMAL_PLACES)
    assert market is not None
    assert market.price_step == D(filters["PRICE_FILTER"]["tickSize"])
    assert market.amount_step == D(filters["LOT_SIZE"]["stepSize"])
    assert market.min_cost == D(filters["NOTIONAL"]["minNotional"])


@pytest.fixture(scope="module")
def twin_clients() -> tuple[object, object]:
    """Two Binance clients over LTC/USDT: one counting decimal places, one tick sizes."""
    recorded = recorded_markets("binance")
    places = ccxt.binance()
    places.precisionMode = DECIMAL_PLACES
    places.set_markets(recorded)
    ticks = ccxt.binance()
    ticks.precisionMode = TICK_SIZE
    ticks.set_markets(
        {
            symbol: as_tick_sizes(m) if m.get("precision", {}).get("amount") is not None else m
            for symbol, m in recorded.items()
        }
    )
    return places, ticks


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=D("0.01"), max_value=D("100000"), places=10, allow_nan=False, allow_infinity=False)
)
def test_rounding_is_the_same_in_both_modes(twin_clients: tuple[object, object], value: Decimal) -> None:
    places, ticks = twin_clients
    assert amount_text(places, "LTC/USDT", value) == amount_text(ticks, "LTC/USDT", value)
    assert price_text(places, "LTC/USDT", value) == price_text(ticks, "LTC/USDT", value)
    amount = D(amount_text(places, "LTC/USDT", value))
    assert amount <= value, "amounts are truncated, never rounded up"
    assert amount % D("0.001") == 0


def test_rounding_leaves_the_decimal_context_alone(twin_clients: tuple[object, object]) -> None:
    places, _ = twin_clients
    before = decimal.getcontext().copy()
    price_text(places, "LTC/USDT", D("55.325"))
    after = decimal.getcontext()
    assert (after.rounding, after.prec, dict(after.traps)) == (
        before.rounding,
        before.prec,
        dict(before.traps),
    )


def test_price_rounds_half_up_and_amount_truncates(twin_clients: tuple[object, object]) -> None:
    places, _ = twin_clients
    assert price_text(places, "LTC/USDT", D("55.325")) == "55.33"
    assert price_text(places, "LTC/USDT", D("55.324")) == "55.32"
    assert amount_text(places, "LTC/USDT", D("0.4239")) == "0.423"


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        (0.1, None, D("0.1")),
        (43000.1, D("0.01"), D("43000.10")),
        (1e-05, None, D("0.00001")),
        (None, None, None),
    ],
)
def test_numbers_from_floats_come_back_exact(
    value: object, step: Decimal | None, expected: Decimal | None
) -> None:
    assert decimal_from_number(value, step) == expected
