"""Figures of a static portfolio from candle files: what ``patriot analytics`` prints.

The candle files share the ``timestamp_ms,open,high,low,close,volume``
format of the recorded data. Closes are aligned on the timestamps every file
has, and the portfolio is rebalanced to the given weights every candle. The
same functions as /performance and /risk compute every figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine.analytics.drawdown import values_from_returns
from engine.analytics.performance import PerformanceFigures, performance_of_values
from engine.analytics.returns import HOURS_PER_YEAR, simple_returns
from engine.analytics.risk import RiskFigures, RiskInputs, compute_risk
from engine.market.candles import load_candle_csv


@dataclass(frozen=True)
class PriceFile:
    symbol: str
    path: Path


def price_file(argument: str) -> PriceFile:
    """Read ``SYMBOL=FILE`` or a file named like ``BTC_USDT-1d.csv`` (symbol BTC/USDT)."""
    symbol, separator, path = argument.partition("=")
    if separator:
        return PriceFile(symbol.strip().upper(), Path(path))
    location = Path(argument)
    stem = location.name.split("-")[0].removesuffix(".csv")
    return PriceFile(stem.replace("_", "/").upper(), location)


def load_closes(files: list[PriceFile]) -> tuple[np.ndarray, np.ndarray, float]:
    """Return closes on the shared timestamps (a column per file), their times in ms and the candle hours."""
    series = [load_candle_csv(item.path.resolve(), item.symbol) for item in files]
    intervals = {s.interval for s in series}
    if len(intervals) != 1:
        raise ValueError(
            "the files have different candle intervals: " + ", ".join(sorted(map(str, intervals)))
        )
    interval_ms = int(series[0].interval.total_seconds() * 1000)
    stamps = [int(s.start.timestamp() * 1000) + interval_ms * np.arange(len(s)) for s in series]
    shared = stamps[0]
    for other in stamps[1:]:
        shared = np.intersect1d(shared, other)
    if shared.size < 2:
        raise ValueError("the files share fewer than two timestamps")
    columns = [s.prices[np.searchsorted(t, shared), 3] / 1e8 for s, t in zip(series, stamps, strict=True)]
    return np.column_stack(columns), shared, interval_ms / 3_600_000


def analyze(
    files: list[PriceFile],
    weights: dict[str, float] | None = None,
    *,
    confidence: float = 0.95,
    horizon_hours: float = 24.0,
    periods_per_year: float | None = None,
    benchmark: str | None = None,
) -> dict[str, Any]:
    """Compute the performance and risk figures of the weighted portfolio as a JSON-ready dict."""
    symbols = [item.symbol for item in files]
    closes, stamps, period_hours = load_closes(files)
    chosen = weights or {symbol: 1.0 / len(symbols) for symbol in symbols}
    unknown = sorted(set(chosen) - set(symbols))
    if unknown:
        raise ValueError(f"weights name symbols without a price file: {', '.join(unknown)}")
    vector = np.array([chosen.get(symbol, 0.0) for symbol in symbols])
    yearly = periods_per_year or HOURS_PER_YEAR / period_hours

    returns = simple_returns(closes)
    portfolio = returns @ vector
    comparison = None
    if benchmark is not None:
        if benchmark not in symbols:
            raise ValueError(f"benchmark {benchmark} has no price file")
        comparison = (benchmark, closes[:, symbols.index(benchmark)])
    performance = performance_of_values(values_from_returns(portfolio), yearly, comparison)
    days = [datetime.fromtimestamp(int(ms) / 1000, tz=UTC).date() for ms in stamps[1:]]
    # Stress scenarios name base assets (BTC -20 %), so the risk figures do too.
    bases = [symbol.partition("/")[0] for symbol in symbols]
    names = bases if len(set(bases)) == len(bases) else symbols
    risk = compute_risk(
        RiskInputs(returns, names, vector, confidence, horizon_hours, period_hours, yearly, days=days)
    )
    return {
        "assets": symbols,
        "weights": dict(zip(symbols, vector.tolist(), strict=True)),
        "observations": int(returns.shape[0]),
        "start": _iso(stamps[0]),
        "end": _iso(stamps[-1]),
        "period_hours": period_hours,
        "periods_per_year": yearly,
        "confidence": confidence,
        "horizon_hours": horizon_hours,
        "performance": performance_json(performance),
        "risk": risk_json(risk),
    }


def _iso(milliseconds: int) -> str:
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC).isoformat()


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def performance_json(figures: PerformanceFigures) -> dict[str, Any]:
    episode = figures.drawdown
    result: dict[str, Any] = {
        "total_return": _number(figures.total_return),
        "annual_return": _number(figures.annual_return),
        "volatility": _number(figures.volatility),
        "sharpe": _number(figures.sharpe),
        "sortino": _number(figures.sortino),
        "calmar": _number(figures.calmar),
        "max_drawdown": _number(figures.max_drawdown),
        "max_drawdown_periods": episode.periods if episode else None,
        "max_drawdown_recovered": episode.recovered if episode else None,
    }
    if figures.benchmark is not None:
        result["benchmark"] = {
            "symbol": figures.benchmark.symbol,
            "total_return": _number(figures.benchmark.total_return),
            "alpha": _number(figures.benchmark.alpha),
            "beta": _number(figures.benchmark.beta),
            "correlation": _number(figures.benchmark.correlation),
        }
    return result


def risk_json(figures: RiskFigures) -> dict[str, Any]:
    assets = figures.assets
    return {
        "historical_var": _number(figures.var.historical_var),
        "historical_cvar": _number(figures.var.historical_cvar),
        "parametric_var": _number(figures.var.parametric_var),
        "parametric_cvar": _number(figures.var.parametric_cvar),
        "volatility": _number(figures.volatility),
        "diversification_ratio": _number(figures.diversification_ratio),
        "largest_asset": figures.largest_asset,
        "largest_weight": _number(figures.largest_weight),
        "hhi": _number(figures.hhi),
        "positions": [
            {
                "asset": p.asset,
                "weight": p.weight,
                "volatility": _number(p.volatility),
                "standalone_var": _number(p.standalone_var),
                "marginal_var": _number(p.marginal_var),
                "component_var": _number(p.component_var),
                "contribution": _number(p.contribution),
            }
            for p in figures.positions
        ],
        "correlation": {
            row: {column: _number(float(figures.correlation[i, j])) for j, column in enumerate(assets)}
            for i, row in enumerate(assets)
        },
        "stress": [
            {
                "scenario": s.scenario.name,
                "kind": s.scenario.kind.value,
                "day": s.scenario.day.isoformat() if s.scenario.day else None,
                "portfolio_return": s.portfolio_return,
            }
            for s in figures.stress
        ],
    }
