"""Fitting a bracket to the market: sides, rounding, the split over targets and small slices."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.brackets.figures import bracket_figures
from engine.brackets.models import ExitMode
from engine.brackets.plan import BracketRequest, allocate, fit_plan, open_layout
from engine.errors import ValidationError
from engine.exchanges.paper.markets import PAPER_MARKETS
from engine.orders.models import OrderSide

BTC = PAPER_MARKETS["BTC/USDT"]  # tick 0.01, step 0.00001, minimum cost 5 USDT


def request(**changes: object) -> BracketRequest:
    values: dict[str, object] = {
        "symbol": "BTC/USDT",
        "side": OrderSide.BUY,
        "quantity": D("0.01"),
        "entry_price": None,
        "stop_price": D("42000"),
        "targets": (D("44000"), D("45000"), D("46000")),
        "split": (D(50), D(30), D(20)),
    }
    values.update(changes)
    return BracketRequest(**values)  # type: ignore[arg-type]


def fit(**changes: object):  # type: ignore[no-untyped-def]
    return fit_plan(request(**changes), BTC, D("43000"), ExitMode.NATIVE)


def test_split_sums_exactly_to_the_quantity() -> None:
    plan = fit(quantity=D("0.01007"), split=(D(34), D(33), D(33)))
    sizes = [target.quantity for target in plan.targets]
    assert sizes == [D("0.00343"), D("0.00332"), D("0.00332")]
    assert sum(sizes) == plan.quantity == D("0.01007")


def test_equal_split_by_default_gives_rounding_to_the_nearest_target() -> None:
    plan = fit(split=None)
    assert [target.quantity for target in plan.targets] == [D("0.00334"), D("0.00333"), D("0.00333")]


def test_prices_round_in_the_traders_favour() -> None:
    plan = fit(entry_price=D("42999.999"), stop_price=D("41999.996"), targets=(D("44000.001"),), split=None)
    assert plan.entry_price == D("42999.99")  # a buy's limit rounds down
    assert plan.stop_price == D("42000.00")  # a stop rounds to the nearest tick
    assert plan.targets[0].price == D("44000.01")  # a sell's limit rounds up


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"stop_price": D("43000")}, "BRACKET_STOP_SIDE"),
        ({"targets": (D("42500"),), "split": None}, "BRACKET_TARGET_SIDE"),
        ({"targets": (D("45000"), D("44000")), "split": None}, "BRACKET_TARGET_ORDER"),
        ({"targets": (D("44000"), D("44000")), "split": None}, "BRACKET_TARGET_ORDER"),
        ({"side": OrderSide.SELL}, "BRACKET_STOP_SIDE"),
        ({"side": OrderSide.SELL, "stop_price": D("44000")}, "BRACKET_TARGET_SIDE"),
        ({"split": (D(50), D(50))}, "BRACKET_SPLIT_COUNT"),
        ({"split": (D(50), D(30), D(30))}, "BRACKET_SPLIT_SUM"),
        ({"split": (D(100), D(0), D(0))}, "BRACKET_SPLIT_SUM"),
        ({"targets": (), "split": None}, "BRACKET_TARGET_COUNT"),
        ({"quantity": D("0.000001")}, "QUANTITY_BELOW_MIN"),
        ({"quantity": D("0.0001")}, "BRACKET_TOO_SMALL"),
    ],
)
def test_bad_bracket_is_rejected_with_its_rule(changes: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        fit(**changes)
    assert caught.value.code == code


def test_short_has_stop_above_and_targets_below() -> None:
    plan = fit(side=OrderSide.SELL, stop_price=D("44000"), targets=(D("42000"), D("41000")), split=None)
    assert not plan.is_long
    assert [target.price for target in plan.targets] == [D("42000"), D("41000")]


def test_slices_below_the_minimum_merge_into_nearer_targets() -> None:
    # 0.00013 BTC at the 42000 stop is 5.46 USDT; 0.00004 of it alone would be 1.68 USDT.
    plan = fit(quantity=D("0.00013"), split=(D(40), D(30), D(30)))
    assert [target.quantity for target in plan.targets] == [D("0.00013"), D(0), D(0)]
    assert [(merge.target, merge.into) for merge in plan.merges] == [(3, 2), (2, 1)]


def test_figures_include_both_fees() -> None:
    plan = fit(split=(D(50), D(30), D(20)))
    figures = bracket_figures(plan, D("43000"), D("0.001"), D("10000"))
    assert figures.loss_at_stop == D("0.01") * D(1000) + D("0.01") * D(85000) * D("0.001")
    assert figures.gains[0] == D("0.005") * D(1000) - D("0.005") * D(87000) * D("0.001")
    assert figures.reward_to_risk == figures.total_gain / figures.loss_at_stop
    assert figures.equity_at_risk == figures.loss_at_stop / D(10000)


@given(
    total=st.integers(min_value=1, max_value=10**7),
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=3),
)
def test_allocation_always_sums_exactly(total: int, weights: list[int]) -> None:
    step = D("0.00001")
    quantity = D(total) * step
    slices, _ = allocate(
        quantity, [D(weight) for weight in weights], step, lambda _i, size: size >= D("0.0001")
    )
    assert sum(slices) in (quantity, D(0))
    assert all(size == 0 or size >= D("0.0001") for size in slices)
    assert all(size % step == 0 for size in slices)


@given(
    entered=st.integers(min_value=0, max_value=10**6),
    exited=st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=2),
)
def test_open_layout_covers_exactly_what_is_open(entered: int, exited: list[int]) -> None:
    step = D("0.00001")
    done = [D(value) * step for value in exited]
    entered_quantity = D(entered) * step
    if sum(done) > entered_quantity:
        return  # a bracket never sells more than it bought
    layout = open_layout([D("0.6"), D("0.4")], entered_quantity, done, step, lambda _i, _size: True)
    assert sum(layout) == entered_quantity - sum(done)
    assert all(size >= 0 for size in layout)
