"""Historical value at risk of weighted portfolios, for the risk-limit checks and the scan.

The quantile itself is ``engine.analytics.var.historical_var_columns``, the
same function /risk uses; this module builds each portfolio's return series
from the assets' returns and weights, many portfolios in one matrix product.

Convention, the same as ``empyrical.value_at_risk``:

- returns are simple daily returns, ``close[t] / close[t-1] - 1``;
- the portfolio's daily return is the weighted sum of the assets' returns,
  with weights as fractions of equity (a short position has a negative weight,
  and weights need not sum to 1: cash has no return);
- VaR at confidence ``c`` is the loss at the ``1 - c`` quantile of those
  portfolio returns, with numpy's default linear interpolation between order
  statistics, reported as a positive fraction of equity (0.05 = 5 %);
- a horizon of ``h`` days scales the one-day figure by ``sqrt(h)`` (square root
  of time, which assumes independent daily returns);
- a portfolio whose quantile return is a gain has a VaR of 0, never negative.
"""

from __future__ import annotations

import numpy as np

from engine.analytics.var import DAY_HOURS, historical_var_columns

DEFAULT_CONFIDENCE = 0.95


def simple_returns(closes: np.ndarray) -> np.ndarray:
    """Daily simple returns of a close matrix (rows are days, oldest first; one column per asset)."""
    prices = np.asarray(closes, dtype=np.float64)
    if prices.ndim not in (1, 2):
        raise ValueError(f"closes must be 1-D or 2-D, got {prices.ndim} dimensions")
    if len(prices) < 2:
        return prices[:0]
    if np.any(prices <= 0):
        raise ValueError("closes must be positive to compute returns")
    return prices[1:] / prices[:-1] - 1.0


def historical_var(
    returns: np.ndarray,
    weights: np.ndarray,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    horizon_days: float = 1.0,
) -> float:
    """VaR of one portfolio as a positive fraction of equity.

    ``returns`` is a (days, assets) matrix of simple daily returns and
    ``weights`` the (assets,) position values divided by equity.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    vector = np.asarray(weights, dtype=np.float64)
    if vector.ndim != 1:
        raise ValueError(f"weights must be 1-D for one portfolio, got shape {vector.shape}")
    return float(
        historical_var_many(matrix, vector[np.newaxis, :], confidence=confidence, horizon_days=horizon_days)[
            0
        ]
    )


def historical_var_many(
    returns: np.ndarray,
    weights: np.ndarray,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    horizon_days: float = 1.0,
) -> np.ndarray:
    """VaR of many portfolios at once: ``weights`` is (portfolios, assets); returns (portfolios,).

    One matrix product and one quantile call serve every portfolio, which is
    what keeps a scan over thousands of users fast.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    table = np.asarray(weights, dtype=np.float64)
    _check_arguments(matrix, table, confidence, horizon_days)
    if len(table) == 0:
        return np.zeros(0)
    if len(matrix) == 0:
        raise ValueError("VaR needs at least one day of returns")

    portfolio_returns = matrix @ table.T  # (days, portfolios)
    losses = historical_var_columns(
        portfolio_returns, confidence, horizon_hours=horizon_days * DAY_HOURS, period_hours=DAY_HOURS
    )
    return np.maximum(losses, 0.0)


def _check_arguments(matrix: np.ndarray, table: np.ndarray, confidence: float, horizon_days: float) -> None:
    if matrix.ndim != 2:
        raise ValueError(f"returns must be a (days, assets) matrix, got shape {matrix.shape}")
    if table.ndim != 2 or table.shape[1] != matrix.shape[1]:
        raise ValueError(f"weights of shape {table.shape} do not match {matrix.shape[1]} assets")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    if not np.all(np.isfinite(matrix)) or not np.all(np.isfinite(table)):
        raise ValueError("returns and weights must be finite")
