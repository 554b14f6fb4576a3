"""Rebalancing plans for the default account, sent through the order service after one confirmation.

One confirmation covers the whole plan: the user reads every order with
its side, quantity and value, and a half-done rebalance (sells done, buys
still waiting) is the state to avoid. On Confirm the plan is consumed once,
then each order runs the normal path in turn, sells first: ``preview``
(market rules and pre-trade checks against the balances of that moment,
a draft with its own client order id) and ``confirm`` (the draft is sent
once). Buys are checked only after the sells filled, so their proceeds count.
An order that fails is reported and the rest still run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from engine.analytics.plans import RebalancePlan
from engine.analytics.ports import ReturnHistory
from engine.analytics.rebalance import (
    RebalanceHolding,
    RebalanceMethod,
    RebalanceOrder,
    plan_orders,
    target_weights,
)
from engine.analytics.returns import simple_returns
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.common.money import ZERO
from engine.errors import NotFoundError, PatriotError, TemporaryExchangeError, ValidationError
from engine.exchanges.ports import GatewayProvider
from engine.orders.drafts import DraftStatus
from engine.orders.models import Order, OrderRequest, OrderType
from engine.orders.service import OrderService
from engine.portfolio.models import USD_STABLE, VALUATION_ASSET
from engine.portfolio.valuation import value_account
from engine.uow import UnitOfWorkFactory
from engine.users.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebalanceProposal:
    plan: RebalancePlan
    account_name: str
    current: dict[str, float]  # asset -> share of the assets' total value
    target: dict[str, float]


@dataclass(frozen=True)
class RebalanceOutcome:
    order: RebalanceOrder
    placed: Order | None = None
    error: PatriotError | None = None


class RebalanceService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: GatewayProvider,
        orders: OrderService,
        history: ReturnHistory,
        market_now: Callable[[], datetime],
        clock: Clock,
        *,
        lookback_days: int = 365,
        confirm_ttl: timedelta = timedelta(seconds=60),
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._orders = orders
        self._history = history
        self._market_now = market_now
        self._clock = clock
        self._lookback_days = lookback_days
        self._ttl = confirm_ttl

    async def propose(self, user: User, method: RebalanceMethod) -> RebalanceProposal:
        """Compute and store a plan for the user's default account.

        Raises ValidationError REBALANCE_TOO_FEW_ASSETS when fewer than two
        priced assets with history are held, and TemporaryExchangeError when
        the account cannot be valued now.
        """
        async with self._uow(read_only=True) as uow:
            account = await uow.accounts.get_default(user.id)
        if account is None:
            raise NotFoundError("account")
        valuation = await value_account(self._gateways, account, None, self._clock.now())
        if not valuation.is_live:
            raise TemporaryExchangeError(f"account {account.id} cannot be valued: {valuation.error}")

        known = set(self._history.symbols())
        holdings = [
            RebalanceHolding(h.asset, f"{h.asset}/{VALUATION_ASSET}", h.free, h.price)
            for h in valuation.holdings
            if h.asset not in USD_STABLE and h.price and f"{h.asset}/{VALUATION_ASSET}" in known
        ]
        if len(holdings) < 2:
            raise ValidationError("REBALANCE_TOO_FEW_ASSETS", count=len(holdings))

        symbols = [holding.symbol for holding in holdings]
        closes = self._history.close_matrix(symbols, self._market_now(), self._lookback_days + 1)
        weights = target_weights(
            method, simple_returns(closes) if closes.size else np.empty((0, len(symbols)))
        )
        target = {holding.asset: float(weight) for holding, weight in zip(holdings, weights, strict=True)}
        gateway = await self._gateways.gateway_for(account)
        markets = {symbol: await gateway.market(symbol) for symbol in symbols}
        plan = await self._store(user, account.id, method, plan_orders(holdings, target, markets))

        total = sum((holding.value for holding in holdings), ZERO)
        current = {holding.asset: float(holding.value / total) for holding in holdings}
        logger.info(
            "Rebalancing plan %s (%s) for user %s: %d orders",
            plan.id,
            method,
            user.telegram_id,
            len(plan.orders),
        )
        return RebalanceProposal(plan=plan, account_name=account.name, current=current, target=target)

    async def _store(
        self, user: User, account_id: uuid.UUID, method: RebalanceMethod, orders: list[RebalanceOrder]
    ) -> RebalancePlan:
        now = self._clock.now()
        plan = RebalancePlan(
            id=new_id(),
            user_id=user.id,
            account_id=account_id,
            method=method,
            orders=orders,
            status=DraftStatus.OPEN,
            created_at=now,
            expires_at=now + self._ttl,
        )
        if orders:
            async with self._uow() as uow:
                await uow.analytics.add_plan(plan)
                await uow.commit()
        return plan

    async def confirm(self, user: User, plan_id: uuid.UUID) -> list[RebalanceOutcome]:
        """Consume the plan once and place its orders, sells first; each order's result is returned."""
        plan = await self._close(user, plan_id, DraftStatus.CONFIRMED)
        outcomes = []
        for order in plan.orders:
            request = OrderRequest(
                symbol=order.symbol, side=order.side, type=OrderType.MARKET, quantity=order.quantity
            )
            try:
                preview = await self._orders.preview(user, request, plan.account_id)
                placed = await self._orders.confirm(user, preview.draft.id)
            except PatriotError as error:
                logger.info(
                    "Rebalancing plan %s: %s %s failed: %s", plan.id, order.side, order.symbol, error.code
                )
                outcomes.append(RebalanceOutcome(order, error=error))
                continue
            outcomes.append(RebalanceOutcome(order, placed=placed))
        return outcomes

    async def plan(self, user: User, plan_id: uuid.UUID) -> RebalancePlan:
        """Return the user's plan, whatever its status; another user's id is not found."""
        async with self._uow(read_only=True) as uow:
            plan = await uow.analytics.get_plan_for_user(user.id, plan_id)
        if plan is None:
            raise NotFoundError("plan")
        return plan

    async def cancel(self, user: User, plan_id: uuid.UUID) -> None:
        await self._close(user, plan_id, DraftStatus.CANCELLED)

    async def _close(self, user: User, plan_id: uuid.UUID, target: DraftStatus) -> RebalancePlan:
        async with self._uow() as uow:
            plan = await uow.analytics.get_plan_for_user(user.id, plan_id)
            if plan is None:
                raise NotFoundError("plan")
            if plan.status is not DraftStatus.OPEN:
                raise ValidationError("DRAFT_CLOSED", status=plan.status)
            expired = target is DraftStatus.CONFIRMED and plan.is_expired(self._clock.now())
            plan.status = DraftStatus.EXPIRED if expired else target
            await uow.analytics.update_plan(plan)
            await uow.commit()
        if expired:
            raise ValidationError("DRAFT_EXPIRED")
        return plan
