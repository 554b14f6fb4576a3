"""What a preview returns: the stored draft, the checks, and what the bot shows with them."""

from __future__ import annotations

from dataclasses import dataclass

from engine.accounts.models import Account
from engine.orders.drafts import OrderDraft, OrderEstimate
from engine.orders.impact import PriceImpact
from engine.orders.models import Order
from engine.risk.pretrade import PreTradeReport


@dataclass(frozen=True)
class OrderPreview:
    """A stored draft with its pre-trade report and the account it will be sent to."""

    draft: OrderDraft
    report: PreTradeReport
    account: Account
    # Set for market orders when the exchange's book could be read.
    impact: PriceImpact | None = None
    # The order a modification draft changes.
    modifies: Order | None = None


@dataclass(frozen=True)
class Assessment:
    report: PreTradeReport
    estimate: OrderEstimate
    impact: PriceImpact | None
