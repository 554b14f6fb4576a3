"""A rebalancing plan: orders shown for one confirmation, consumed once, valid for a short time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from engine.analytics.rebalance import RebalanceMethod, RebalanceOrder
from engine.orders.drafts import DraftStatus


@dataclass
class RebalancePlan:
    """Orders for one account; ``status`` moves once from OPEN like an order draft's."""

    id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    method: RebalanceMethod
    orders: list[RebalanceOrder]
    status: DraftStatus
    created_at: datetime
    expires_at: datetime

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
