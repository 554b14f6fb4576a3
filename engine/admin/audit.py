"""Admin audit trail entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class AuditEntry:
    """One admin action: who did what to whom, and when."""

    id: uuid.UUID
    actor_telegram_id: int
    action: str
    created_at: datetime
    target_telegram_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
