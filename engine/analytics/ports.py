"""Ports of the analytics: price history, stored stress scenarios and rebalancing plans."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import numpy as np

from engine.analytics.plans import RebalancePlan
from engine.analytics.scenario_models import StoredScenario


class ReturnHistory(Protocol):
    """Daily closes by symbol (``engine.market.history.DailyHistory`` implements it)."""

    def symbols(self) -> list[str]: ...

    def daily_closes(self, symbol: str, end: datetime, days: int) -> list[tuple[datetime, Decimal]]: ...

    def close_matrix(self, symbols: list[str], end: datetime, days: int) -> np.ndarray: ...


class AnalyticsRepository(Protocol):
    async def list_scenarios(self) -> list[StoredScenario]: ...

    async def get_scenario(self, name: str) -> StoredScenario | None:
        """Find a scenario by name, ignoring case."""
        ...

    async def add_scenario(self, scenario: StoredScenario) -> None: ...

    async def delete_scenario(self, name: str) -> bool:
        """Delete by name ignoring case; return whether one existed."""
        ...

    async def add_plan(self, plan: RebalancePlan) -> None: ...

    async def get_plan_for_user(self, user_id: uuid.UUID, plan_id: uuid.UUID) -> RebalancePlan | None: ...

    async def update_plan(self, plan: RebalancePlan) -> None: ...
