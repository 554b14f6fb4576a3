"""Pre-trade checks: every order passes each check before it is stored or sent.

A check returns a CheckResult; a failed one carries a RiskDenied with the
limit's code, the limit, the value the order would reach and the largest
quantity that would pass, so the message to the user is built from fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from engine.accounts.models import Account
from engine.common.money import ZERO, floor_to_step
from engine.errors import RiskDenied
from engine.exchanges.models import BalanceEntry
from engine.market.models import Market
from engine.orders.drafts import OrderEstimate
from engine.orders.models import OrderRequest, OrderSide
from engine.risk.models import PreTradeInputs
from engine.uow import UnitOfWork
from engine.users.models import User


class RiskInputReader(Protocol):
    async def read_inputs(self, uow: UnitOfWork, user: User) -> PreTradeInputs: ...


@dataclass(frozen=True)
class TradeContext:
    user: User
    account: Account
    market: Market
    request: OrderRequest
    estimate: OrderEstimate
    balances: dict[str, BalanceEntry]
    # The protective stop price when one is known (a bracket's stop-loss), for the loss-at-stop figure.
    stop_loss: Decimal | None = None
    # Read with the balances in one transaction when they come from the database (PAPER).
    risk_inputs: PreTradeInputs | None = None

    def free(self, asset: str) -> Decimal:
        entry = self.balances.get(asset)
        return entry.free if entry else ZERO


@dataclass(frozen=True)
class CheckResult:
    name: str
    denial: RiskDenied | None = None
    figures: dict[str, Decimal] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.denial is None


@dataclass(frozen=True)
class PreTradeReport:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def first_denial(self) -> RiskDenied | None:
        return next((result.denial for result in self.results if result.denial), None)


class PreTradeCheck(Protocol):
    name: str

    async def check(self, context: TradeContext) -> CheckResult: ...


class PreTradeChecker:
    """Runs every check in order and reports all results (not only the first failure).

    ``inputs`` reads what the checks need from the database inside a transaction
    the caller has open; without it, or when the caller has none, the checks read it themselves.
    """

    def __init__(self, checks: Sequence[PreTradeCheck], inputs: RiskInputReader | None = None) -> None:
        self._checks = list(checks)
        self._inputs = inputs

    async def read_inputs(self, uow: UnitOfWork, user: User) -> PreTradeInputs | None:
        return await self._inputs.read_inputs(uow, user) if self._inputs is not None else None

    async def run(self, context: TradeContext) -> PreTradeReport:
        return PreTradeReport(tuple([await check.check(context) for check in self._checks]))


class BalanceCheck:
    """The free balance must cover the cost and any fee paid in the spent asset."""

    name = "balance"

    async def check(self, context: TradeContext) -> CheckResult:
        market, estimate, request = context.market, context.estimate, context.request
        if request.side is OrderSide.BUY:
            return self._check_buy(context, market, estimate)
        return self._check_sell(context, market, request)

    def _check_buy(self, context: TradeContext, market: Market, estimate: OrderEstimate) -> CheckResult:
        fee_in_quote = estimate.fee if estimate.fee_asset == market.quote else ZERO
        required = estimate.cost + fee_in_quote
        available = context.free(market.quote)
        figures = {"required": required, "available": available}
        if required <= available:
            return CheckResult(self.name, figures=figures)

        fee_rate = fee_in_quote / estimate.cost if estimate.cost else ZERO
        affordable = available / (estimate.price * (1 + fee_rate)) if estimate.price else ZERO
        denial = RiskDenied(
            "INSUFFICIENT_BALANCE",
            limit_name="available_balance",
            limit=available,
            value=required,
            max_passing=floor_to_step(max(affordable, ZERO), market.amount_step),
            asset=market.quote,
        )
        return CheckResult(self.name, denial=denial, figures=figures)

    def _check_sell(self, context: TradeContext, market: Market, request: OrderRequest) -> CheckResult:
        available = context.free(market.base)
        figures = {"required": request.quantity, "available": available}
        if request.quantity <= available:
            return CheckResult(self.name, figures=figures)

        denial = RiskDenied(
            "INSUFFICIENT_BALANCE",
            limit_name="available_balance",
            limit=available,
            value=request.quantity,
            max_passing=floor_to_step(available, market.amount_step),
            asset=market.base,
        )
        return CheckResult(self.name, denial=denial, figures=figures)
