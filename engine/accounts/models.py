"""Exchange accounts a user trades through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Exchange(StrEnum):
    PAPER = "PAPER"
    BINANCE = "BINANCE"
    BYBIT = "BYBIT"
    OKX = "OKX"
    MEXC = "MEXC"


@dataclass
class Account:
    """One exchange account of one user. PAPER accounts have no keys."""

    id: uuid.UUID
    user_id: uuid.UUID
    exchange: Exchange
    name: str
    is_testnet: bool
    is_active: bool
    is_default: bool
    created_at: datetime
    updated_at: datetime

    @property
    def is_paper(self) -> bool:
        return self.exchange is Exchange.PAPER
