"""Stress scenarios added by admins, as stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.analytics.stress import ScenarioKind, StressScenario


@dataclass(frozen=True)
class StoredScenario:
    """Shocks are fractions (``-0.3`` is -30 %); ``others`` applies to held assets not named."""

    id: uuid.UUID
    name: str
    created_by: int
    created_at: datetime
    shocks: dict[str, Decimal] = field(default_factory=dict)
    others: Decimal | None = None

    def to_stress(self) -> StressScenario:
        return StressScenario(
            name=self.name,
            kind=ScenarioKind.CUSTOM,
            shocks={asset: float(shock) for asset, shock in self.shocks.items()},
            others=float(self.others) if self.others is not None else None,
        )
