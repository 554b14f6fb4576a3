"""Hand-computed small cases and edge cases: clear None answers, never NaN or a division error."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from engine.analytics import returns as figures
from engine.analytics import var
from engine.analytics.drawdown import max_drawdown, worst_episode
from engine.analytics.performance import calmar_ratio, performance_of_values
from engine.analytics.rebalance import RebalanceMethod, target_weights
from engine.analytics.risk import RiskInputs, compute_risk
from engine.analytics.trades import trade_stats
from engine.orders.models import OrderSide
from engine.portfolio.cost_basis import TradeFill, book_fills

DAY = datetime(2022, 1, 1, tzinfo=UTC)


def test_small_series_by_hand() -> None:
    series = [0.10, -0.05, 0.02]
    assert figures.cumulative_return(series) == pytest.approx(1.10 * 0.95 * 1.02 - 1, rel=1e-12)
    mean = (0.10 - 0.05 + 0.02) / 3
    deviation = math.sqrt(sum((r - mean) ** 2 for r in series) / 2)
    assert figures.sharpe_ratio(series, 365) == pytest.approx(mean / deviation * math.sqrt(365), rel=1e-12)
    downside = math.sqrt(0.05**2 / 3) * math.sqrt(365)
    assert figures.sortino_ratio(series, 365) == pytest.approx(mean * 365 / downside, rel=1e-12)
    assert max_drawdown(series) == pytest.approx(-0.05, rel=1e-12)


def test_historical_var_by_hand() -> None:
    # Sorted: -0.04, -0.03, -0.01, 0.00, 0.02. At 90 %: position 0.1 * 4 = 0.4 between -0.04 and -0.03.
    series = [0.02, -0.01, -0.04, 0.0, -0.03]
    assert var.historical_var(series, 0.90) == pytest.approx(0.036, rel=1e-12)
    # int((5 - 1) * 0.1) = 0: the mean of the single worst return.
    assert var.historical_cvar(series, 0.90) == pytest.approx(0.04, rel=1e-12)
    assert var.historical_var(series, 0.90, horizon_hours=96) == pytest.approx(0.072, rel=1e-12)


def test_drawdown_episode_by_hand() -> None:
    episode = worst_episode([100, 120, 90, 110, 125, 100])
    assert episode is not None
    assert episode.depth == pytest.approx(-0.25)
    assert episode.amount == pytest.approx(30)
    assert (episode.peak_index, episode.trough_index, episode.recovery_index) == (1, 2, 4)
    assert episode.periods == 3


def test_unrecovered_drawdown_lasts_to_the_end() -> None:
    episode = worst_episode([100, 90, 95])
    assert episode is not None
    assert episode.recovery_index is None
    assert episode.periods == 2


@pytest.mark.parametrize("values", [[100.0] * 10, [5.0, 5.0, 5.0]])
def test_flat_series_has_no_ratios(values: list[float]) -> None:
    result = performance_of_values(values, 365)
    assert result.total_return == 0.0
    assert result.volatility == 0.0
    assert result.sharpe is None
    assert result.sortino is None
    assert result.calmar is None
    assert result.max_drawdown == 0.0


def test_one_point_has_no_figures() -> None:
    result = performance_of_values([100.0], 365)
    assert result.periods == 0
    for value in (result.total_return, result.volatility, result.sharpe, result.sortino, result.calmar):
        assert value is None
    assert result.drawdown is None


def test_empty_and_single_returns() -> None:
    assert figures.cumulative_return([]) is None
    assert figures.annual_return([]) is None
    assert figures.annual_volatility([0.01]) is None
    assert figures.sharpe_ratio([0.01]) is None
    assert var.historical_var([]) is None
    assert var.parametric_var([0.01]) is None
    assert max_drawdown([]) is None


def test_all_losses() -> None:
    series = [-0.01, -0.02, -0.03, -0.01]
    assert figures.sortino_ratio(series) is not None and figures.sortino_ratio(series) < 0
    assert calmar_ratio(series) is not None and calmar_ratio(series) < 0
    assert var.historical_var(series, 0.95) > 0


def test_all_gains_have_no_sortino() -> None:
    assert figures.sortino_ratio([0.01, 0.02, 0.03]) is None
    # A negative VaR says the worst quantile is still a gain.
    assert var.historical_var([0.01, 0.02, 0.03], 0.95) < 0


def test_zero_volatility_portfolio() -> None:
    matrix = np.zeros((30, 2))
    result = compute_risk(RiskInputs(matrix, ["BTC", "ETH"], np.array([0.5, 0.5])))
    assert result.var.parametric_var == 0.0
    assert result.volatility == 0.0
    assert result.diversification_ratio is None
    assert all(p.marginal_var is None for p in result.positions)
    assert np.isnan(result.correlation).all()


def test_benchmark_that_never_moves_gives_no_beta() -> None:
    assert figures.beta([0.01, -0.01, 0.02], [0.0, 0.0, 0.0]) is None
    assert figures.correlation([0.01, -0.01, 0.02], [0.0, 0.0, 0.0]) is None


def test_no_history_gives_no_position_figures() -> None:
    result = compute_risk(RiskInputs(np.empty((0, 1)), ["BTC"], np.array([0.5])))
    assert result.var.historical_var is None
    assert result.positions[0].standalone_var is None


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_confidence_outside_zero_and_one_raises(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        var.historical_var([0.01, 0.02], confidence)


def test_equal_weights_when_a_column_never_moves() -> None:
    matrix = np.column_stack([np.zeros(10), np.linspace(-0.01, 0.01, 10)])
    assert target_weights(RebalanceMethod.RISK_PARITY, matrix).tolist() == [0.5, 0.5]


def fill(side: OrderSide, price: str, quantity: str, fee: str, minutes: int, account: uuid.UUID) -> TradeFill:
    return TradeFill(
        account_id=account,
        symbol="BTC/USDT",
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal(fee),
        fee_asset="USDT",
        executed_at=DAY + timedelta(minutes=minutes),
    )


def test_average_cost_and_realized_pnl_include_fees() -> None:
    account = uuid.uuid4()
    books, trades = book_fills(
        [
            fill(OrderSide.BUY, "100", "1", "0.1", 0, account),
            fill(OrderSide.BUY, "200", "1", "0.2", 1, account),
            fill(OrderSide.SELL, "300", "0.5", "0.15", 2, account),
        ]
    )
    book = books[(account, "BTC/USDT")]
    assert book.average_price == Decimal("150.15")
    assert book.quantity == Decimal("1.5")
    # 0.5 * 300 - 0.15 fee - 0.5 * 150.15 average cost
    assert trades[0].realized_pnl == Decimal("74.775")
    assert book.realized_pnl == Decimal("74.775")


def test_sell_without_bought_quantity_is_not_a_trade() -> None:
    account = uuid.uuid4()
    _books, trades = book_fills([fill(OrderSide.SELL, "100", "1", "0.1", 0, account)])
    assert trades == []


def test_trade_statistics() -> None:
    account = uuid.uuid4()
    _books, trades = book_fills(
        [
            fill(OrderSide.BUY, "100", "3", "0", 0, account),
            fill(OrderSide.SELL, "110", "1", "0", 1, account),
            fill(OrderSide.SELL, "90", "1", "0", 2, account),
            fill(OrderSide.SELL, "95", "1", "0", 3, account),
        ]
    )
    stats = trade_stats(trades)
    assert (stats.trades, stats.wins, stats.losses) == (3, 1, 2)
    assert stats.win_rate == Decimal(1) / Decimal(3)
    assert stats.profit_factor == Decimal(10) / Decimal(15)
    assert stats.realized_pnl == Decimal(-5)


def test_no_trades_and_no_losses() -> None:
    empty = trade_stats([])
    assert empty.win_rate is None
    assert empty.profit_factor is None
    account = uuid.uuid4()
    _books, trades = book_fills(
        [fill(OrderSide.BUY, "100", "1", "0", 0, account), fill(OrderSide.SELL, "120", "1", "0", 1, account)]
    )
    assert trade_stats(trades).profit_factor is None
    assert trade_stats(trades).win_rate == Decimal(1)
