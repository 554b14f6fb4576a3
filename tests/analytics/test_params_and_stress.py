"""Argument parsing of /performance and /risk, and stress scenarios."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from engine.analytics.params import Period, parse_benchmark, parse_confidence, parse_horizon, parse_period
from engine.analytics.scenarios import parse_scenario
from engine.analytics.stress import ScenarioKind, StressScenario, apply_scenario, worst_day_scenarios
from engine.errors import ValidationError


@pytest.mark.parametrize(("text", "expected"), [("0.95", 0.95), ("95", 0.95), ("99%", 0.99), ("0.9", 0.9)])
def test_confidence_forms(text: str, expected: float) -> None:
    assert parse_confidence(text) == expected


@pytest.mark.parametrize("text", ["0.5", "0.995", "1", "abc", "-0.95", "0,95", "1e-1"])
def test_confidence_out_of_range_names_the_value(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_confidence(text)
    assert caught.value.code == "CONFIDENCE_INVALID"
    assert caught.value.fields == {"value": text, "minimum": 0.90, "maximum": 0.99}


@pytest.mark.parametrize("text", ["0", "1000", "721", "abc", "1.5", "-3", "٣"])
def test_horizon_out_of_range_names_the_value(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_horizon(text)
    assert caught.value.code == "HORIZON_INVALID"
    assert caught.value.fields["value"] == text


def test_horizon_and_period_forms() -> None:
    assert parse_horizon("720") == 720.0
    assert parse_horizon("48h") == 48.0
    assert parse_period("7d") is Period.D7
    assert Period.ALL.length is None
    assert parse_benchmark("eth") == "ETH/USDT"
    with pytest.raises(ValidationError):
        parse_period("2W")
    with pytest.raises(ValidationError):
        parse_benchmark("DOGE")


def test_scenario_terms_are_percentages() -> None:
    shocks, others = parse_scenario("crash", ["BTC=-30", "eth=-45.5%", "*=-25"])
    assert {k: str(v) for k, v in shocks.items()} == {"BTC": "-0.3", "ETH": "-0.455"}
    assert str(others) == "-0.25"


@pytest.mark.parametrize("term", ["BTC=-100", "BTC=abc", "BTC", "=5", "BTC=1001", "B T C=1"])
def test_bad_scenario_term_is_named(term: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_scenario("crash", [term])
    assert caught.value.code == "SCENARIO_SHOCK_INVALID"


def test_shocks_apply_by_name_beta_or_default() -> None:
    weights = np.array([0.5, 0.3])
    beta_scenario = StressScenario("BTC", ScenarioKind.ASSET_SHOCK, shocks={"BTC": -0.2}, beta_to="BTC")
    result = apply_scenario(beta_scenario, ["BTC", "ETH"], weights, {"BTC": 1.0, "ETH": 1.5})
    assert result.asset_shocks == pytest.approx({"BTC": -0.2, "ETH": -0.3})
    assert result.portfolio_return == pytest.approx(0.5 * -0.2 + 0.3 * -0.3)

    floor = StressScenario("x", ScenarioKind.CUSTOM, others=-3.0)
    assert apply_scenario(floor, ["BTC"], np.array([1.0])).portfolio_return == -1.0


def test_worst_days_sharing_a_date_make_one_scenario() -> None:
    matrix = np.array([[-0.1, -0.2, 0.0], [0.0, 0.01, -0.3]])
    days = [date(2021, 5, 19), date(2021, 5, 20)]
    scenarios = worst_day_scenarios(matrix, ["BTC", "ETH", "SOL"], days)
    assert [(s.name, s.day) for s in scenarios] == [("BTC, ETH", days[0]), ("SOL", days[1])]
    assert scenarios[0].shocks == {"BTC": -0.1, "ETH": -0.2, "SOL": 0.0}
