"""Insight rules at their thresholds, and inverse-volatility weights on the recorded returns."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from engine.analytics.insights import InsightCode, InsightInputs, insights
from engine.analytics.rebalance import RebalanceMethod, target_weights
from tests.harness import BotHarness, button_data, plain, register, texts


def codes(inputs: InsightInputs) -> list[InsightCode]:
    return [insight.code for insight in insights(inputs)]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (InsightInputs(), []),
        (InsightInputs(weights={"BTC": 0.31, "ETH": 0.69}), [InsightCode.CONCENTRATED] * 2),
        (InsightInputs(weights={"BTC": 0.30, "ETH": 0.25, "SOL": 0.45}), [InsightCode.CONCENTRATED]),
        (InsightInputs(win_rate=Decimal("0.39"), trades=5), [InsightCode.LOW_WIN_RATE]),
        (InsightInputs(win_rate=Decimal("0.39"), trades=4), []),
        (InsightInputs(win_rate=Decimal("0.40"), trades=50), []),
        (InsightInputs(sharpe=2.01), [InsightCode.HIGH_SHARPE]),
        (InsightInputs(sharpe=2.0), []),
        (InsightInputs(var95=0.051, var_limit=Decimal("0.05")), [InsightCode.VAR_OVER_LIMIT]),
        (InsightInputs(var95=0.05, var_limit=Decimal("0.05")), [InsightCode.VAR_WITHIN_LIMIT]),
        (InsightInputs(var95=0.05), []),
    ],
)
def test_insight_rule_thresholds(inputs: InsightInputs, expected: list[InsightCode]) -> None:
    assert codes(inputs) == expected


def test_insight_warnings_come_before_good_news() -> None:
    found = codes(
        InsightInputs(
            weights={"BTC": 0.5},
            var95=0.01,
            var_limit=Decimal("0.05"),
            win_rate=Decimal("0.2"),
            trades=10,
            sharpe=3.0,
        )
    )

    assert found[-1] is InsightCode.VAR_WITHIN_LIMIT
    assert set(found[:-1]) == {InsightCode.CONCENTRATED, InsightCode.LOW_WIN_RATE, InsightCode.HIGH_SHARPE}


def test_concentrated_assets_are_listed_largest_first() -> None:
    found = insights(InsightInputs(weights={"ETH": 0.35, "BTC": 0.45, "SOL": 0.2}))

    assert [insight.fields["asset"] for insight in found] == ["BTC", "ETH"]


def test_inverse_volatility_weights_follow_sample_deviation(daily_returns: np.ndarray) -> None:
    weights = target_weights(RebalanceMethod.INVERSE_VOLATILITY, daily_returns)

    columns = range(daily_returns.shape[1])
    deviations = np.array([np.std(daily_returns[:, column], ddof=1) for column in columns])
    expected = (1 / deviations) / (1 / deviations).sum()
    assert weights == pytest.approx(expected, rel=1e-12)
    assert weights.sum() == pytest.approx(1.0, rel=1e-12)
    assert int(np.argmax(weights)) == int(np.argmin(deviations))


def test_inverse_volatility_flat_column_equal(daily_returns: np.ndarray) -> None:
    returns = daily_returns[:, :3].copy()
    returns[:, 1] = 0.0

    weights = target_weights(RebalanceMethod.INVERSE_VOLATILITY, returns)

    assert weights == pytest.approx(np.full(3, 1 / 3))


async def test_risk_reply_names_a_concentrated_position(harness: BotHarness) -> None:
    await register(harness, 71, profile="ULTRA_HIGH")
    await harness.press(71, button_data(await harness.send(71, "/buy BTCUSDT 0.08"), "od:ok:"))

    text = plain(texts(await harness.send(71, "/risk"))[0])

    assert "Insights" in text
    assert "BTC is" in text
    assert "of your equity (over 30 %)" in text
