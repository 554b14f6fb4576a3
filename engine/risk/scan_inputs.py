"""Inputs the risk scan reads for one user: only the fields it uses, grouped per user by the repository.

The scan reads 10,000 users a minute, so it builds no User or Account objects
for them and parses no timestamp it does not use. A subject's PAPER holdings
arrive as (asset, total) pairs with exact Decimal totals. Accounts on real
exchanges keep the full Account, because their gateways read them.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from engine.accounts.models import Account
from engine.risk.limits import PersonalLimits
from engine.risk.models import AlertSettings, AlertState, AlertType
from engine.users.models import RiskProfile


class MarkFigures(NamedTuple):
    """The stored equity marks of a user, without the time they were written."""

    day: date
    day_start_equity: Decimal
    peak_equity: Decimal


class ScanSubject(NamedTuple):
    """One ACTIVE user, with the fields and records the scan reads."""

    id: uuid.UUID
    telegram_id: int
    language: str
    timezone: str
    risk_profile: RiskProfile
    paper: list[tuple[str, Decimal]]  # (asset, free + locked) of every active PAPER account
    live: list[Account]  # active accounts on real exchanges
    marks: MarkFigures | None
    personal: PersonalLimits | None
    settings: AlertSettings | None
    states: dict[AlertType, AlertState]  # open alert conditions
