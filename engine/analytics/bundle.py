"""The analytics services a handler may use, built together in ``bot/app.py``."""

from __future__ import annotations

from dataclasses import dataclass

from engine.analytics.performance_service import PerformanceService
from engine.analytics.rebalance_service import RebalanceService
from engine.analytics.risk_service import RiskService
from engine.analytics.scenarios import ScenarioService


@dataclass(frozen=True)
class AnalyticsServices:
    performance: PerformanceService
    risk: RiskService
    rebalancing: RebalanceService
    scenarios: ScenarioService
