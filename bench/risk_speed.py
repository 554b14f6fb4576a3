"""Time a full /risk computation against the same figures from quantstats, and from empyrical.

Usage: ``.venv/bin/pip install -e '.[test,bench]' && .venv/bin/python bench/risk_speed.py [--repeats N]``

Both sides start from the same 790 x 8 matrix of recorded daily closes and
compute: historical and parametric VaR and CVaR, annualised volatility,
diversification ratio, concentration, per-position standalone, marginal and
component VaR, the correlation matrix and the stress scenarios (worst days,
BTC -20 % by beta, market -40 %). The reference sides use the libraries the
way an analyst would, on a pandas DataFrame: quantstats where it has the
figure (VaR, CVaR, volatility, beta) with pandas for the rest, and
empyrical per series with scipy's normal distribution. The script checks
that the sides agree, then writes the median times and the ratios to
docs/benchmarks.md in its own section.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import quantstats
from scipy import stats

from engine.analytics.returns import simple_returns
from engine.analytics.risk import RiskInputs, compute_risk
from engine.analytics.stress import builtin_scenarios
from engine.market.history import DailyHistory

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## Risk computation speed (bench/risk_speed.py)"
CONFIDENCE = 0.95
WEIGHTS = np.array([0.15, 0.1, 0.2, 0.05, 0.15, 0.05, 0.1, 0.1])


def load() -> tuple[np.ndarray, list[str], list]:
    history = DailyHistory()
    symbols = history.symbols()
    end = datetime(2022, 10, 11, tzinfo=UTC)
    closes = history.close_matrix(symbols, end, 10_000)
    days = [opened.date() for opened, _ in history.daily_closes(symbols[0], end, closes.shape[0])]
    return closes, [s.partition("/")[0] for s in symbols], days


def patriot_risk(closes: np.ndarray, assets: list[str], days: list) -> float:
    returns = simple_returns(closes)
    figures = compute_risk(
        RiskInputs(returns, assets, WEIGHTS, CONFIDENCE, days=days[1:], scenarios=builtin_scenarios())
    )
    return figures.var.historical_var or 0.0


def reference_risk(closes: np.ndarray, assets: list[str], days: list) -> float:
    frame = pd.DataFrame(closes, columns=assets, index=pd.to_datetime(days))
    returns = frame.pct_change().dropna()
    weights = pd.Series(WEIGHTS, index=assets)
    portfolio = returns @ weights
    cutoff = 1 - CONFIDENCE

    historical_var = -empyrical.value_at_risk(portfolio, cutoff)
    _historical_cvar = -empyrical.conditional_value_at_risk(portfolio, cutoff)
    mu, sigma = portfolio.mean(), portfolio.std()
    _parametric_var = -stats.norm.ppf(cutoff, mu, sigma)
    _parametric_cvar = -(mu - sigma * stats.norm.pdf(stats.norm.ppf(CONFIDENCE)) / cutoff)
    _volatility = empyrical.annual_volatility(portfolio, annualization=365)

    covariance = returns.cov()
    portfolio_sigma = math.sqrt(weights @ covariance @ weights)
    volatilities = {asset: empyrical.annual_volatility(returns[asset], annualization=365) for asset in assets}
    _diversification = sum(weights[a] * returns[a].std() for a in assets) / portfolio_sigma
    shares = weights / weights.sum()
    _hhi, _largest = float((shares**2).sum()), weights.idxmax()
    z = stats.norm.ppf(CONFIDENCE)
    marginal = -returns.mean() + z * (covariance @ weights) / portfolio_sigma
    _component = weights * marginal
    _standalone = {a: -empyrical.value_at_risk(returns[a] * weights[a], cutoff) for a in assets}
    _correlation = returns.corr()

    btc = returns["BTC"]
    betas = {a: empyrical.beta(returns[a], btc) for a in assets}
    _stress = [float((weights * returns.loc[returns[a].idxmin()]).sum()) for a in assets]
    _stress.append(sum(weights[a] * betas[a] * -0.2 for a in assets))
    _stress.append(float(weights.sum() * -0.4))
    del volatilities
    return float(historical_var)


def quantstats_risk(closes: np.ndarray, assets: list[str], days: list) -> float:
    frame = pd.DataFrame(closes, columns=assets, index=pd.to_datetime(days))
    returns = frame.pct_change().dropna()
    weights = pd.Series(WEIGHTS, index=assets)
    portfolio = returns @ weights
    qs = quantstats.stats

    parametric_var = -qs.value_at_risk(portfolio, confidence=CONFIDENCE)
    _cvar = -qs.conditional_value_at_risk(portfolio, confidence=CONFIDENCE)
    _historical_var = -portfolio.quantile(1 - CONFIDENCE)
    _volatility = qs.volatility(portfolio, periods=365)

    covariance = returns.cov()
    portfolio_sigma = math.sqrt(weights @ covariance @ weights)
    volatilities = {asset: qs.volatility(returns[asset], periods=365) for asset in assets}
    _diversification = sum(weights[a] * returns[a].std() for a in assets) / portfolio_sigma
    shares = weights / weights.sum()
    _hhi, _largest = float((shares**2).sum()), weights.idxmax()
    z = stats.norm.ppf(CONFIDENCE)
    marginal = -returns.mean() + z * (covariance @ weights) / portfolio_sigma
    _component = weights * marginal
    _standalone = {a: -qs.value_at_risk(returns[a] * weights[a], confidence=CONFIDENCE) for a in assets}
    _correlation = returns.corr()

    btc = returns["BTC"]
    betas = {a: qs.greeks(returns[a], btc, periods=365)["beta"] for a in assets}
    _stress = [float((weights * returns.loc[returns[a].idxmin()]).sum()) for a in assets]
    _stress.append(sum(weights[a] * betas[a] * -0.2 for a in assets))
    _stress.append(float(weights.sum() * -0.4))
    del volatilities
    return float(parametric_var)


def patriot_parametric_var(closes: np.ndarray, assets: list[str], days: list) -> float:
    returns = simple_returns(closes)
    figures = compute_risk(RiskInputs(returns, assets, WEIGHTS, CONFIDENCE, days=days[1:]))
    return figures.var.parametric_var or 0.0


def median_seconds(function, arguments: tuple, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(*arguments)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def write_section(text: str) -> None:
    REPORT.parent.mkdir(exist_ok=True)
    current = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    if pattern.search(current):
        updated = pattern.sub(text.rstrip() + "\n", current)
    else:
        updated = current.rstrip() + "\n\n" + text
    REPORT.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    closes, assets, days = load()
    ours, theirs = patriot_risk(closes, assets, days), reference_risk(closes, assets, days)
    assert math.isclose(ours, theirs, rel_tol=1e-9), (ours, theirs)
    ours, theirs = patriot_parametric_var(closes, assets, days), quantstats_risk(closes, assets, days)
    assert math.isclose(ours, theirs, rel_tol=1e-9), (ours, theirs)
    for _ in range(5):  # warm caches and imports on every side
        patriot_risk(closes, assets, days)
        quantstats_risk(closes, assets, days)
        reference_risk(closes, assets, days)

    patriot = median_seconds(patriot_risk, (closes, assets, days), args.repeats)
    with_quantstats = median_seconds(quantstats_risk, (closes, assets, days), args.repeats)
    reference = median_seconds(reference_risk, (closes, assets, days), args.repeats)
    ratio = with_quantstats / patriot
    section = "\n".join(
        [
            SECTION,
            "",
            f"A full /risk computation for {len(assets)} assets x {closes.shape[0]} days of recorded closes "
            "(VaR/CVaR both ways, volatility, diversification, concentration, per-position and component "
            "VaR, correlations, stress scenarios), against the same figures computed with quantstats "
            f"{quantstats.__version__} (pandas for what it lacks) and with empyrical "
            f"{empyrical.__version__}, pandas {pd.__version__} and scipy, in one run, median of "
            f"{args.repeats} runs each.",
            "",
            "| implementation | median time per computation | ratio to PATRIOT |",
            "|---|---|---|",
            f"| PATRIOT (`engine.analytics.risk.compute_risk`, numpy) | {patriot * 1e3:.3f} ms | 1.0x |",
            f"| quantstats + pandas + scipy | {with_quantstats * 1e3:.3f} ms | {ratio:.1f}x |",
            f"| empyrical + pandas + scipy | {reference * 1e3:.3f} ms | {reference / patriot:.1f}x |",
            "",
            f"PATRIOT is **{ratio:.1f}x** faster than quantstats (target: at least 10x).",
            "",
            f"Measured on {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, "
            f"{_cores()} cores, {datetime.now(UTC).date().isoformat()}.",
            "",
        ]
    )
    write_section(section)
    print(section)


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
