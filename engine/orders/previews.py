"""Preview results: the stored draft, the pre-trade checks, and what the bot shows with them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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
    # The order a modification draft changes, and whether the exchange can
    # amend it in place (False: cancel-replace).
    modifies: Order | None = None
    amend_in_place: bool | None = None
    # The user's maximum slippage, to judge ``impact`` against.
    max_slippage: Decimal | None = None


@dataclass(frozen=True)
class Assessment:
    report: PreTradeReport
    estimate: OrderEstimate
    impact: PriceImpact | None
